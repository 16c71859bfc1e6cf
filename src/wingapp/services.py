"""``request.find_service`` without a service container per request.

pyramid_services answers every lookup through a ``wired`` container that it
builds for each request: a new adapter registry for the request, another
for each context asked about (with a weak-reference finalizer), the event
``NewServiceContainer``, and several adapter lookups per call. Profiled on
the signed-in user page, that was about a quarter of the request.

This lookup keeps pyramid_services' meaning and its registrations (they
stay in the ``wired.ServiceRegistry`` that ``register_service`` and
``register_service_factory`` fill), and changes only the path:

- a per-request dict answers a repeated lookup with one key lookup;
- on a miss, the factory is found in the registry as wired finds it (by
  interface, the context's interfaces and name) and called directly with
  ``(context, request)``, as pyramid_services' own proxy would call it;
- a factory registered without a context makes one service shared by every
  context of the request, as wired does by looking it up again for
  ``None``;
- the registry is read on every miss, so a service registered again while
  the app runs (a test's double) is what the next request gets.

The container is still what answers when it has work to do that this path
would skip: something listens for ``NewServiceContainer`` (to add services
of its own to the container), the interface is a class (wired makes an
interface for it), or a factory was put in the registry other than through
pyramid_services. ``request.services`` still exists, with a cache of its own.
"""

from __future__ import annotations

from typing import Any

from pyramid.interfaces import IRequestExtensions
from pyramid_services import IServiceRegistry, NewServiceContainer, ProxyFactory
from wired.container import IServiceFactory
from zope.interface import Interface, implementedBy, providedBy
from zope.interface.interfaces import IInterface

# Where a request keeps the services it has found: in its own __dict__, so
# the cache dies with the request and no request sees another's services.
CACHE = "wingapp.services"
_DEFAULT = object()
_CONTAINER_EVENT = (implementedBy(NewServiceContainer),)


def find_service(
    request: Any, iface: Any = Interface, context: Any = _DEFAULT, name: str = ""
) -> Any:
    """The service for ``iface`` (and ``context``, ``name``), at most one
    per request for the same arguments; raises ``LookupError`` when none is
    registered."""
    if context is _DEFAULT:
        context = getattr(request, "context", None)
    return _entry(request, iface, context, name)[0]


def _entry(request: Any, iface: Any, context: Any, name: str) -> tuple[Any, Any]:
    found = request.__dict__.get(CACHE)
    if found is None:
        found = request.__dict__[CACHE] = {}
    # Keyed by the context's id: contexts need not be hashable. The entry
    # holds the context too, so no other object can take that id while the
    # request lasts.
    key = (iface, name, id(context))
    entry = found.get(key)
    if entry is None:
        entry = found[key] = _make(request, iface, context, name)
    return entry


def _make(request: Any, iface: Any, context: Any, name: str) -> tuple[Any, Any]:
    info = _direct_factory(request.registry, iface, context, name)
    if info is None:
        # The container's answer, or its LookupError when nothing matches.
        return request.services.get(iface, context=context, name=name), context
    if context is not None and not info.wants_context:
        return _entry(request, iface, None, name)[0], context
    return info.factory.factory(context, request), context


def _direct_factory(registry: Any, iface: Any, context: Any, name: str) -> Any:
    """wired's record of the factory, when calling it directly means the
    same as going through a container; otherwise ``None``."""
    if not IInterface.providedBy(iface):
        return None
    if registry.adapters.subscriptions(_CONTAINER_EVENT, None):
        return None
    factories = registry.getUtility(IServiceRegistry)._factories
    info = factories.lookup(
        (IServiceFactory, providedBy(context)), iface, name=name, default=None
    )
    if info is None or not isinstance(info.factory, ProxyFactory):
        return None
    return info


def includeme(config: Any) -> None:
    """Put :func:`find_service` in the place of pyramid_services' own.

    Adding a request method of the same name would conflict with the one
    pyramid_services adds; an action ordered after it replaces it instead.
    """

    def replace() -> None:
        config.registry.getUtility(IRequestExtensions).methods["find_service"] = (
            find_service
        )

    config.action(("wingapp.services", "find_service"), replace, order=1)
