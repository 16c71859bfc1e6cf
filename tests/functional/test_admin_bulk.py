"""Bulk actions on the accounts selected in the listing: each with one
reason, one audit entry per account changed, the rest skipped and named."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts import (
    add_user,
    admin_browser,
    browser,
    messages,
    sign_in,
    with_root,
)

REASON = "Quarterly access review"


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


@pytest.fixture
def admin(app):
    return admin_browser(app, ip="198.51.100.7")


def token(client: Any) -> str:
    return client.get("/users/@@create").forms["create-form"]["csrf_token"].value


def bulk(client: Any, logins: list[str], status: Any = 303, **fields: str) -> Any:
    params = [("login", login) for login in logins]
    params += [("csrf_token", fields.pop("csrf_token", None) or token(client))]
    params += list({"action": "disable", "reason": REASON, **fields}.items())
    return client.post("/users/@@bulk", params, status=status)


def states(app: Any, *logins: str) -> dict[str, Any]:
    def read(root: Any) -> dict:
        users = root["users"]
        return {
            login: (users[login].state, len(users[login].sessions)) for login in logins
        }

    return with_root(app, read)


def admin_entries(app: Any) -> list[tuple[str, str, str]]:
    def read(root: Any) -> list:
        return sorted(
            (e.kind, e.login, e.detail["reason"])
            for e in root.audit.newest(1000)
            if e.kind.startswith("admin-")
        )

    return with_root(app, read)


def flash(page: Any) -> str:
    return page.html.find(class_="flash").get_text(" ", strip=True)


def test_bulk_disable_of_a_mix_of_accounts(app, admin):
    for login in ("ada", "bob", "cyd"):
        add_user(app, login)
    cyd = browser(app)
    sign_in(cyd, "cyd", status=303)
    bulk(admin, ["bob"])
    answer = bulk(admin, ["ada", "bob", "cyd", "root", "ada"])
    assert answer.location == "http://example.com/users/"
    page = admin.get("/users/bob/@@admin")
    assert flash(page) == (
        "Disabled 2 accounts. Skipped 2 (bob: Already disabled.; root: You cannot "
        "disable your own account: you would lock yourself out. Ask another "
        "administrator.)."
    )
    assert states(app, "ada", "bob", "cyd", "root") == {
        "ada": ("disabled", 0),
        "bob": ("disabled", 0),
        "cyd": ("disabled", 0),
        "root": ("active", 1),
    }
    # One entry per account changed, each with the reason.
    assert admin_entries(app) == [
        ("admin-disable", "ada", REASON),
        ("admin-disable", "bob", REASON),
        ("admin-disable", "cyd", REASON),
    ]
    # Cyd's open session has ended.
    assert cyd.get("/users/cyd/", status=303).location.startswith(
        "http://example.com/login"
    )


def test_bulk_enable_force_reset_and_end_sessions(app, admin, maildir):
    add_user(app, "ada")
    add_user(app, "bob")
    ada = browser(app)
    sign_in(ada, "ada", status=303)
    bulk(admin, ["ada", "bob"], action="end-sessions")
    assert states(app, "ada")["ada"] == ("active", 0)
    assert flash(admin.get("/users/")) == (
        "Ended the sessions of 1 account. Skipped 1 "
        "(bob: The account has no sessions to end.)."
    )
    bulk(admin, ["ada", "bob"], action="force-reset")
    assert states(app, "ada", "bob") == {
        "ada": ("must-reset", 0),
        "bob": ("must-reset", 0),
    }
    assert sorted(m["To"] for m in messages(maildir)) == [
        "ada@example.org",
        "bob@example.org",
    ]
    bulk(admin, ["ada"], action="disable")
    bulk(admin, ["ada", "bob"], action="enable")
    assert flash(admin.get("/users/")).startswith("Enabled 1 account. Skipped 1")
    assert [kind for kind, _, _ in admin_entries(app)].count("admin-enable") == 1


def test_bulk_keeps_the_listings_query(app, admin):
    add_user(app, "ada")
    answer = bulk(admin, ["ada"], came_from="/users/?state=active&order_by=-created")
    assert answer.location == (
        "http://example.com/users/?state=active&order_by=-created"
    )
    for elsewhere in (
        "//evil.example/users/",
        "https://evil.example/users/",
        "/codes/",
        "/users/../codes/",
        "/users/\\evil",
    ):
        answer = bulk(admin, ["ada"], action="enable", came_from=elsewhere)
        assert answer.location == "http://example.com/users/"


def test_unknown_logins_are_a_400_and_change_nothing(app, admin):
    add_user(app, "ada")
    page = bulk(admin, ["ada", "ghost", "nobody"], status=400)
    error = page.html.find(id="bulk-login").find(class_="field-error")
    assert error.get_text(strip=True) == "No account is named ghost, nobody."
    assert "Please correct the marked fields." in page.html.find(id="problems").text
    # The form is there again, with the known account still selected.
    form = page.forms["bulk-form"]
    assert form.get("login", index=0).value == "ada"
    assert form["reason"].value == REASON
    assert form["action"].value == "disable"
    assert states(app, "ada")["ada"] == ("active", 0)
    assert admin_entries(app) == []
    # Corrected, it goes through.
    answer = form.submit(status=303)
    assert answer.location == "http://example.com/users/"
    assert states(app, "ada")["ada"] == ("disabled", 0)


@pytest.mark.parametrize(
    ("logins", "fields", "field", "says"),
    [
        ([], {}, "login", "Select at least one account."),
        (
            [f"user{i}" for i in range(501)],
            {},
            "login",
            "Select at most 500 accounts at once.",
        ),
        (["ada"], {"action": "delete"}, "action", "Choose one of: disable, enable,"),
        (["ada"], {"action": ""}, "action", "Choose what to do."),
        (["ada"], {"reason": "no"}, "reason", "Give a reason of 3 to 200"),
        (["ada"], {"reason": "  "}, "reason", "Give a reason of 3 to 200"),
    ],
)
def test_bulk_form_errors(app, admin, logins, fields, field, says):
    add_user(app, "ada")
    page = bulk(admin, logins, status=400, **fields)
    error = page.html.find(id=f"bulk-{field}").find_next("p", class_="field-error")
    assert error.get_text(strip=True).startswith(says)
    assert states(app, "ada")["ada"] == ("active", 0)
    assert admin_entries(app) == []


def test_an_empty_selection_offers_the_listing(app, admin):
    page = bulk(admin, [], status=400)
    assert page.html.find(id="bulk-login").find("a")["href"] == (
        "http://example.com/users/"
    )


def test_bulk_needs_csrf_and_an_admin(app, admin):
    add_user(app, "ada")
    answer = admin.post(
        "/users/@@bulk",
        [("login", "ada"), ("action", "disable"), ("reason", REASON)],
        status=400,
    )
    assert "Form expired" in answer.text
    ada = browser(app)
    sign_in(ada, "ada", status=303)
    ada_token = ada.get("/users/ada/").forms["signout-form"]["csrf_token"].value
    bulk(ada, ["root"], status=403, csrf_token=ada_token)
    anonymous = browser(app)
    anonymous.get("/users/@@bulk", status=404)
    assert states(app, "ada", "root") == {"ada": ("active", 1), "root": ("active", 1)}
    assert admin_entries(app) == []
