"""The app makes every request of one class that already holds the
properties its configuration added, rather than a new class per request;
requests made elsewhere (commands, tests) still get the same properties."""

from __future__ import annotations

from pyramid.events import NewRequest
from pyramid.interfaces import INewRequest
from pyramid.request import Request, apply_request_extensions

PROPERTIES = ("sign_in", "signed_in_user", "tm", "services")


def test_every_request_the_app_serves_is_of_one_class_with_the_properties(app, testapp):
    seen = []

    def record(event: NewRequest) -> None:
        seen.append(event.request)

    app.registry.registerHandler(record, (INewRequest,))
    testapp.get("/login")
    testapp.get("/")
    assert len(seen) == 2
    assert type(seen[0]) is type(seen[1]) is app.request_factory
    for name in PROPERTIES:
        assert name in vars(app.request_factory), name
    # The properties work as before: nobody is signed in on either.
    assert seen[0].signed_in_user is None
    assert seen[1].sign_in is None


def test_a_request_made_outside_the_app_still_gets_the_properties(app):
    request = Request.blank("/", environ={"HTTP_HOST": "example.com"})
    request.registry = app.registry
    apply_request_extensions(request)
    for name in PROPERTIES:
        assert hasattr(type(request), name), name
    assert type(request) is not app.request_factory
