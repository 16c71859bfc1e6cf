"""Every URL the app makes when it is mounted under a sub-path (mod_wsgi's
``WSGIScriptAlias /wing``: SCRIPT_NAME) or given a virtual root by a proxy
(``X-Vhm-Root``): links, forms, static files, redirects, listings, JSON."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import webtest

from tests.accounts import PASSWORD, add_user

HOST = "example.com"
MOUNT = "/wing"
BASE = f"http://{HOST}{MOUNT}/"
JSON = {"Accept": "application/json"}


class URLs(HTMLParser):
    """Every URL in a page: href, src, form action, data-*-url."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name in ("href", "src", "action") or name.endswith("-url")):
                self.found.append(value)


def urls_in(page) -> list[str]:
    parser = URLs()
    parser.feed(page.text)
    return parser.found


def assert_all_under(page, base: str = BASE) -> list[str]:
    """Every URL of ``page`` is under ``base`` (or an in-page #fragment)."""
    found = urls_in(page)
    assert found, "the page has no links at all"
    wrong = [u for u in found if not (u.startswith(base) or u.startswith("#"))]
    assert not wrong, f"URLs outside {base}: {wrong}"
    return found


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


@pytest.fixture
def wing(app):
    """A browser talking to the app mounted at /wing."""
    add_user(app, "alice")
    add_user(app, "root", roles=("user", "admin"))
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST, "SCRIPT_NAME": MOUNT})


def sign_in(browser, login, **kw):
    form = browser.get("/login", **kw).forms["login-form"]
    assert form.action == BASE + "login"
    form["login"] = login
    form["password"] = PASSWORD
    return form.submit(**kw)


def test_home_page_links_stay_under_the_mount(wing):
    page = wing.get("/")
    found = assert_all_under(page)
    assert BASE + "static/css/wingapp.css" in found
    assert BASE in found
    assert BASE + "login" in found


def test_static_files_under_the_mount(wing):
    css = wing.get("/static/css/wingapp.css")
    assert css.content_type == "text/css"


def test_sign_in_redirects_and_pages_under_the_mount(wing):
    response = sign_in(wing, "alice")
    assert response.status_int == 303
    assert response.location == BASE + "users/alice/"
    page = response.follow()
    assert "<h1>alice</h1>" in page.text
    found = assert_all_under(page)
    assert BASE + "users/alice/password" in found
    assert BASE + "logout" in found
    assert BASE + "ping" in found


def test_sign_out_redirects_under_the_mount(wing):
    page = sign_in(wing, "alice").follow()
    response = page.forms["signout-form"].submit()
    assert response.status_int == 303
    assert response.location.startswith(BASE)
    assert_all_under(response.follow())


def test_forbidden_page_sends_to_sign_in_and_back_under_the_mount(wing):
    response = wing.get("/users/")
    assert response.status_int == 303
    login = urlsplit(response.location)
    assert f"http://{login.netloc}{login.path}" == BASE + "login"
    assert parse_qs(login.query) == {"next": [f"{MOUNT}/users/"]}

    form = response.follow().forms["login-form"]
    form["login"] = "root"
    form["password"] = PASSWORD
    after = form.submit()
    assert after.location == BASE + "users/"


def test_folder_listing_links_under_the_mount(wing):
    sign_in(wing, "root")
    listing = wing.get("/users/", params={"limit": 1})
    found = assert_all_under(listing)
    assert BASE + "users/alice/@@admin" in found
    assert any(u.startswith(BASE + "users/?") and "cursor=" in u for u in found)
    data = wing.get("/users/", headers=JSON).json
    assert data["url"] == BASE + "users/"
    assert {item["url"] for item in data["items"]} == {
        BASE + "users/alice/",
        BASE + "users/root/",
    }


def test_json_urls_under_the_mount(wing):
    assert wing.get("/", headers=JSON).json["url"] == BASE


def test_not_found_page_links_under_the_mount(wing):
    assert_all_under(wing.get("/no-such-thing", status=404))


# A proxy that maps a host onto part of the tree sends X-Vhm-Root; Pyramid
# then traverses from there and leaves that part out of resource URLs.
VROOT = {"X-Vhm-Root": "/users"}


def test_virtual_root_listing_and_user_pages(wing):
    sign_in(wing, "root")
    listing = wing.get("/", headers=VROOT)
    assert "<h1>Users</h1>" in listing.text
    found = urls_in(listing)
    assert BASE + "alice/@@admin" in found
    assert BASE + "static/css/wingapp.css" in found
    data = wing.get("/", headers={**VROOT, **JSON}).json
    assert data["url"] == BASE
    assert BASE + "alice/" in {item["url"] for item in data["items"]}

    page = wing.get("/alice/", headers=VROOT)
    assert "<h1>alice</h1>" in page.text
    assert BASE + "alice/activity" in urls_in(page)
    assert wing.get("/static/css/wingapp.css", headers=VROOT).content_type == "text/css"


def test_virtual_root_layout_links_to_the_containers(wing):
    sign_in(wing, "root")
    listing = wing.get("/", headers=VROOT)
    assert BASE + "users/" not in urls_in(listing)
