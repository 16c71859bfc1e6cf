"""Service lookup per request (wingapp.services) keeps pyramid_services'
meaning: one service per request and arguments, context and name honoured,
a service registered again seen by the next request."""

from __future__ import annotations

from typing import Any

import pytest
from pyramid.config import Configurator
from pyramid.request import Request, apply_request_extensions
from pyramid.scripting import prepare
from pyramid_services import IServiceRegistry, NewServiceContainer
from zope.interface import Interface, implementer

from tests.conftest import use_service
from wingapp import services
from wingapp.interfaces import IClock


class IGreeter(Interface):
    pass


class IPage(Interface):
    pass


@implementer(IPage)
class Page:
    pass


class Other:
    pass


class Made:
    """A service that remembers what it was made for."""

    def __init__(self, kind: str, context: Any, request: Any) -> None:
        self.kind, self.context, self.request = kind, context, request


class Factory:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.calls = 0

    def __call__(self, context: Any, request: Any) -> Made:
        self.calls += 1
        return Made(self.kind, context, request)


def registry_with(*registrations: tuple[Any, ...], listener: Any = None) -> Any:
    config = Configurator()
    config.include("pyramid_services")
    config.include("wingapp.services")
    for factory, iface, kwargs in registrations:
        config.register_service_factory(factory, iface, **kwargs)
    if listener is not None:
        config.add_subscriber(listener, NewServiceContainer)
    config.commit()
    return config.registry


def new_request(registry: Any, context: Any = None) -> Any:
    """A request as the router makes one; ``context`` as traversal sets it."""
    request = Request.blank("/")
    request.registry = registry
    apply_request_extensions(request)
    if context is not None:
        request.context = context
    return request


def test_one_service_per_request_and_a_new_one_for_the_next() -> None:
    factory = Factory("greeter")
    registry = registry_with((factory, IGreeter, {}))

    first = new_request(registry)
    greeter = first.find_service(IGreeter)
    assert first.find_service(IGreeter) is greeter
    # Registered without a context: the same service whatever the context.
    first.context = Page()
    assert first.find_service(IGreeter) is greeter
    assert first.find_service(IGreeter, context=Other()) is greeter
    assert factory.calls == 1
    assert (greeter.context, greeter.request) == (None, first)

    second = new_request(registry, context=Page())
    again = second.find_service(IGreeter)
    assert again is not greeter
    assert again.request is second
    assert second.find_service(IGreeter, context=None) is again
    assert factory.calls == 2


def test_a_context_registration_is_used_for_its_context_only() -> None:
    general, for_pages = Factory("general"), Factory("page")
    registry = registry_with(
        (general, IGreeter, {}), (for_pages, IGreeter, {"context": IPage})
    )
    page, other_page = Page(), Page()
    request = new_request(registry, context=page)

    on_page = request.find_service(IGreeter)
    assert (on_page.kind, on_page.context) == ("page", page)
    assert request.find_service(IGreeter, context=page) is on_page
    # One per context object, as wired keeps them.
    on_other_page = request.find_service(IGreeter, context=other_page)
    assert (on_other_page.kind, on_other_page.context) == ("page", other_page)
    elsewhere = request.find_service(IGreeter, context=Other())
    assert (elsewhere.kind, elsewhere.context) == ("general", None)
    assert request.find_service(IGreeter, context=None) is elsewhere
    assert (general.calls, for_pages.calls) == (1, 2)


def test_names_choose_between_registrations() -> None:
    plain, named = Factory("plain"), Factory("named")
    registry = registry_with(
        (plain, IGreeter, {}), (named, IGreeter, {"name": "formal"})
    )
    request = new_request(registry)

    assert request.find_service(IGreeter).kind == "plain"
    assert request.find_service(IGreeter, name="formal").kind == "named"
    with pytest.raises(LookupError, match="could not find registered service"):
        request.find_service(IGreeter, name="casual")
    with pytest.raises(LookupError, match="could not find registered service"):
        request.find_service(IPage)


def test_a_service_registered_again_is_what_the_next_request_gets() -> None:
    registry = registry_with((Factory("first"), IGreeter, {}))
    before = new_request(registry)
    assert before.find_service(IGreeter).kind == "first"

    replacement = Made("replacement", None, None)
    use_service(registry, replacement, IGreeter)

    assert new_request(registry).find_service(IGreeter) is replacement
    # A request already under way keeps what it found.
    assert before.find_service(IGreeter).kind == "first"


def test_the_app_uses_it_and_sees_a_test_double(app: Any) -> None:
    double = object()
    use_service(app.registry, double, IClock)
    env = prepare(registry=app.registry)
    try:
        request = env["request"]
        assert request.find_service.__func__ is services.find_service
        assert request.find_service(IClock) is double
    finally:
        env["closer"]()


def test_a_class_as_interface_goes_through_the_container() -> None:
    factory = Factory("by class")
    registry = registry_with((factory, Made, {}))
    request = new_request(registry)

    made = request.find_service(Made)
    assert made.kind == "by class"
    assert request.find_service(Made) is made
    assert factory.calls == 1


def test_a_container_listener_still_adds_its_services() -> None:
    heard = []

    def listener(event: NewServiceContainer) -> None:
        heard.append(event.request)
        event.container.register_singleton("per request", IPage)

    factory = Factory("greeter")
    registry = registry_with((factory, IGreeter, {}), listener=listener)
    request = new_request(registry)

    assert request.find_service(IPage) == "per request"
    greeter = request.find_service(IGreeter)
    assert request.find_service(IGreeter) is greeter
    assert (heard, factory.calls) == ([request], 1)


def test_a_factory_put_in_the_registry_directly_gets_a_container() -> None:
    registry = registry_with()
    registry.getUtility(IServiceRegistry).register_factory(
        lambda container: ("from the container", container.context), IGreeter
    )
    request = new_request(registry)

    assert request.find_service(IGreeter) == ("from the container", None)
