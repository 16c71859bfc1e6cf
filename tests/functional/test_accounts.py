"""Accounts through the whole WSGI app: register, sign in, sessions, passwords."""

from __future__ import annotations

import pytest
import webtest

from tests.accounts import (
    NEW_PASSWORD,
    PASSWORD,
    add_user,
    body,
    last_code,
    messages,
    service,
    sign_in,
    with_root,
)
from tests.conftest import use_service
from wingapp.interfaces import IKeyring
from wingapp.users.interfaces import IPasswordHasher

JSON = {"Accept": "application/json"}


@pytest.fixture
def settings(settings):
    # These tests are about passwords and sessions; two-step sign-in has
    # its own tests in test_two_step.py.
    return {**settings, "auth.two_step": "never"}


def events(app, kind=None):
    def read(root):
        return [
            (e.kind, e.outcome, e.login)
            for e in root.audit.newest(1000)[::-1]
            if kind is None or e.kind == kind
        ]

    return with_root(app, read)


def user_state(app, login, attribute):
    return with_root(app, lambda root: getattr(root["users"][login], attribute))


# Registration and email confirmation


def register(
    testapp, login="ada", email="ada@example.org", password=PASSWORD, confirm=None
):
    form = testapp.get("/register").forms["register-form"]
    form["login"] = login
    form["email"] = email
    form["password"] = password
    form["password_confirm"] = password if confirm is None else confirm
    return form


def test_register_confirm_and_land_signed_in(app, testapp, clock, maildir):
    response = register(testapp).submit(status=303)
    assert response.location == "http://example.com/confirm-email"
    page = response.follow()
    assert "We have sent a code to your email address." in page.text
    mail = messages(maildir)[-1]
    assert mail["To"] == "ada@example.org"
    form = page.forms["code-form"]
    form["code"] = last_code(maildir)
    done = form.submit(status=303)
    assert done.location == "http://example.com/users/ada/"
    me = done.follow()
    assert "<h1>ada</h1>" in me.text
    assert "ada@example.org" in me.text
    assert user_state(app, "ada", "email_confirmed") is True
    kinds = [k for k, _, _ in events(app)]
    assert kinds == [
        "registration",
        "code-sent",
        "code-verified",
        "email-confirmed",
        "device-trusted",
        "sign-in",
    ]


def test_wrong_confirmation_code_is_refused(app, testapp, clock, maildir):
    page = register(testapp).submit().follow()
    code = last_code(maildir)
    form = page.forms["code-form"]
    form["code"] = "1" + code[1:] if code[0] != "1" else "2" + code[1:]
    refused = form.submit(status=400)
    assert "That code is not right. 4 attempts left." in refused.text
    assert user_state(app, "ada", "email_confirmed") is False
    form = refused.forms["code-form"]
    form["code"] = "not digits"
    assert "digits from the email" in form.submit(status=400).text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "short"}, "at least 15 characters"),
        ({"confirm": "something else entirely"}, "The two passwords differ"),
        ({"login": "a"}, "3 to 32"),
        ({"email": "not-an-address"}, "email address, like"),
        ({"login": ""}, "Enter your login name"),
        ({"password": "passwordpassword"}, "guess"),
    ],
)
def test_registration_errors_are_clear_and_change_nothing(
    app, testapp, maildir, fields, message
):
    response = register(testapp, **fields).submit(status=400)
    assert message in response.text
    assert with_root(app, lambda root: len(root["users"])) == 0
    assert messages(maildir) == []
    # What was typed comes back, except the passwords.
    form = response.forms["register-form"]
    assert form["password"].value == ""
    assert form["email"].value == fields.get("email", "ada@example.org")


def test_registering_a_known_address_reveals_nothing_and_warns_its_owner(
    app, testapp, clock, maildir
):
    add_user(app, "ada")
    response = register(testapp, login="mallory", email="ADA@example.org").submit(
        status=303
    )
    assert response.location == "http://example.com/confirm-email"
    page = response.follow()
    assert "We have sent a code to your email address." in page.text
    (notice,) = messages(maildir)
    assert notice["To"] == "ADA@example.org"
    assert "already has an account" in body(notice)
    assert "Code:" not in body(notice)
    assert "mallory" not in with_root(app, lambda root: list(root["users"]))
    form = page.forms["code-form"]
    form["code"] = "123456"
    # As for a new address (tests/functional/test_enumeration.py): attempts
    # counted, a minute's wait before another code.
    assert "That code is not right. 4 attempts left." in form.submit(status=400).text
    assert "Wait" in page.forms["resend-form"].submit(status=429).text
    clock.advance(seconds=61)
    resent = page.forms["resend-form"].submit(status=303).follow()
    assert "A new code is on its way" in resent.text
    assert len(messages(maildir)) == 1
    assert events(app, "registration") == [("registration", "failure", None)]


def test_taken_login_name_is_refused(app, testapp):
    add_user(app, "ada")
    response = register(testapp, email="other@example.org").submit(status=400)
    assert "This login name is taken" in response.text


def test_registration_without_csrf_token_is_refused(app, testapp):
    form = register(testapp)
    form["csrf_token"] = "forged"
    assert "Form expired" in form.submit(status=400).text
    assert with_root(app, lambda root: len(root["users"])) == 0


def test_email_address_is_not_in_the_database_file(tmp_path, file_settings):
    settings = {**file_settings, "auth.two_step": "never"}
    from wingapp import main

    app = main({}, **settings)
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    register(testapp, email="Zebra.Quartz@example.org").submit(status=303)
    app.registry._zodb_databases[""].close()
    raw = (tmp_path / "Data.fs").read_bytes()
    assert len(raw) > 1000
    for needle in (
        b"Zebra.Quartz",
        b"zebra.quartz",
        "Zebra.Quartz".encode("utf-16-le"),
    ):
        assert needle not in raw


# Signing in and out


def test_sign_in_by_login_or_email_and_sign_out(app, testapp, clock):
    add_user(app, "ada")
    response = sign_in(testapp, "Ada", status=303)
    assert response.location == "http://example.com/users/ada/"
    me = response.follow()
    assert "(this session)" in me.text
    signout = me.forms["signout-form"].submit(status=303)
    assert signout.location == "http://example.com/logged-out"
    assert "You are signed out" in signout.follow().text
    response = sign_in(testapp, "ADA@example.org", status=303)
    assert response.location == "http://example.com/users/ada/"
    # The first sign-in remembers the browser; the second knows it.
    assert [k for k, o, _ in events(app)] == [
        "device-trusted",
        "sign-in",
        "sign-out",
        "sign-in",
    ]


@pytest.mark.parametrize("login", ["ada", "nobody", "nobody@example.org"])
def test_failed_sign_in_says_the_same_thing_whatever_the_reason(app, testapp, login):
    add_user(app, "ada")
    response = sign_in(testapp, login, "wrong password entirely", status=400)
    assert "Sign-in failed: the login name or password is wrong" in response.text
    assert response.forms["login-form"]["password"].value == ""
    assert events(app, "sign-in") == [
        ("sign-in", "failure", None if login != "ada" else "ada")
    ]


def test_empty_sign_in_form_is_refused(app, testapp):
    form = testapp.get("/login").forms["login-form"]
    response = form.submit(status=400)
    assert "Enter your login name (or email) and password." in response.text


def test_signed_in_visitor_to_login_goes_to_their_page(app, testapp, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    assert testapp.get("/login").location == "http://example.com/users/ada/"


def test_sign_in_returns_to_next_only_on_this_site(app, testapp, clock):
    add_user(app, "ada")
    form = testapp.get("/login?next=/users/ada/password").forms["login-form"]
    form["login"], form["password"] = "ada", PASSWORD
    assert form.submit().location == "http://example.com/users/ada/password"
    testapp.reset()
    for evil in (
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:x",
    ):
        form = testapp.get("/login", params={"next": evil}).forms["login-form"]
        form["login"], form["password"] = "ada", PASSWORD
        assert form.submit().location == "http://example.com/users/ada/"
        testapp.reset()


def test_session_id_changes_at_sign_in_and_dies_at_sign_out(app, testapp, clock):
    add_user(app, "ada")
    testapp.get("/login")
    before = testapp.cookies.get("wingapp_session")
    sign_in(testapp, "ada", status=303)
    after = testapp.cookies["wingapp_session"]
    assert after != before
    testapp.get("/users/ada/", status=200)
    testapp.get("/users/ada/").forms["signout-form"].submit(status=303)
    # Replaying the old cookie after sign-out does not sign anyone in.
    testapp.set_cookie("wingapp_session", after)
    assert testapp.get("/users/ada/", status=303).location.startswith(
        "http://example.com/login"
    )


def test_pages_seen_with_a_session_are_not_cached(app, testapp, clock):
    assert "Cache-Control" not in testapp.get("/").headers
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    assert testapp.get("/users/ada/").headers["Cache-Control"] == "no-store"
    # Static files keep their own caching.
    css = testapp.get("/static/css/wingapp.css")
    assert css.headers["Cache-Control"].startswith("max-age=")


def test_cookie_flags(app, testapp, clock):
    add_user(app, "ada")
    response = sign_in(testapp, "ada", status=303)
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getall("Set-Cookie")}
    session = cookies["wingapp_session"]
    assert "HttpOnly" in session
    assert "SameSite=Lax" in session
    assert "Path=/" in session
    assert "Max-Age" not in session and "expires" not in session.lower()
    assert "Domain" not in session
    assert "HttpOnly" in cookies["wingapp_device"]


def test_secure_cookies_by_default(settings):
    from wingapp import main

    app = main(
        {}, **{k: v for k, v in settings.items() if k != "session.secure_cookie"}
    )
    add_user(app, "ada")
    testapp = webtest.TestApp(
        app, extra_environ={"HTTP_HOST": "example.com", "wsgi.url_scheme": "https"}
    )
    response = sign_in(testapp, "ada", status=303)
    for cookie in response.headers.getall("Set-Cookie"):
        assert "secure" in cookie.lower()
    app.registry._zodb_databases[""].close()


def test_reading_pages_while_signed_in_writes_nothing(app, testapp, db, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    before = db.storage.lastTransaction()
    for path in ("/", "/users/ada/", "/users/ada/password", "/no-such-page"):
        testapp.get(path, expect_errors=True)
    testapp.get("/users/ada/", headers=JSON)
    assert db.storage.lastTransaction() == before


def test_users_see_their_own_page_only(app, testapp, clock):
    add_user(app, "ada")
    add_user(app, "bob")
    sign_in(testapp, "ada", status=303)
    assert "You do not have permission" in testapp.get("/users/bob/", status=403).text
    testapp.get("/users/", status=403)
    data = testapp.get("/users/ada/", headers=JSON).json
    assert data["login"] == "ada"
    assert data["email"] == "ada@example.org"
    assert len(data["sessions"]) == 1
    assert "password_hash" not in data


def test_imported_pbkdf2_hash_is_upgraded_at_sign_in(app, testapp, clock):
    from wingapp.users.passwords import PasswordHasher

    add_user(app, "ada")
    legacy = PasswordHasher(scheme="pbkdf2-sha512").hash(PASSWORD)

    def set_hash(root):
        root["users"]["ada"].password_hash = legacy

    with_root(app, set_hash, commit=True)
    sign_in(testapp, "ada", status=303)
    stored = user_state(app, "ada", "password_hash")
    assert stored.startswith("$argon2id$")
    assert service(app.registry, IPasswordHasher).verify(stored, PASSWORD)


# Back-off


def test_back_off_after_five_failures_and_reset_on_success(app, testapp, clock):
    add_user(app, "ada")
    for _ in range(5):
        sign_in(testapp, "ada", "wrong password entirely", status=400)
    assert events(app, "lockout") == [("lockout", "failure", "ada")]
    # Locked: even the right password gets the same generic answer.
    locked = sign_in(testapp, "ada", PASSWORD, status=400)
    assert "Sign-in failed" in locked.text
    clock.advance(seconds=61)
    sign_in(testapp, "ada", PASSWORD, status=303)
    assert user_state(app, "ada", "failures") == 0


def test_back_off_grows_and_is_capped(app, testapp, clock):
    add_user(app, "ada")
    for _ in range(10):
        sign_in(testapp, "ada", "wrong password entirely", status=400)
        clock.advance(seconds=130)
    # 10 failures: two minutes to wait after the last.
    clock.advance(seconds=-130 + 119)
    sign_in(testapp, "ada", PASSWORD, status=400)
    clock.advance(seconds=2)
    sign_in(testapp, "ada", PASSWORD, status=303)


# Sessions and timeouts


def test_idle_timeout_ends_the_session_on_the_server(app, testapp, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    clock.advance(minutes=29)
    testapp.get("/users/ada/", status=200)
    clock.advance(minutes=2)  # 31 minutes with no POST: reading pages is not activity
    assert testapp.get("/users/ada/", status=303).location.startswith(
        "http://example.com/login?next="
    )
    # The server noticed the timeout: the record is gone, and it is
    # recorded once, not again when the browser signs out.
    assert with_root(app, lambda root: len(root["users"]["ada"].sessions)) == 0
    token = testapp.get("/login").html.find("input", {"name": "csrf_token"})["value"]
    testapp.post("/logout", {"csrf_token": token, "reason": "timeout"}, status=303)
    assert events(app, "timeout") == [("timeout", "success", "ada")]


def test_ping_keeps_the_session_alive_until_the_absolute_timeout(app, testapp, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    token = testapp.get("/users/ada/").html.body["data-csrf-token"]
    for _ in range(35):  # 35 x 20 minutes = 11 h 40 min
        clock.advance(minutes=20)
        answer = testapp.post("/ping", headers={"X-CSRF-Token": token, **JSON}).json
        assert answer["signed_in"] is True
    assert answer["ends_because"] == "absolute"
    clock.advance(minutes=21)
    answer = testapp.post(
        "/ping", headers={"X-CSRF-Token": token, **JSON}, status=401
    ).json
    assert answer == {
        "signed_in": False,
        "message": "Your session has ended. Sign in again.",
    }


def test_near_the_absolute_limit_the_page_says_why_it_will_end(app, testapp, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    assert testapp.get("/users/ada/").html.body["data-ends-because"] == "idle"
    token = testapp.get("/users/ada/").html.body["data-csrf-token"]
    for _ in range(35):
        clock.advance(minutes=20)
        testapp.post("/ping", headers={"X-CSRF-Token": token})
    page = testapp.get("/users/ada/")
    assert page.html.body["data-ends-because"] == "absolute"
    reason = page.html.find(id="idle-reason")
    assert "a session lasts at most 12 hours" in reason["data-absolute"]
    limit = testapp.get("/logged-out?timeout=1&limit=1")
    assert "a session lasts\n        at most 12 hours" in limit.text


def test_ping_needs_the_csrf_token(app, testapp, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    testapp.post("/ping", headers=JSON, status=400)


def test_page_carries_the_timings_for_the_idle_script(app, testapp, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    page = testapp.get("/users/ada/")
    attrs = page.html.body.attrs
    assert attrs["data-idle-timeout"] == "1800"
    assert attrs["data-idle-warning"] == "120"
    assert attrs["data-expires-in"] == "1800"
    assert attrs["data-ping-url"] == "http://example.com/ping"
    assert page.html.find("dialog", id="idle-dialog") is not None
    assert (
        page.html.find("script", src="http://example.com/static/js/session.js")
        is not None
    )


def test_timeout_sign_out_records_it_and_offers_to_return(app, testapp, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    token = testapp.get("/users/ada/").html.body["data-csrf-token"]
    clock.advance(minutes=31)
    response = testapp.post(
        "/logout",
        {"csrf_token": token, "reason": "timeout", "next": "/users/ada/password"},
    )
    assert (
        response.location
        == "http://example.com/logged-out?timeout=1&next=%2Fusers%2Fada%2Fpassword"
    )
    page = response.follow()
    assert "Your session timed out" in page.text
    assert 'href="http://example.com/login?next=%2Fusers%2Fada%2Fpassword"' in page.text
    assert events(app, "timeout") == [("timeout", "success", "ada")]
    assert with_root(app, lambda root: len(root["users"]["ada"].sessions)) == 0
    evil = testapp.get("/logged-out?timeout=1&next=https://evil.example/")
    assert "evil.example" not in evil.text


def test_end_another_session_from_the_list(app, clock):
    add_user(app, "ada")
    laptop = webtest.TestApp(
        app, extra_environ={"HTTP_HOST": "example.com", "REMOTE_ADDR": "192.0.2.1"}
    )
    phone = webtest.TestApp(
        app,
        extra_environ={
            "HTTP_HOST": "example.com",
            "REMOTE_ADDR": "198.51.100.7",
            "HTTP_USER_AGENT": "PhoneBrowser/1.0",
        },
    )
    sign_in(laptop, "ada", status=303)
    clock.advance(minutes=1)
    sign_in(phone, "ada", status=303)
    page = laptop.get("/users/ada/")
    assert "198.51.100.7" in page.text
    assert "PhoneBrowser/1.0" in page.text
    forms = [f for f in page.forms.values() if f.action.endswith("/end-session")]
    assert len(forms) == 2
    # The newest (the phone's) is listed first.
    forms[0].submit(status=303)
    assert phone.get("/users/ada/", status=303).location.startswith(
        "http://example.com/login"
    )
    laptop.get("/users/ada/", status=200)
    # Ending it again is a clear 400.
    assert "ended already" in forms[0].submit(status=400).text
    # Ending one's own session signs out.
    own = [
        f
        for f in laptop.get("/users/ada/").forms.values()
        if f.action.endswith("/end-session")
    ]
    assert own[0].submit(status=303).location == "http://example.com/logged-out"
    laptop.get("/users/ada/", status=303)


# Changing and resetting the password


def change_form(testapp, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    form = testapp.get("/users/ada/password").forms["password-form"]
    form["current_password"] = current
    form["password"] = new
    form["password_confirm"] = new if confirm is None else confirm
    return form


def test_change_password_ends_other_sessions_and_sends_a_notice(app, clock, maildir):
    add_user(app, "ada")
    mine = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    other = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    sign_in(mine, "ada", status=303)
    sign_in(other, "ada", status=303)
    old_cookie = mine.cookies["wingapp_session"]
    done = change_form(mine).submit(status=303)
    assert "Your password is changed" in done.follow().text
    assert mine.cookies["wingapp_session"] != old_cookie
    other.get("/users/ada/", status=303)
    notice = messages(maildir)[-1]
    assert notice["Subject"] == "Your wingapp password was changed"
    assert "Every other session" in body(notice)
    assert NEW_PASSWORD not in body(notice)
    mine.reset()
    sign_in(mine, "ada", PASSWORD, status=400)
    sign_in(mine, "ada", NEW_PASSWORD, status=303)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"current": "not my password at all"}, "Your current password is not right."),
        ({"new": "tooshort"}, "at least 15"),
        ({"confirm": "something else again"}, "The two passwords differ"),
    ],
)
def test_change_password_errors_change_nothing(
    app, testapp, clock, maildir, kw, message
):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    before = user_state(app, "ada", "password_hash")
    response = change_form(testapp, **kw).submit(status=400)
    assert message in response.text
    assert user_state(app, "ada", "password_hash") == before
    assert messages(maildir) == []


def test_reset_password_by_emailed_code(app, clock, maildir):
    add_user(app, "ada")
    elsewhere = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    sign_in(elsewhere, "ada", status=303)
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    form = testapp.get("/reset-password").forms["reset-form"]
    form["login"] = "ada@example.org"
    page = form.submit(status=303).follow()
    assert "If an account matches" in page.text
    form = page.forms["new-password-form"]
    form["code"] = "000000"
    form["password"] = form["password_confirm"] = NEW_PASSWORD
    assert "That code is not right." in form.submit(status=400).text
    form["code"] = last_code(maildir)
    done = form.submit(status=303)
    assert done.location == "http://example.com/login"
    assert "Sign in with it now" in done.follow().text
    elsewhere.get("/users/ada/", status=303)
    assert messages(maildir)[-1]["Subject"] == "Your wingapp password was changed"
    sign_in(testapp, "ada", NEW_PASSWORD, status=303)
    assert ("password-reset", "success", "ada") in events(app)


def test_reset_for_an_unknown_account_looks_the_same_and_sends_nothing(
    app, testapp, maildir
):
    form = testapp.get("/reset-password").forms["reset-form"]
    form["login"] = "nobody@example.org"
    page = form.submit(status=303).follow()
    assert "If an account matches" in page.text
    assert messages(maildir) == []
    form = page.forms["new-password-form"]
    form["code"] = "123456"
    form["password"] = form["password_confirm"] = NEW_PASSWORD
    assert "That code is not right." in form.submit(status=400).text


def test_reset_pages_without_a_started_reset_start_again(app, testapp):
    page = testapp.get("/new-password", status=303)
    assert page.location == "http://example.com/reset-password"
    assert "That reset has expired" in page.follow().text


# The strength meter


def test_password_strength_endpoint(app, testapp):
    token = testapp.get("/register").forms["register-form"]["csrf_token"].value
    weak = testapp.post_json(
        "/password-strength",
        {"password": "password123"},
        headers={"X-CSRF-Token": token},
    ).json
    assert weak["acceptable"] is False
    assert weak["score"] < 3
    assert weak["problems"]
    strong = testapp.post_json(
        "/password-strength", {"password": PASSWORD}, headers={"X-CSRF-Token": token}
    ).json
    assert strong["acceptable"] is True
    assert strong["needed"] == 3
    bad = testapp.post(
        "/password-strength",
        "not json",
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
        status=400,
    )
    assert bad.json["error"] == "Send JSON with a 'password' field."
    testapp.post_json("/password-strength", {"password": "x"}, status=400)


# What is never written down


def test_no_secret_reaches_the_log_or_the_event_log(
    app, testapp, clock, maildir, caplog
):
    import logging

    caplog.set_level(logging.DEBUG)
    register(testapp).submit(status=303)
    code = last_code(maildir)
    form = testapp.get("/confirm-email").forms["code-form"]
    form["code"] = code
    form.submit(status=303)
    session_cookie = testapp.cookies["wingapp_session"]
    testapp.reset()
    sign_in(testapp, "ada", "wrong password entirely", status=400)

    def dump(root):
        return repr([vars(e) for e in root.audit.newest(1000)])

    for text in (caplog.text, with_root(app, dump)):
        assert PASSWORD not in text
        assert "wrong password entirely" not in text
        assert code not in text
        assert session_cookie not in text


def test_sign_out_without_a_session_just_shows_the_page(app, testapp):
    token = testapp.get("/login").forms["login-form"]["csrf_token"].value
    response = testapp.post(
        "/logout", {"csrf_token": token, "reason": "timeout", "next": "//evil.example/"}
    )
    assert response.location == "http://example.com/logged-out?timeout=1"
    assert events(app) == []


def test_ending_a_session_needs_to_say_which(app, testapp, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    token = testapp.get("/users/ada/").html.body["data-csrf-token"]
    for key in ("", "x" * 200):
        page = testapp.post(
            "/users/ada/end-session", {"csrf_token": token, "key": key}, status=400
        )
        assert "Say which one to end" in page.text


def test_wrong_current_passwords_count_towards_the_back_off(app, testapp, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    for _ in range(5):
        change_form(testapp, current="not my password at all").submit(status=400)
    assert events(app, "lockout") == [("lockout", "failure", "ada")]
    # While the account waits, even the right password is not checked, and
    # nothing more is counted: the guessing stops here.
    page = change_form(testapp).submit(status=400)
    assert "wait a few minutes" in page.text
    assert len(events(app, "password-change")) == 5
    clock.advance(minutes=2)
    change_form(testapp).submit(status=303)


def reset_page(testapp, login="ada"):
    form = testapp.get("/reset-password").forms["reset-form"]
    form["login"] = login
    return form.submit(status=303).follow()


def test_reset_form_errors(app, testapp, clock, maildir):
    add_user(app, "ada")
    empty = testapp.get("/reset-password").forms["reset-form"].submit(status=400)
    assert "Enter your login name or email" in empty.text
    page = reset_page(testapp)
    form = page.forms["new-password-form"]
    form["code"] = last_code(maildir)
    form["password"] = NEW_PASSWORD
    form["password_confirm"] = NEW_PASSWORD + "x"
    assert "The two passwords differ" in form.submit(status=400).text
    form["password"] = form["password_confirm"] = "passwordpassword"
    assert "guess" in form.submit(status=400).text
    # Nothing above used the code up.
    form["password"] = form["password_confirm"] = NEW_PASSWORD
    assert form.submit(status=303).location == "http://example.com/login"


def test_reset_asked_twice_in_a_minute_keeps_the_first_code(
    app, testapp, clock, maildir
):
    add_user(app, "ada")
    reset_page(testapp)
    first = last_code(maildir)
    page = reset_page(testapp)
    assert len(messages(maildir)) == 1
    form = page.forms["new-password-form"]
    form["code"] = first
    form["password"] = form["password_confirm"] = NEW_PASSWORD
    assert form.submit(status=303).location == "http://example.com/login"


def test_five_wrong_reset_codes_start_over(app, testapp, clock, maildir):
    add_user(app, "ada")
    page = reset_page(testapp)
    form = page.forms["new-password-form"]
    code = last_code(maildir)
    form["code"] = "1" * len(code) if code != "1" * len(code) else "2" * len(code)
    form["password"] = form["password_confirm"] = NEW_PASSWORD
    for _ in range(4):
        form.submit(status=400)
    done = form.submit(status=303)
    assert done.location == "http://example.com/reset-password"
    page = done.follow()
    assert "this code is cancelled" in page.text
    # One reason, not two: the reset did not "expire".
    assert "That reset has expired" not in page.text


def test_posting_a_new_password_without_a_reset_starts_over(app, testapp):
    token = testapp.get("/login").forms["login-form"]["csrf_token"].value
    response = testapp.post("/new-password", {"csrf_token": token}, status=303)
    assert response.location == "http://example.com/reset-password"


def test_a_session_cookie_from_retired_keys_signs_no_one_in(
    app, testapp, clock, key_paths
):
    from wingapp.keys import load_keyring

    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    old = service(app.registry, IKeyring)
    new_paths = key_paths.encryption_keys.with_name("other_keys")
    from cryptography.fernet import Fernet

    new_paths.write_text(Fernet.generate_key().decode() + "\n")
    from wingapp.keys import KeyPaths

    use_service(
        app.registry,
        load_keyring(
            KeyPaths(key_paths.session_secret, new_paths, key_paths.index_key)
        ),
        IKeyring,
    )
    try:
        assert testapp.get("/users/ada/", status=303).location.startswith(
            "http://example.com/login"
        )
    finally:
        use_service(app.registry, old, IKeyring)


def test_expired_sessions_are_not_listed(app, clock):
    add_user(app, "ada")
    laptop = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    phone = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    sign_in(laptop, "ada", status=303)
    sign_in(phone, "ada", status=303)
    token = laptop.get("/users/ada/").html.body["data-csrf-token"]
    for _ in range(2):
        clock.advance(minutes=20)
        laptop.post("/ping", headers={"X-CSRF-Token": token})
    data = laptop.get("/users/ada/", headers=JSON).json
    assert len(data["sessions"]) == 1
    assert data["sessions"][0]["current"] is True


def test_unknown_names_keep_getting_the_generic_answer(app, testapp):
    for name in ("nobody", "nobody-else"):
        response = sign_in(testapp, name, "wrong password entirely", status=400)
        assert "Sign-in failed: the login name or password is wrong" in response.text
    assert events(app, "sign-in") == [("sign-in", "failure", None)] * 2
