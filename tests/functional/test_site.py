"""The foundation through the whole WSGI stack: tree, JSON, errors, headers."""

from __future__ import annotations

import pytest
import webtest
from pyramid.httpexceptions import HTTPBadRequest

from wingapp import main

JSON = {"Accept": "application/json"}


def test_home_page_in_the_layout(testapp):
    page = testapp.get("/")
    assert page.status_int == 200
    assert page.content_type == "text/html"
    assert "<h1>wingapp</h1>" in page.text
    assert 'href="http://example.com/static/css/wingapp.css"' in page.text
    # Signed-out visitors are not offered the admin containers.
    assert "/users/" not in page.text


def test_home_as_json(testapp):
    data = testapp.get("/", headers=JSON).json
    assert data == {"type": "root", "title": "wingapp", "url": "http://example.com/"}


def test_browsers_and_curl_get_html(testapp):
    assert testapp.get("/", headers={"Accept": "*/*"}).content_type == "text/html"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert testapp.get("/", headers={"Accept": browser}).content_type == "text/html"


def test_unknown_name_is_a_404_in_the_layout(testapp):
    page = testapp.get("/no-such-name", status=404)
    assert "<title>Not found · wingapp</title>" in page.text
    assert 'class="site-header"' in page.text
    assert "There is nothing at this address" in page.text


def test_unknown_name_is_a_404_in_json(testapp):
    data = testapp.get("/no-such-name", headers=JSON, status=404).json
    assert data["status"] == 404
    assert data["error"] == "Not found"


@pytest.mark.parametrize("name", ["users", "codes", "reports"])
def test_containers_send_anonymous_visitors_to_sign_in(testapp, name):
    page = testapp.get(f"/{name}/?page=2", status=303)
    assert page.location == f"http://example.com/login?next=%2F{name}%2F%3Fpage%3D2"
    # A program is told to sign in first: who asks is not known yet.
    data = testapp.get(f"/{name}/", headers=JSON, status=401).json
    assert data["status"] == 401


def test_security_headers_on_pages_and_errors(testapp):
    for response in (testapp.get("/"), testapp.get("/nope", status=404)):
        headers = response.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers


def test_hsts_over_https(testapp):
    response = testapp.get("/", extra_environ={"wsgi.url_scheme": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_stylesheet_is_served_locally(testapp):
    css = testapp.get("/static/css/wingapp.css")
    assert css.content_type == "text/css"
    assert "@media" in css.text


def test_unexpected_error_is_a_500_page_without_traceback(settings, caplog):
    from wingapp.interfaces import IRoot

    def broken(context, request):
        raise RuntimeError("internal detail")

    def refuses(context, request):
        raise HTTPBadRequest("Give the name of a fruit.")

    app = main({}, **settings)
    # Register a failing view the way a plug-in would, then rebuild the app.
    from pyramid.config import Configurator

    config = Configurator(registry=app.registry)
    config.add_view(broken, context=IRoot, name="broken")
    config.add_view(refuses, context=IRoot, name="refuses")
    config.commit()
    testapp = webtest.TestApp(app)
    page = testapp.get("/broken", status=500)
    assert "Something went wrong" in page.text
    assert "internal detail" not in page.text
    assert "Traceback" not in page.text
    assert "internal detail" in caplog.text
    data = testapp.get("/broken", headers=JSON, status=500).json
    assert data["status"] == 500
    page = testapp.get("/refuses", status=400)
    assert "Give the name of a fruit." in page.text
    assert testapp.get("/refuses", headers=JSON, status=400).json == {
        "error": "Bad Request",
        "status": 400,
        "message": "Give the name of a fruit.",
    }
    app.registry._zodb_databases[""].close()


def test_state_changing_request_without_csrf_token_is_refused(testapp):
    page = testapp.post("/", {"x": "1"}, status=400)
    assert "Form expired" in page.text
    assert "Reload the page and try again" in page.text
    assert "Traceback" not in page.text
