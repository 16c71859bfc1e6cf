"""What a person filling in the account forms reads: every error beside its
field at once, where a code went and why it was asked, and the ways out of
a half-finished change."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import accounts
from tests.accounts import (
    CODE_LINE,
    NEW_PASSWORD,
    PASSWORD,
    add_user,
    body,
    last_code,
    messages,
    sign_in,
    with_root,
)
from tests.functional.test_accounts import register
from tests.functional.test_two_step import BROWSER, OTHER_IP, at, browser, verify
from wingapp import main
from wingapp.codes.models import CANCELLED

WEAK = "password"


def words(page) -> str:
    """The page's main text, as one line."""
    return " ".join(page.html.find("main").get_text().split())


def field_errors(page) -> dict[str, tuple[str, str]]:
    """Each field marked invalid: (its message, what describes it)."""
    found = {}
    for field in page.html.select("[aria-invalid=true]"):
        message = page.html.find(id=f"{field['id']}-error")
        found[field["id"]] = (message.get_text(strip=True), field["aria-describedby"])
    return found


def summary_links(page) -> list[tuple[str, str]]:
    box = page.html.find(id="form-errors")
    assert box["role"] == "alert" and box["tabindex"] == "-1"
    return [(a["href"], a.get_text(strip=True)) for a in box.find_all("a")]


def test_every_registration_error_shows_beside_its_field_at_once(app, maildir):
    page = register(
        browser(app), login="a!", email="not an address", password=WEAK
    ).submit(status=400)
    errors = field_errors(page)
    assert list(errors) == ["login", "email", "password"]
    assert errors["login"] == (
        "A login name has 3 to 32 letters, digits, dots, dashes or underscores, "
        "and starts and ends with a letter or digit.",
        "login-error login-help",
    )
    assert errors["email"] == (
        "Enter one email address, like name@example.org.",
        "email-error",
    )
    assert errors["password"][1] == "password-error password-help password-feedback"
    assert [href for href, _ in summary_links(page)] == [
        "#login",
        "#email",
        "#password",
    ]
    assert (
        summary_links(page)[1][1] == "Enter one email address, like name@example.org."
    )
    # Focus goes to the summary (forms.js), not to the first field.
    assert page.html.find(autofocus=True) is None
    assert messages(maildir) == []


def test_the_forms_own_checks_and_the_account_rules_speak_together(app):
    page = register(browser(app), login="", email="x@", password=WEAK).submit(
        status=400
    )
    errors = field_errors(page)
    assert errors["login"][0] == "Enter your login name."
    assert errors["email"][0] == "Enter one email address, like name@example.org."
    assert "password" in errors


def test_a_taken_login_is_marked_beside_the_login(app):
    add_user(app, "ada")
    page = register(browser(app), email="other@example.org").submit(status=400)
    assert field_errors(page) == {
        "login": ("This login name is taken. Choose another.", "login-error login-help")
    }


def test_a_clean_form_has_no_marks_and_focuses_its_first_field(app):
    page = browser(app).get("/register")
    assert page.html.select("[aria-invalid]") == []
    assert page.html.find(id="form-errors") is None
    assert page.html.find(id="login")["autofocus"] == "autofocus"
    assert page.html.find(id="login")["aria-describedby"] == "login-help"


def test_the_current_password_is_not_a_new_one(app, clock):
    ada = signed_in(app)
    form = ada.get("/users/ada/password").forms["password-form"]
    form["current_password"] = PASSWORD
    form["password"] = form["password_confirm"] = PASSWORD
    page = form.submit(status=400)
    assert field_errors(page)["password"][0] == (
        "That is your current password. Choose a new one."
    )
    form = page.forms["password-form"]
    form["current_password"] = PASSWORD
    form["password"] = form["password_confirm"] = NEW_PASSWORD
    assert form.submit(status=303).location == "http://example.com/users/ada/"


def signed_in(app, login="ada", roles=("user",)):
    """A browser signed in to a new account ``login`` (two-step done)."""
    add_user(app, login, roles=roles)
    client = browser(app)
    sign_in(client, login)
    verify(client, last_code(Path(app.registry.settings["mail.maildir"])))
    return client


def start_email_change(client, email="ada.new@example.net"):
    form = client.get("/users/ada/email").forms["email-form"]
    form["email"] = email
    form["current_password"] = PASSWORD
    return form.submit(status=303).follow()


def test_the_email_change_page_sends_a_new_code(app, clock, maildir):
    ada = signed_in(app)
    page = start_email_change(ada)
    first = last_code(maildir)
    # Too soon: say how long to wait, beside nothing, in the summary.
    soon = page.forms["resend-form"].submit(status=429)
    assert "A code was sent moments ago. Wait 60 seconds" in soon.text
    clock.advance(seconds=61)
    again = page.forms["resend-form"].submit(status=303).follow()
    assert "A new code is on its way." in again.text
    second = last_code(maildir)
    assert messages(maildir)[-1]["To"] == "ada.new@example.net"
    form = again.forms["code-form"]
    form["code"] = first
    if first != second:
        assert form.submit(status=400).html.find(id="code-error") is not None
        form = again.forms["code-form"]
    form["code"] = second
    assert form.submit(status=303).location == "http://example.com/users/ada/"


def test_the_email_change_can_be_cancelled(app, clock, maildir):
    ada = signed_in(app)
    page = start_email_change(ada)
    done = page.forms["cancel-form"].submit(status=303)
    assert done.location == "http://example.com/users/ada/"
    assert "The email change is cancelled" in done.follow().text
    # The change is gone: its page starts again, its code opens nothing.
    assert ada.get("/users/ada/confirm-email-change", status=303).location.endswith(
        "/users/ada/email"
    )
    assert "ada@example.org" in ada.get("/users/ada/").text
    newest = with_root(
        app, lambda root: root["codes"].newest_code("ada", "change-email").state
    )
    assert newest == CANCELLED


def test_the_confirm_page_says_where_the_code_went_the_same_for_a_taken_address(
    app, clock, maildir
):
    add_user(app, "bob", "adele@example.org")
    new = register(browser(app), email="ada@example.org").submit().follow()
    taken = (
        register(browser(app), login="eve", email="adele@example.org").submit().follow()
    )
    for page in (new, taken):
        assert "Enter the code we have emailed to a•••@example.org." in words(page)
    form = new.forms["code-form"]
    form["code"] = last_code_of_to(maildir, "ada@example.org")
    done = form.submit(status=303).follow()
    assert "Your email address is confirmed. Welcome!" in done.text


def last_code_of_to(maildir, address):
    for message in reversed(messages(maildir)):
        if message["To"] == address:
            return CODE_LINE.search(body(message)).group(1)
    raise AssertionError(f"no code to {address}")


@pytest.mark.parametrize(
    ("ip", "new_browser", "reason"),
    [
        (OTHER_IP, False, "a network this account has not used before"),
        (None, True, "a browser this account has not used before"),
        (OTHER_IP, True, "a browser and a network this account has not used before"),
    ],
)
def test_the_code_page_says_why_a_code_is_asked(app, clock, ip, new_browser, reason):
    ada = signed_in(app)
    ada.get("/users/ada/").forms["signout-form"].submit()
    clock.advance(seconds=61)
    client = browser(app) if new_browser else ada
    if ip:
        at(client, ip)
    assert sign_in(client, "ada").location == "http://example.com/verify"
    page = client.get("/verify")
    assert f"You are signing in from {reason}." in words(page)
    assert "We have emailed a code to a•••@example.org;" in words(page)


def test_every_sign_in_asks_when_the_site_says_so(app, settings, clock):
    always = accounts.browser(
        main({}, **{**settings, "auth.two_step": "always"}), agent=BROWSER
    )
    add_user(always.app, "ada")
    sign_in(always, "ada")
    assert "This site asks for a code at every sign-in." in always.get("/verify").text


def test_signing_in_elsewhere_moments_after_registering_goes_to_the_code(
    app, clock, maildir
):
    register(browser(app)).submit(status=303)
    code = last_code(maildir)
    elsewhere = browser(app, ip=OTHER_IP)
    response = sign_in(elsewhere, "ada")
    assert response.location == "http://example.com/confirm-email"
    page = response.follow()
    assert "Enter the code we emailed you moments ago." in page.text
    assert len(messages(maildir)) == 1  # no second code
    form = page.forms["code-form"]
    form["code"] = code
    assert form.submit(status=303).location == "http://example.com/users/ada/"


def test_a_waiting_account_is_told_in_general_words(app, clock):
    add_user(app, "ada")
    client = browser(app)
    for _ in range(5):
        sign_in(client, "ada", password="not the password", status=400)
    page = sign_in(client, "ada", status=400)
    nobody = sign_in(browser(app), "nobody", status=400)
    words = (
        "After several failed attempts, sign-in waits a few minutes before it "
        "accepts even the right password"
    )
    assert words in page.text and words in nobody.text
    assert (
        page.html.find(id="form-errors").get_text()
        == nobody.html.find(id="form-errors").get_text()
    )


def test_an_admin_gets_no_password_or_email_page_of_another_account(app, clock):
    add_user(app, "bob")
    admin = signed_in(app, "root", roles=("user", "admin"))
    for path in ("/users/bob/password", "/users/bob/email"):
        admin.get(path, status=403)
        admin.post(path, {"csrf_token": "x"}, status=403)
    admin.get("/users/bob/confirm-email-change", status=403)
    # Nor a link to them on the account's page.
    links = [a["href"] for a in admin.get("/users/bob/").html.select("main a")]
    assert "http://example.com/users/bob/password" not in links
    assert "http://example.com/users/bob/activity" in links
    own = [a["href"] for a in admin.get("/users/root/").html.select("main a")]
    assert "http://example.com/users/root/password" in own
    # Their own they keep.
    assert admin.get("/users/root/password").forms["password-form"]
    assert admin.get("/users/root/email").forms["email-form"]


def test_resend_and_cancel_for_an_address_of_another_account_look_the_same(
    app, clock, maildir
):
    add_user(app, "bob", "bob@example.org")
    ada = signed_in(app)
    page = start_email_change(ada, "bob@example.org")
    mailed = len(messages(maildir))
    clock.advance(seconds=61)
    again = page.forms["resend-form"].submit(status=303).follow()
    assert "A new code is on its way." in again.text
    # No code goes to another account's address, now or before.
    assert len(messages(maildir)) == mailed
    done = again.forms["cancel-form"].submit(status=303).follow()
    assert "The email change is cancelled" in done.text
