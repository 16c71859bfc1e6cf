"""The layout's helpers (``site`` in templates) make the links that
Pyramid's own URL functions would make, with fewer of their calls."""

from __future__ import annotations

import pytest
from pyramid.request import Request, apply_request_extensions
from pyramid.scripting import prepare

from wingapp.views.page import Page


@pytest.fixture
def page_for(app):
    """A Page for a request into the app at ``path`` with ``environ``."""
    opened = []

    def make(path: str = "/", **environ: str) -> Page:
        env = prepare(
            request=Request.blank(
                path, environ={"HTTP_HOST": "example.com", **environ}
            ),
            registry=app.registry,
        )
        request = env["request"]
        apply_request_extensions(request)
        request.root = env["root"]
        opened.append(env)
        return Page(request)

    yield make
    for env in opened:
        env["request"].tm.abort()
        env["closer"]()


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"SCRIPT_NAME": "/wing"},
        {"HTTP_X_VHM_ROOT": "/users"},
        {"wsgi.url_scheme": "https", "HTTP_HOST": "example.org:8443"},
    ],
)
def test_links_are_the_ones_resource_url_and_static_url_make(page_for, environ):
    page = page_for(**environ)
    request, root = page.request, page.request.root
    for elements in [(), ("login",), ("reset-password",), ("a b", "c/d", "é", "@@x")]:
        assert page.url(*elements) == request.resource_url(root, *elements)
    for path in ["css/wingapp.css", "js/session.js", "favicon.svg"]:
        assert page.static(path) == request.static_url(f"wingapp:static/{path}")


def test_a_link_with_a_query_still_goes_through_resource_url(page_for):
    page = page_for()
    assert page.url("login", query={"next": "/a b"}) == (
        "http://example.com/login?next=%2Fa+b"
    )


def test_the_csrf_token_is_the_sessions(page_for):
    page = page_for()
    token = page.csrf_token()
    assert token == page.request.session.get_csrf_token()
    assert page.csrf_token() == token


def test_showing_no_messages_leaves_the_session_unchanged(page_for):
    page = page_for()
    session = page.request.session
    assert page.flashes() == []
    # Nothing queued a cookie: the response will carry no Set-Cookie.
    assert not page.request.response_callbacks
    session.flash("Saved.")
    assert page.flashes() == ["Saved."]
    assert page.flashes() == []
