"""What the domains register with the core: containers, evolve steps and
helpers for the layout.

Each domain's ``includeme`` calls ``config.add_container(...)`` and
``config.add_evolve_step(...)``; the core builds a new tree, brings an old
one up to date and draws the navigation from what was registered, without
importing any domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zope.interface import Interface

from .permissions import ADMIN_BROWSE


@dataclass(frozen=True)
class ContainerType:
    name: str
    """Its name under the root, and so its URL segment."""
    factory: Callable[..., Any]
    """Called with ``title=`` to make an empty container."""
    title: str
    order: int
    """Its place in the navigation, smallest first."""
    permission: str
    """Who sees it in the navigation."""


@dataclass(frozen=True)
class Step:
    generation: int
    description: str
    run: Callable[[Any], None]


class IContainerTypes(Interface):
    """The registered containers, a dict name -> ContainerType."""


class IEvolveSteps(Interface):
    """The registered evolve steps, a dict generation -> Step."""


def _registered(registry: Any, iface: Any) -> dict:
    found = registry.queryUtility(iface)
    if found is None:
        found = {}
        registry.registerUtility(found, iface)
    return found


def add_container(
    config: Any,
    name: str,
    factory: Callable[..., Any],
    title: str,
    order: int = 100,
    permission: str = ADMIN_BROWSE,
) -> None:
    """Register a container the root holds under ``name``."""
    container = ContainerType(name, factory, title, order, permission)

    def register() -> None:
        _registered(config.registry, IContainerTypes)[name] = container

    # Two domains claiming one name is a configuration conflict.
    config.action(("wingapp:container", name), register)


def add_evolve_step(
    config: Any, generation: int, description: str, run: Callable[[Any], None]
) -> None:
    """Register the data migration that brings the tree to ``generation``."""
    step = Step(generation, description, run)

    def register() -> None:
        _registered(config.registry, IEvolveSteps)[generation] = step

    config.action(("wingapp:evolve", generation), register)


class ILayoutExtras(Interface):
    """Helpers the domains give every page's layout, a dict name -> factory."""


def add_layout_extra(config: Any, name: str, factory: Callable[[Any], Any]) -> None:
    """Give the layout ``site.helper(name)``: ``factory(request)``, made
    once a page (the users domain gives the session's timing this way)."""

    def register() -> None:
        _registered(config.registry, ILayoutExtras)[name] = factory

    config.action(("wingapp:layout-extra", name), register)


def layout_extra(registry: Any, name: str) -> Callable[[Any], Any] | None:
    return (registry.queryUtility(ILayoutExtras) or {}).get(name)


def containers(registry: Any) -> list[ContainerType]:
    """The registered containers in navigation order."""
    found = registry.queryUtility(IContainerTypes) or {}
    return sorted(found.values(), key=lambda c: (c.order, c.name))


def evolve_steps(registry: Any) -> list[Step]:
    """The registered steps, oldest generation first."""
    found = registry.queryUtility(IEvolveSteps) or {}
    return [found[g] for g in sorted(found)]


def includeme(config: Any) -> None:
    config.add_directive("add_container", add_container)
    config.add_directive("add_evolve_step", add_evolve_step)
    config.add_directive("add_layout_extra", add_layout_extra)
