"""Attacks on an account whose password is known: guessing codes for an
hour, and what "this wasn't me" leaves the password able to do."""

from __future__ import annotations

import base64
import contextlib
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from tests.accounts import (
    PASSWORD,
    add_user,
    last_code,
    not_me_link,
    sign_in,
    with_root,
)
from tests.functional.test_two_step import OTHER_IP, browser, verify


def code_failures(app) -> int:
    return with_root(
        app,
        lambda root: sum(
            1 for e in root.audit.newest(10_000) if e.kind == "code-failed"
        ),
    )


def test_a_known_password_gives_under_a_hundred_code_guesses_an_hour(app, clock):
    add_user(app, "ada")
    intruder = browser(app, ip=OTHER_IP)
    end = clock.now + timedelta(hours=1)
    guess = 0
    while clock.now < end:
        response = sign_in(intruder, "ada", status="*")
        if response.status_int == 303 and response.location.endswith("/verify"):
            # Guess until the code is cancelled or the account must wait.
            for _ in range(5):
                answer = verify(intruder, f"{guess:06d}", status="*")
                guess += 1
                if answer.status_int == 303:  # the code is used up: start again
                    break
        clock.advance(seconds=20)
    # SECURITY.md's back-off: the right password does not reset the count
    # of wrong codes, so the waits grow (60 s, 120 s, ... at most 15 min).
    # (26 here: five, then waits of 1, 2, 3, ... minutes.)
    assert 0 < code_failures(app) < 100


def test_after_this_wasnt_me_the_old_password_opens_nothing(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada")
    verify(ada, last_code(maildir))
    ada.get("/users/ada/").forms["signout-form"].submit()
    # Someone else signs in from elsewhere; the owner presses the link.
    sign_in(browser(app, ip=OTHER_IP), "ada")
    link = not_me_link(maildir)
    browser(app).get(link).forms["not-me-form"].submit(status=303)

    # The owner's own, once trusted, browser: the password alone no longer
    # signs in; a reset code is mailed instead and the page says so.
    clock.advance(seconds=61)
    response = sign_in(ada, "ada")
    assert response.location == "http://example.com/new-password"
    page = response.follow()
    assert "A new password must be set for this account" in page.text
    assert with_root(app, lambda root: len(root["users"]["ada"].trusted_devices)) == 0
    assert with_root(app, lambda root: root["users"]["ada"].must_reset) is True

    # The link, once used, says so and does nothing more.
    again = browser(app).get(link)
    assert "This link has been used: the account is secured." in again.text
    assert again.html.find(id="not-me-form") is None
    # Its button pressed twice (a form kept open) secures nothing twice.
    client = browser(app)
    token = client.get("/login").forms["login-form"]["csrf_token"].value
    query = dict(parse_qsl(urlsplit(link).query))
    pressed = client.post("/not-me", {**query, "csrf_token": token})
    assert "This link has been used" in pressed.text
    notes = with_root(
        app, lambda root: [e.kind for e in root.audit.newest(100)].count("not-me")
    )
    assert notes == 1


def readable(value: str) -> str:
    """A cookie's value with every base64 part decoded where it decodes."""
    parts = [value]
    for part in value.replace("!", ".").split("."):
        with contextlib.suppress(ValueError):
            parts.append(
                base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()
            )
    return " ".join(parts)


def test_no_address_travels_in_a_readable_cookie(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada")
    verify(ada, last_code(maildir))
    form = ada.get("/users/ada/email").forms["email-form"]
    form["email"] = "ada.new@example.net"
    form["current_password"] = PASSWORD
    form.submit(status=303)
    cookies = {c.name: readable(c.value) for c in ada.cookiejar}
    assert cookies and not any("ada.new@example.net" in v for v in cookies.values())
    # The page, not the cookie, says where the code went.
    page = ada.get("/users/ada/confirm-email-change")
    assert "ada.new@example.net" in page.text
