"""Every view that needs an admin permission is denied to everyone else.

The views are read from Pyramid's own registry, so a view added later is
covered without editing this test.
"""

from __future__ import annotations

import pytest
import transaction
import webtest
from pyramid.csrf import get_csrf_token
from pyramid.exceptions import PredicateMismatch
from pyramid.httpexceptions import HTTPForbidden
from pyramid.request import Request
from pyramid.threadlocal import manager

from tests.accounts import add_user, service, sign_in
from wingapp.codes.services import CodeService
from wingapp.interfaces import IClock, IKeyring
from wingapp.permissions import USER_CREDENTIALS, USER_READ, USER_WRITE, VIEW

PUBLIC_OR_OWN = {VIEW, USER_READ, USER_WRITE, USER_CREDENTIALS}


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


def registered_views(app):
    for item in app.registry.introspector.get_category("views"):
        view = item["introspectable"]
        if view["context"] is None or view.get("exception_only"):
            continue
        perms = [
            r["value"] for r in item["related"] if r.category_name == "permissions"
        ]
        yield view, perms[0] if perms else None


def test_every_view_declares_a_permission(app):
    for view, permission in registered_views(app):
        if view["callable"].__module__.startswith("pyramid."):
            continue  # the static view
        assert permission is not None, f"{view['callable']} has no permission"


def denies(app, view, context, method, accept, root, tm, user) -> bool | None:
    """True if the view refuses ``user``; None if it is not for this request."""
    request = Request.blank("/", method=method, headers={"Accept": accept})
    request.registry = app.registry
    request.root = root
    request.context = context
    request.tm = tm
    request.signed_in_user = user
    manager.push({"registry": app.registry, "request": request})
    try:
        request.headers["X-CSRF-Token"] = get_csrf_token(request)
        view["derived_callable"](context, request)
    except PredicateMismatch:
        return None
    except HTTPForbidden:
        return True
    finally:
        manager.pop()
    return False


def test_admin_views_are_denied_to_a_signed_in_user(app, db):
    add_user(app, "bob")
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    tm.begin()
    root = conn.root()["wingapp"]
    bob = root["users"]["bob"]
    code, _ = CodeService(
        root["codes"], service(app.registry, IKeyring), service(app.registry, IClock)
    ).issue("sign-in", "bob", "a flow")
    resources = [root, root["users"], root["codes"], root["reports"], bob, code]
    checked = []
    try:
        for view, permission in registered_views(app):
            if permission in PUBLIC_OR_OWN or permission is None:
                continue
            assert permission.startswith("admin:"), permission
            targets = [r for r in resources if view["context"].providedBy(r)]
            for context in targets:
                methods = view["request_methods"] or ("GET", "POST")
                # A view may name one method as a plain string.
                if isinstance(methods, str):
                    methods = (methods,)
                for method in methods:
                    denied = [
                        denies(app, view, context, method, accept, root, tm, bob)
                        for accept in ("text/html", "application/json")
                    ]
                    # Each view answers one of the two kinds (the other is
                    # no match); the one that answers refuses.
                    assert False not in denied, (view["callable"], method)
                    assert True in denied, (view["callable"], method)
                    checked.append(view["callable"].__name__)
    finally:
        tm.abort()
        conn.close()
    # Folder listings (users, codes' root, reports), the codes listing and a
    # code's page were all among them.
    assert {"FolderViews", "CodesViews", "CodeViews"} <= set(checked)


def test_anonymous_visitors_are_sent_to_sign_in(app):
    anonymous = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    for name in ("users", "codes", "reports"):
        assert anonymous.get(f"/{name}/", status=303).location.startswith(
            "http://example.com/login?next="
        )


def test_an_admin_may_open_every_container(app):
    add_user(app, "root", roles=("user", "admin"))
    admin = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    sign_in(admin, "root", status=303)
    for name in ("users", "codes", "reports"):
        admin.get(f"/{name}/", status=200)
        assert (
            admin.get(f"/{name}/", headers={"Accept": "application/json"}).json["name"]
            == name
        )
    assert (
        "Bad query parameters: size" in admin.get("/users/?size=1000", status=400).text
    )
    home = admin.get("/")
    assert 'href="http://example.com/users/"' in home.text
