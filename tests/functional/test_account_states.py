"""Accounts an administrator has acted on: disabled, must reset, made
without a password; and the codes mailed with a link for them."""

from __future__ import annotations

import re

import pytest
import webtest
from pyramid.request import Request
from pyramid.scripting import prepare

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
from wingapp.interfaces import IClock, IKeyring
from wingapp.users.interfaces import IAccountService
from wingapp.users.models import User
from wingapp.users.services import GENERIC_FAILURE

LINK = re.compile(r"^  (http://example\.com/\S+)$", re.MULTILINE)


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


def fresh(app):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})


def set_state(app, login, **values):
    def change(root):
        user = root["users"][login]
        for name, value in values.items():
            setattr(user, name, value)

    with_root(app, change, commit=True)


def state(app, login):
    def read(root):
        user = root["users"][login]
        return user.state, user.must_reset, user.email_confirmed, user.disabled

    return with_root(app, read)


def add_passwordless(app, login):
    """An account as an administrator or an import makes it: no password,
    an address not yet confirmed, a new password to be set."""
    registry = app.registry

    def make(root):
        user = User(created=service(registry, IClock)())
        user.set_email(f"{login}@example.org", service(registry, IKeyring))
        user.must_reset = True
        root["users"].add_user(login, user)

    with_root(app, make, commit=True)


def in_a_request(app, work):
    """Run ``work(request)`` as a request to the app would, and commit."""
    env = prepare(
        registry=app.registry, request=Request.blank("/", base_url="http://example.com")
    )
    request = env["request"]
    request.root = env["root"]
    try:
        work(request)
        request.tm.commit()
    finally:
        env["closer"]()


def mail_link(app, login, purpose):
    def send(request):
        accounts = request.find_service(IAccountService)
        accounts.mail_code_link(request.root["users"][login], purpose)

    in_a_request(app, send)


def path_of(url):
    return url.removeprefix("http://example.com")


def the_link(maildir):
    match = LINK.search(body(messages(maildir)[-1]))
    assert match, "the last mail has no link"
    return path_of(match.group(1))


def reset_with(page, code, password=NEW_PASSWORD, status=303):
    form = page.forms["new-password-form"]
    form["code"] = code
    form["password"] = form["password_confirm"] = password
    return form.submit(status=status)


def kinds(app, login):
    def read(root):
        return [
            (e.kind, e.outcome, e.detail.get("reason"))
            for e in root.audit.newest(1000)[::-1]
            if e.login == login
        ]

    return with_root(app, read)


# Disabled


def test_disabled_account_tells_only_whoever_knows_the_password(app, testapp):
    add_user(app, "ada")
    set_state(app, "ada", disabled=True)
    refused = sign_in(testapp, "ada", status=400)
    assert "This account is disabled. Ask an administrator." in refused.text
    wrong = sign_in(testapp, "ada", "not the password at all", status=400)
    assert GENERIC_FAILURE in wrong.text
    assert "disabled" not in wrong.text
    testapp.get("/users/ada/", status=303)
    assert ("sign-in", "failure", "disabled") in kinds(app, "ada")
    # The refusal with the right password does not count towards the wait.
    assert with_root(app, lambda root: root["users"]["ada"].failures) == 1


def test_a_disabled_accounts_open_session_ends_on_its_next_request(app, testapp):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    testapp.get("/users/ada/", status=200)
    # Even if the session record survived the disabling:
    set_state(app, "ada", disabled=True)
    assert testapp.get("/users/ada/", status=303).location.startswith(
        "http://example.com/login"
    )
    set_state(app, "ada", disabled=False)
    # Enabled again, the record still there: the same browser is back in.
    testapp.get("/users/ada/", status=200)


def test_a_disabled_account_cannot_reset_its_password(app, testapp, maildir):
    add_user(app, "ada")
    set_state(app, "ada", disabled=True)
    form = testapp.get("/reset-password").forms["reset-form"]
    form["login"] = "ada"
    page = form.submit(status=303).follow()
    assert "If an account matches" in page.text
    assert messages(maildir) == []


def test_an_account_disabled_during_a_reset_cannot_finish_it(app, testapp, maildir):
    add_user(app, "ada")
    form = testapp.get("/reset-password").forms["reset-form"]
    form["login"] = "ada"
    page = form.submit(status=303).follow()
    set_state(app, "ada", disabled=True)
    # As for every code flow: whoever holds the right code learns that it
    # can no longer be used, and nothing changes.
    refused = reset_with(page, last_code(maildir), status=303)
    assert refused.location == "http://example.com/reset-password"
    assert "can no longer be used" in refused.follow().text
    set_state(app, "ada", disabled=False)
    sign_in(fresh(app), "ada", PASSWORD, status=303)


def test_an_account_disabled_during_a_code_flow_cannot_finish_it(app, testapp, maildir):
    add_user(app, "ada", confirmed=False)
    page = sign_in(testapp, "ada", status=303).follow()
    set_state(app, "ada", disabled=True)
    form = page.forms["code-form"]
    form["code"] = last_code(maildir)
    again = form.submit(status=303)
    assert again.location == "http://example.com/login"
    assert "can no longer be used" in again.follow().text
    testapp.get("/users/ada/", status=303)
    assert state(app, "ada")[2] is False


# Must reset


def test_must_reset_sends_the_right_password_to_the_reset(app, testapp, maildir):
    add_user(app, "ada")
    set_state(app, "ada", must_reset=True)
    wrong = sign_in(testapp, "ada", "not the password at all", status=400)
    assert GENERIC_FAILURE in wrong.text
    assert messages(maildir) == []
    response = sign_in(testapp, "ada", status=303)
    assert response.location == "http://example.com/new-password"
    page = response.follow()
    assert "A new password must be set" in page.text
    mail = messages(maildir)[-1]
    assert mail["Subject"] == "Your wingapp password reset code"
    assert mail["To"] == "ada@example.org"
    testapp.get("/users/ada/", status=303)  # not signed in
    done = reset_with(page, last_code(maildir))
    assert done.location == "http://example.com/login"
    assert state(app, "ada") == ("active", False, True, False)
    sign_in(fresh(app), "ada", PASSWORD, status=400)
    sign_in(fresh(app), "ada", NEW_PASSWORD, status=303)
    assert ("sign-in", "failure", "must reset") in kinds(app, "ada")


def test_must_reset_asked_again_at_once_says_to_wait(app, testapp, maildir):
    add_user(app, "ada")
    set_state(app, "ada", must_reset=True)
    sign_in(testapp, "ada", status=303)
    again = sign_in(fresh(app), "ada", status=400)
    assert "A code was sent moments ago" in again.text
    assert len(messages(maildir)) == 1


def test_must_reset_works_before_the_address_is_confirmed(app, testapp, maildir):
    add_user(app, "ada", confirmed=False)
    set_state(app, "ada", must_reset=True)
    page = sign_in(testapp, "ada", status=303).follow()
    reset_with(page, last_code(maildir))
    assert state(app, "ada") == ("active", False, True, False)


def test_an_unconfirmed_account_still_cannot_reset(app, testapp, maildir):
    add_user(app, "ada", confirmed=False)
    form = testapp.get("/reset-password").forms["reset-form"]
    form["login"] = "ada"
    form.submit(status=303)
    assert messages(maildir) == []


def test_an_account_without_a_password_sets_its_first_by_reset(app, testapp, maildir):
    add_passwordless(app, "ada")
    login = testapp.get("/login")
    assert "have no password yet" in login.text
    # No password signs in, the empty one included.
    assert GENERIC_FAILURE in sign_in(testapp, "ada", PASSWORD, status=400).text
    form = testapp.get("/login").forms["login-form"]
    form["login"] = "ada"
    form.submit(status=400)
    assert messages(maildir) == []
    form = testapp.get("/reset-password").forms["reset-form"]
    form["login"] = "ada@example.org"
    page = form.submit(status=303).follow()
    reset_with(page, last_code(maildir))
    assert state(app, "ada") == ("active", False, True, False)
    sign_in(testapp, "ada", NEW_PASSWORD, status=303)


# Codes mailed with a link


@pytest.mark.parametrize(
    ("purpose", "subject", "words"),
    [
        (
            "welcome",
            "Your new wingapp account: set your password",
            "An administrator has made you an account on wingapp",
        ),
        (
            "forced-reset",
            "Set a new password for your wingapp account",
            "Your old password no longer signs you in",
        ),
    ],
)
def test_a_reset_link_sets_the_password_in_any_browser(
    app, maildir, purpose, subject, words
):
    add_passwordless(app, "ada")
    mail_link(app, "ada", purpose)
    mail = messages(maildir)[-1]
    assert mail["Subject"] == subject
    assert mail["To"] == "ada@example.org"
    text = body(mail)
    assert words in text
    assert "http://example.com" in text
    html = mail.get_body(("html",)).get_content()
    assert words in html
    link = the_link(maildir)
    assert link.startswith("/new-password?code=")
    browser = fresh(app)
    page = browser.get(link)
    assert "Enter the code from the email" in page.text
    reset_with(page, last_code(maildir))
    assert state(app, "ada") == ("active", False, True, False)
    sign_in(browser, "ada", NEW_PASSWORD, status=303)
    # Used, the link is stale.
    stale = fresh(app).get(link, status=400)
    assert "This link can no longer be used" in stale.text
    assert "Forgot your password?" in stale.text
    assert ("code-sent", "success", None) in kinds(app, "ada")


def test_a_confirmation_link_confirms_without_signing_in(app, maildir):
    add_user(app, "ada", confirmed=False)
    mail_link(app, "ada", "confirm")
    mail = messages(maildir)[-1]
    assert mail["Subject"] == "Confirm your email address for wingapp"
    assert "Please confirm that this is the email address" in body(mail)
    link = the_link(maildir)
    assert link.startswith("/confirm-email?code=")
    browser = fresh(app)
    page = browser.get(link)
    assert "Enter the code from the email." in page.text
    form = page.forms["code-form"]
    form["code"] = last_code(maildir)
    done = form.submit(status=303)
    assert done.location == "http://example.com/login"
    assert "Your email address is confirmed. Sign in now" in done.follow().text
    browser.get("/users/ada/", status=303)
    assert state(app, "ada") == ("active", False, True, False)
    assert "Sign in to have a new code sent" in browser.get(link, status=400).text
    sign_in(browser, "ada", PASSWORD, status=303)


def test_a_new_link_at_once_replaces_the_old_one(app, maildir):
    add_passwordless(app, "ada")
    mail_link(app, "ada", "welcome")
    first = the_link(maildir)
    # No cool-down for an administrator: the second goes out at once.
    mail_link(app, "ada", "forced-reset")
    second, code = the_link(maildir), last_code(maildir)
    assert len(messages(maildir)) == 2
    fresh(app).get(first, status=400)
    reset_with(fresh(app).get(second), code)


def test_an_expired_link_is_stale(app, clock, maildir):
    add_passwordless(app, "ada")
    mail_link(app, "ada", "welcome")
    clock.advance(minutes=11)
    page = fresh(app).get(the_link(maildir), status=400)
    assert "Ask for a new code" in page.text


@pytest.mark.parametrize(
    "query",
    [
        "code=",
        "code=no-such-code&n=x",
        "code={code}&n=wrong",
        "code={code}",
        "code={code}&n=" + "x" * 65,
    ],
)
def test_a_link_that_is_not_one_we_sent_is_stale(app, maildir, query):
    add_passwordless(app, "ada")
    mail_link(app, "ada", "welcome")
    code_id = re.search(r"code=([^&\s]+)", the_link(maildir)).group(1)
    browser = fresh(app)
    browser.get("/new-password?" + query.format(code=code_id), status=400)
    # A reset code's link does not open the confirmation either.
    browser.get(
        the_link(maildir).replace("/new-password", "/confirm-email"), status=400
    )


def test_a_link_for_an_account_since_disabled_or_deleted_is_stale(app, maildir):
    add_passwordless(app, "ada")
    mail_link(app, "ada", "welcome")
    link = the_link(maildir)
    set_state(app, "ada", disabled=True)
    fresh(app).get(link, status=400)
    set_state(app, "ada", disabled=False)
    with_root(app, lambda root: root["users"].remove("ada"), commit=True)
    fresh(app).get(link, status=400)
