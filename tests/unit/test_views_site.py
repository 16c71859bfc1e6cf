"""Site views called directly, as an admin, through a test security policy."""

from __future__ import annotations

import threading

import pytest
from pyramid import testing
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.request import apply_request_extensions
from webob.multidict import MultiDict

from wingapp.folder import Folder
from wingapp.renderers import json_renderer_factory
from wingapp.resources import bootstrap, make_root
from wingapp.views.folder import FolderViews
from wingapp.views.home import home, home_json


class Thing:
    pass


@pytest.fixture
def root(app):
    root = make_root(app.registry)
    for i in range(45):
        root["users"].add(f"user{i:02d}", Thing())
    return root


def as_admin(config, **params):
    config.testing_securitypolicy(userid="admin", permissive=True)
    request = testing.DummyRequest(params=MultiDict(params))
    apply_request_extensions(request)
    return request


def test_listing_pages_and_sorts(config, root):
    request = as_admin(config, limit="20", order_by="-name")
    data = FolderViews(root["users"], request).json()
    assert (data["length"], data["limit"], data["order_by"]) == (45, 20, "-name")
    assert [i["name"] for i in data["items"]][:2] == ["user44", "user43"]
    assert data["items"][0] == {
        "name": "user44",
        "type": "thing",
        "url": "http://example.com/users/user44/",
    }
    assert data["next_cursor"]


def test_listing_html_offers_page_links(config, root):
    request = as_admin(config, limit="20")
    data = FolderViews(root["users"], request).html()
    assert len(data["items"]) == 20
    assert data["order_url"]("-name") == (
        "http://example.com/users/?limit=20&order_by=-name"
    )
    assert "cursor=" in data["next_url"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"order_by": "age"}, "order_by"),
        ({"page": "2"}, "page"),
    ],
)
def test_bad_listing_parameters_are_a_400_naming_them(config, root, params, named):
    request = as_admin(config, **params)
    with pytest.raises(HTTPBadRequest, match=f"Bad query parameters: {named}"):
        FolderViews(root["users"], request).json()


def test_empty_folder_has_one_page(config):
    folder = Folder()
    data = FolderViews(folder, as_admin(config)).json()
    assert (data["length"], data["items"], data["next_cursor"]) == (0, [], None)


def test_home_json_lists_containers_for_admins(config, root):
    request = as_admin(config)
    data = home_json(root, request)
    assert [c["name"] for c in data["containers"]] == ["codes", "reports", "users"]
    assert data["containers"][2]["length"] == 45
    assert data["generation"] == root.generation
    assert home(root, request) == {"title": "wingapp"}


def test_json_renderer_keeps_an_explicit_content_type():
    render = json_renderer_factory(None)
    request = testing.DummyRequest()
    request.response.content_type = "application/problem+json"
    assert render({"a": 1}, {"request": request}) == b'{"a":1}'
    assert request.response.content_type == "application/problem+json"
    assert render([1], {}) == b"[1]"


def test_bootstrap_creates_the_tree_only_once(app, db):
    # The app fixture has bootstrapped this database already.
    assert bootstrap(db, app.registry) is False


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (43200, "12 hours"),
        (3600, "1 hour"),
        (1800, "30 minutes"),
        (60, "1 minute"),
        (20, "1 minute"),
    ],
)
def test_the_absolute_limit_in_words(seconds, said):
    from datetime import timedelta

    from wingapp.users.sessions import SessionService, Timeouts
    from wingapp.users.views.layout import SessionUI

    timeouts = Timeouts(absolute=timedelta(seconds=seconds))
    request = testing.DummyRequest()
    request.find_service = lambda iface: SessionService(None, timeouts, None)
    assert SessionUI(request).absolute_limit() == said


def test_templates_compile_one_at_a_time(app, tmp_path):
    from chameleon import PageTemplateFile

    from wingapp.views.templates import COMPILING, lock_compilation

    lock_compilation()  # a second time changes nothing
    page = tmp_path / "page.pt"
    page.write_text("<p>${word}</p>")
    rendered = []
    with COMPILING:
        # While another thread compiles, a template that needs compiling waits.
        worker = threading.Thread(
            target=lambda: rendered.append(PageTemplateFile(str(page))(word="hi"))
        )
        worker.start()
        worker.join(0.3)
        assert worker.is_alive() and rendered == []
    worker.join(5)
    assert rendered == ["<p>hi</p>"]
