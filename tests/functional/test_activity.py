"""Each user's own activity page, and "This wasn't me" on its entries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.accounts import PASSWORD, add_user, browser, sign_in, with_root
from wingapp.audit import Entry, _time_key
from wingapp.users.activity import file_entry

JSON = {"Accept": "application/json"}
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


def kinds_on(page):
    return [item["kind"] for item in page.json["items"]]


def fill(app, login, n, clock):
    """``n`` more sign-ins in ``login``'s history, a second apart."""

    def add(root):
        user = root["users"][login]
        for i in range(n):
            when = clock.now + timedelta(seconds=i + 1)
            item = Entry(when, "sign-in", "success", login, None, None, None, {})
            file_entry(user.activity, _time_key(when), item)

    with_root(app, add, commit=True)


def not_me_forms(page):
    return [f for f in page.forms.values() if f.action.endswith("/not-me-entry")]


def test_the_owner_sees_what_happened_newest_first(app, clock):
    add_user(app, "ada")
    ada = browser(app, "192.0.2.10", FIREFOX)
    sign_in(ada, "ada", "not the password at all", status=400)
    clock.advance(minutes=1)
    sign_in(ada, "ada", status=303)
    page = ada.get("/users/ada/")
    activity = page.click("Activity")
    assert activity.request.path == "/users/ada/activity"
    text = activity.text
    for words in (
        "A wrong password was given",
        "Signed in",
        "A new browser was remembered",
        "A new network was remembered",
        "192.0.2.10",
    ):
        assert words in text
    # Newest first.
    assert text.index("Signed in") < text.index("A wrong password was given")
    # The browser as a person knows it when ua-parser is there, else the
    # start of what it said it was; its whole text on hover either way.
    assert f'title="{FIREFOX}"' in text
    assert len(not_me_forms(activity)) == 4
    as_json = ada.get("/users/ada/activity", headers=JSON)
    assert kinds_on(as_json) == [
        "sign-in",
        "network-trusted",
        "device-trusted",
        "sign-in",
    ]
    newest = as_json.json["items"][0]
    assert newest["what"] == "Signed in"
    assert newest["ip"] == "192.0.2.10"
    assert newest["browser"] == FIREFOX
    assert newest["outcome"] == "success"
    assert as_json.json["next"] is None
    assert as_json.json["items"][-1]["what"] == "A wrong password was given"


def test_the_history_pages_twenty_at_a_time(app, clock):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada", status=303)
    fill(app, "ada", 42, clock)  # with the sign-in's three: 45
    first = ada.get("/users/ada/activity", headers=JSON).json
    assert len(first["items"]) == 20
    second = ada.get(first["next"], headers=JSON).json
    assert len(second["items"]) == 20
    third = ada.get(second["next"], headers=JSON).json
    assert len(third["items"]) == 5
    assert third["next"] is None
    keys = [i["key"] for page in (first, second, third) for i in page["items"]]
    assert keys == sorted(keys, reverse=True)
    assert len(set(keys)) == 45
    page = ada.get("/users/ada/activity")
    assert 'rel="next"' in page.text
    assert "Newest" not in page.text
    older = page.click("Older")
    assert "Newest" in older.text
    # An empty value (a form's "any") is the first page.
    assert "Newest" not in ada.get("/users/ada/activity?before=").text


@pytest.mark.parametrize("before", ["abc", "0", "-5", "99999999999999999999"])
def test_a_bad_page_is_refused(app, clock, before):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada", status=303)
    refused = ada.get(f"/users/ada/activity?before={before}", status=400)
    assert "before" in refused.text
    as_json = ada.get(
        f"/users/ada/activity?before={before}", headers=JSON, status=400
    ).json
    assert "before" in as_json["message"]


def test_only_the_owner_and_admins_see_it_and_only_the_owner_may_deny(app, clock):
    add_user(app, "ada")
    add_user(app, "bob")
    add_user(app, "root", roles=("user", "admin"))
    ada = browser(app)
    sign_in(ada, "ada", status=303)
    bob = browser(app)
    sign_in(bob, "bob", status=303)
    bob.get("/users/ada/activity", status=403)
    anonymous = browser(app)
    assert anonymous.get("/users/ada/activity", status=303).location.startswith(
        "http://example.com/login"
    )
    admin = browser(app)
    sign_in(admin, "root", status=303)
    page = admin.get("/users/ada/activity")
    assert "Signed in" in page.text
    assert not_me_forms(page) == []
    # Nor may an admin say it for the owner.
    key = ada.get("/users/ada/activity", headers=JSON).json["items"][0]["key"]
    token = admin.get("/users/root/").forms
    csrf = next(iter(token.values()))["csrf_token"].value
    admin.post("/users/ada/not-me-entry", {"key": key, "csrf_token": csrf}, status=403)


def test_this_wasnt_me_secures_the_account_and_asks_for_a_new_password(app, clock):
    add_user(app, "ada")
    laptop = browser(app, "192.0.2.10", "Laptop/1")
    sign_in(laptop, "ada", status=303)
    clock.advance(minutes=1)
    stranger = browser(app, "203.0.113.9", "Stranger/6")
    sign_in(stranger, "ada", status=303)
    page = laptop.get("/users/ada/activity")
    assert "203.0.113.9" in page.text
    # The newest entries are the stranger's.
    response = not_me_forms(page)[0].submit(status=303)
    assert response.location == "http://example.com/users/ada/password"
    form_page = response.follow()
    assert "We signed out your other sessions" in form_page.text
    assert "password-form" in form_page.forms
    stranger.get("/users/ada/", status=303)
    me = laptop.get("/users/ada/")
    assert me.text.count("End this session") == 1
    assert "None yet." in me.text  # no trusted browser or network left

    def trusted(root):
        user = root["users"]["ada"]
        return len(user.trusted_devices), len(user.trusted_networks)

    assert with_root(app, trusted) == (0, 0)
    newest = laptop.get("/users/ada/activity", headers=JSON).json["items"][0]
    assert newest["kind"] == "not-me"
    assert newest["actor"] == "ada"
    # Signing in from the laptop again works as before, with the password.
    sign_in(browser(app, "192.0.2.10", "Laptop/1"), "ada", PASSWORD, status=303)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Say which entry was not you"),
        ({"key": "abc"}, "Say which entry was not you"),
        ({"key": "0"}, "Say which entry was not you"),
        ({"key": "12345"}, "That entry is not in your activity"),
    ],
)
def test_this_wasnt_me_needs_an_entry_of_the_history(app, clock, fields, message):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada", status=303)
    other = browser(app)
    sign_in(other, "ada", status=303)
    form = not_me_forms(ada.get("/users/ada/activity"))[0]
    csrf = form["csrf_token"].value
    refused = ada.post(
        "/users/ada/not-me-entry", {**fields, "csrf_token": csrf}, status=400
    )
    assert message in refused.text
    other.get("/users/ada/", status=200)  # nothing was done


def test_this_wasnt_me_needs_the_csrf_token(app, clock):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada", status=303)
    form = not_me_forms(ada.get("/users/ada/activity"))[0]
    ada.post("/users/ada/not-me-entry", {"key": form["key"].value}, status=400)


def test_reading_the_activity_writes_nothing(app, db, clock):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada", status=303)
    before = db.lastTransaction()
    ada.get("/users/ada/activity")
    ada.get("/users/ada/activity", headers=JSON)
    assert db.lastTransaction() == before
