"""Attacks on an account whose password is known (guessing codes for an
hour, what "this wasn't me" leaves the password able to do), and on the
links the site mails (a forged Host)."""

from __future__ import annotations

import base64
import contextlib
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.accounts import (
    PASSWORD,
    add_user,
    body,
    last_code,
    messages,
    not_me_link,
    sign_in,
    with_root,
)
from tests.functional.test_two_step import OTHER_IP, browser, verify
from wingapp import main


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


# --- Links in mail, and the hosts the site answers to (issue 9, item 1) ---


def from_host(app, host: str, ip: str = "192.0.2.10"):
    import webtest

    return webtest.TestApp(
        app,
        extra_environ={"HTTP_HOST": host, "REMOTE_ADDR": ip, "HTTP_USER_AGENT": "T/1"},
    )


def test_a_request_for_another_host_is_refused_before_any_view(app, maildir):
    add_user(app, "ada")
    # The attacker's form: a page fetched from the real site, posted with a
    # Host of their own.
    form = browser(app).get("/reset-password").forms["reset-form"]
    form["login"] = "ada"
    answer = form.submit(headers={"Host": "evil.example"}, status=400)
    assert "does not answer to the host name" in answer.text
    assert "evil.example" not in answer.headers.get("Location", "")
    assert "default-src" in answer.headers["Content-Security-Policy"]
    assert messages(maildir) == []
    # A page, an error page and a port do not matter: the name does.
    from_host(app, "evil.example:6543").get("/login", status=400)
    from_host(app, "evil.example").get("/no-such-page", status=400)
    from_host(app, "example.com:8080").get("/login", status=200)
    from_host(app, "EXAMPLE.COM.").get("/login", status=200)
    from_host(app, "exa mple.com").get("/login", status=400)


def test_links_in_mail_come_from_the_public_address(settings, maildir):
    # An operator who lets any host through (a proxy in front decides)
    # still mails links to the public address, whatever Host was asked.
    settings = {**settings, "wingapp.allowed_hosts": "*"}
    app = main({}, **settings)
    add_user(app, "ada")
    intruder = from_host(app, "evil.example", ip=OTHER_IP)
    answer = sign_in(intruder, "ada", status=303)
    # The redirect goes back to the host that asked (it is the browser's),
    # the mail does not.
    assert answer.location == "http://evil.example/verify"
    text = body(messages(maildir)[-1])
    assert "http://example.com/not-me?code=" in text
    assert "evil.example" not in text

    form = intruder.get("/register").forms["register-form"]
    form["login"] = "mallory"
    form["email"] = "ada@example.org"
    form["password"] = form["password_confirm"] = PASSWORD
    form.submit()
    text = body(messages(maildir)[-1])
    assert "http://example.com/login" in text
    assert "http://example.com/reset-password" in text
    assert "evil.example" not in text


def test_a_site_mounted_under_a_path_mails_links_under_it(settings, maildir):
    settings = {**settings, "wingapp.public_url": "https://example.com/wing/"}
    app = main({}, **settings)
    add_user(app, "ada")
    sign_in(from_host(app, "example.com", ip=OTHER_IP), "ada", status=303)
    assert "https://example.com/wing/not-me?code=" in body(messages(maildir)[-1])


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"wingapp.public_url": ""}, "wingapp.public_url is not set"),
        ({"wingapp.public_url": "example.com"}, "wingapp.public_url must be"),
        ({"wingapp.public_url": "ftp://example.com"}, "wingapp.public_url must be"),
        ({"wingapp.public_url": "https://a@example.com"}, "wingapp.public_url must"),
        ({"wingapp.public_url": "https://example.com/?x=1"}, "public_url must be"),
        ({"wingapp.public_url": "https://exa_mple com"}, "public_url must be"),
        ({"wingapp.allowed_hosts": "example.com bad/host"}, "got bad/host"),
    ],
)
def test_a_bad_public_address_or_host_list_stops_the_start(settings, changes, says):
    with pytest.raises(SystemExit) as stopped:
        main({}, **{**settings, **changes})
    assert says in str(stopped.value)


def test_allowed_hosts_default_to_the_public_address_and_take_domains(settings):
    plain = {**settings, "wingapp.allowed_hosts": ""}
    app = main({}, **{**plain, "wingapp.public_url": "https://[2001:db8::1]:8443"})
    from_host(app, "[2001:db8::1]:8443").get("/login", status=200)
    from_host(app, "example.com").get("/login", status=400)
    from_host(app, "[2001:db8::1]x").get("/login", status=400)

    app = main({}, **{**settings, "wingapp.allowed_hosts": ".example.org, [::1]"})
    for host in ("example.org", "a.b.example.org:80", "[::1]:6543"):
        from_host(app, host).get("/login", status=200)
    for host in ("badexample.org", "example.org.evil", "[::2]"):
        from_host(app, host).get("/login", status=400)
