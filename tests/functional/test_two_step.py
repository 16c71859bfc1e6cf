"""Two-step sign-in: a code by email from a device or network not yet trusted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import accounts
from tests.accounts import (
    Clock,
    add_user,
    body,
    last_code,
    messages,
    not_me_link,
    sign_in,
    with_root,
)
from tests.conftest import use_service
from wingapp.interfaces import IClock

HOME_IP = "192.0.2.10"
SAME_NETWORK_IP = "192.0.2.99"
OTHER_IP = "203.0.113.5"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/42"


def browser(app, ip=HOME_IP):
    return accounts.browser(app, ip, BROWSER)


def at(testapp, ip):
    testapp.extra_environ["REMOTE_ADDR"] = ip
    return testapp


def verify(testapp, code, status=303):
    form = testapp.get("/verify").forms["code-form"]
    form["code"] = code
    return form.submit(status=status)


def test_first_sign_in_asks_for_a_code_then_trusts_the_place(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    response = sign_in(ada, "ada", status=303)
    assert response.location == "http://example.com/verify"
    mail = messages(maildir)[-1]
    text = body(mail)
    assert mail["To"] == "ada@example.org"
    assert HOME_IP in text
    assert "TestBrowser/42" in text
    assert clock.now.strftime("%Y-%m-%d %H:%M") in text
    assert "http://example.com/not-me?code=" in text
    done = verify(ada, last_code(maildir))
    assert done.location == "http://example.com/users/ada/"
    page = done.follow()
    assert "TestBrowser/42" in page.text  # the trusted device
    assert "192.0.2.0/24" in page.text  # the trusted network
    # Same browser, same network: no code this time.
    page.forms["signout-form"].submit()
    count = len(messages(maildir))
    assert sign_in(ada, "ada", status=303).location == "http://example.com/users/ada/"
    assert len(messages(maildir)) == count
    kinds = [e.kind for e in with_root(app, lambda root: root.audit.newest(100))][::-1]
    assert kinds == [
        "code-sent",
        "code-verified",
        "device-trusted",
        "network-trusted",
        "sign-in",
        "sign-out",
        "sign-in",
    ]


def test_a_new_network_or_a_new_device_asks_again(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada")
    verify(ada, last_code(maildir))
    ada.get("/users/ada/").forms["signout-form"].submit()
    # Another address in the same /24 is the same network.
    assert sign_in(at(ada, SAME_NETWORK_IP), "ada").location.endswith("/users/ada/")
    ada.get("/users/ada/").forms["signout-form"].submit()
    assert sign_in(at(ada, OTHER_IP), "ada").location == "http://example.com/verify"
    # A new browser on the trusted network is a new device. (A new code may
    # be sent a minute after the last.)
    clock.advance(seconds=61)
    assert sign_in(browser(app), "ada").location == "http://example.com/verify"


@pytest.mark.parametrize(
    ("mode", "new_ip_asks", "new_device_asks"),
    [
        ("never", False, False),
        ("new_ip", True, False),
        ("new_device", False, True),
        ("new_ip_or_device", True, True),
        ("always", True, True),
    ],
)
def test_two_step_modes(settings, mode, new_ip_asks, new_device_asks):
    from wingapp import main

    app = main({}, **{**settings, "auth.two_step": mode})
    clock = Clock()
    use_service(app.registry, clock, IClock)
    maildir = Path(settings["mail.maildir"])
    add_user(app, "ada")
    ada = browser(app)
    first = sign_in(ada, "ada")
    if first.location.endswith("/verify"):
        verify(ada, last_code(maildir))
    ada.get("/users/ada/").forms["signout-form"].submit()
    clock.advance(seconds=61)
    asked = sign_in(at(ada, OTHER_IP), "ada").location.endswith("/verify")
    assert asked == new_ip_asks
    clock.advance(seconds=61)
    asked = sign_in(browser(app), "ada").location.endswith("/verify")
    assert asked == new_device_asks
    app.registry._zodb_databases[""].close()


def test_unknown_two_step_mode_is_a_clear_configuration_error(settings):
    from wingapp import main

    with pytest.raises(
        SystemExit, match=r"auth\.two_step must be one of never, new_ip"
    ):
        main({}, **{**settings, "auth.two_step": "sometimes"})


def test_five_wrong_codes_cancel_the_code(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada")
    code = last_code(maildir)
    wrong = "1" * len(code) if code != "1" * len(code) else "2" * len(code)
    for left in (4, 3, 2, 1):
        refused = verify(ada, wrong, status=400)
        assert f"{left} attempt" in refused.text
    cancelled = verify(ada, wrong)
    assert cancelled.location == "http://example.com/login"
    assert "this code is cancelled" in cancelled.follow().text
    # The right code no longer helps, and the flow is gone.
    assert ada.get("/verify").location == "http://example.com/login"
    failures = [
        e
        for e in with_root(app, lambda root: root.audit.newest(100))
        if e.kind == "code-failed"
    ]
    assert len(failures) == 5


def test_an_expired_sign_in_cannot_be_finished(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada")
    code = last_code(maildir)
    clock.advance(minutes=10, seconds=1)
    page = ada.get("/verify", status=303).follow()
    assert "That sign-in has expired. Sign in again." in page.text
    # Signing in again sends a new code; the old one is refused.
    sign_in(ada, "ada")
    refused = verify(ada, code, status=400)
    assert "not right" in refused.text


def test_resend_waits_a_minute_and_replaces_the_code(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada")
    resend = ada.get("/verify").forms["resend-form"]
    assert "Wait" in resend.submit(status=429).text
    clock.advance(seconds=61)
    page = ada.get("/verify").forms["resend-form"].submit(status=303).follow()
    assert "A new code is on its way" in page.text
    second = last_code(maildir)
    # The first code is cancelled, whatever its digits; the second works.
    states = with_root(
        app, lambda root: sorted(c.state for c in root["codes"].values())
    )
    assert states == ["cancelled", "pending"]
    assert verify(ada, second).location.endswith("/users/ada/")


def test_this_wasnt_me_ends_every_session(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada")
    verify(ada, last_code(maildir))
    # Someone else, elsewhere, has the password.
    intruder = browser(app, ip=OTHER_IP)
    sign_in(intruder, "ada")
    code = last_code(maildir)
    link = not_me_link(maildir)
    owner = browser(app)
    page = owner.get(link)
    assert "This wasn't me" in page.text
    done = page.forms["not-me-form"].submit(status=303)
    assert done.location == "http://example.com/reset-password"
    assert "signed out every session" in done.follow().text
    ada.get("/users/ada/", status=303)
    # The intruder's code was cancelled: the sign-in has to start over.
    refused = verify(intruder, code)
    assert refused.location == "http://example.com/login"
    assert "can no longer be used" in refused.follow().text
    assert with_root(app, lambda root: len(root["users"]["ada"].sessions)) == 0
    kinds = [e.kind for e in with_root(app, lambda root: root.audit.newest(100))]
    assert "not-me" in kinds


def test_a_tampered_not_me_link_is_refused(app, clock, maildir):
    add_user(app, "ada")
    sign_in(browser(app), "ada")
    link = not_me_link(maildir)
    page = browser(app).get(link[:-3] + "abc", status=400)
    assert "This link is not valid" in page.text
    browser(app).get("/not-me", status=400)


def test_revoking_a_trusted_device_asks_for_a_code_again(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada")
    verify(ada, last_code(maildir))
    page = ada.get("/users/ada/")
    forms = [f for f in page.forms.values() if f.action.endswith("/revoke-trust")]
    assert len(forms) == 2
    for form in forms:
        form.submit(status=303)
    assert "Removed." in ada.get("/users/ada/").text
    assert "ada/revoke-trust" not in ada.get("/users/ada/").text
    assert "not trusted any more" in forms[0].submit(status=400).text
    ada.get("/users/ada/").forms["signout-form"].submit()
    assert sign_in(ada, "ada").location.endswith("/verify")


def test_unconfirmed_account_confirms_its_email_at_sign_in(app, clock, maildir):
    add_user(app, "ada", confirmed=False)
    ada = browser(app)
    assert sign_in(ada, "ada").location == "http://example.com/confirm-email"
    form = ada.get("/confirm-email").forms["code-form"]
    form["code"] = last_code(maildir)
    assert form.submit(status=303).location == "http://example.com/users/ada/"
    assert with_root(app, lambda root: root["users"]["ada"].email_confirmed)


def test_verify_page_without_a_sign_in_sends_to_login(app):
    response = browser(app).get("/verify", status=303)
    assert response.location == "http://example.com/login"
    page = browser(app).post("/verify", {"code": "123456"}, status=400)
    assert "Form expired" in page.text


def test_a_second_new_place_within_a_minute_must_wait(app, clock, maildir):
    add_user(app, "ada")
    sign_in(browser(app), "ada")
    refused = sign_in(browser(app, ip=OTHER_IP), "ada", status=400)
    assert "A code was sent moments ago. Wait 60 seconds" in refused.text


def test_a_code_at_the_end_of_its_ten_minutes_has_expired(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada")
    code = last_code(maildir)
    clock.advance(minutes=10)
    refused = verify(ada, code)
    assert refused.location == "http://example.com/login"
    assert "This code has expired" in refused.follow().text


def test_a_locked_account_cannot_use_a_code_either(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada")
    code = last_code(maildir)
    for _ in range(5):
        sign_in(browser(app), "ada", "wrong password entirely", status=400)
    refused = verify(ada, code, status=400)
    assert "Wait a minute and try again" in refused.text
    clock.advance(seconds=61)
    assert verify(ada, code).location.endswith("/users/ada/")


def wrong_code(code):
    return f"{(int(code) + 1) % 10**6:06d}"


def test_the_right_password_does_not_reset_the_count_of_wrong_codes(
    app, clock, maildir
):
    """Someone who knows the password cannot guess codes without end: the
    wrong codes keep counting across sign-ins until one succeeds."""
    add_user(app, "ada")

    def failures():
        return with_root(app, lambda root: root["users"]["ada"].failures)

    intruder = browser(app)
    sign_in(intruder, "ada")
    for _ in range(4):
        verify(intruder, wrong_code(last_code(maildir)), status=400)
    assert failures() == 4
    clock.advance(seconds=61)  # a new code may be asked for
    sign_in(intruder, "ada")
    assert failures() == 4  # the right password again: still counting
    verify(intruder, wrong_code(last_code(maildir)), status=400)
    assert failures() == 5
    # The fifth wrong code makes the account wait: even the right code waits.
    refused = verify(intruder, last_code(maildir), status=400)
    assert "Wait a minute and try again" in refused.text
    clock.advance(seconds=61)
    assert verify(intruder, last_code(maildir)).location.endswith("/users/ada/")
    assert failures() == 0  # a completed sign-in ends the count


def test_a_garbled_device_cookie_is_a_new_device(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    ada.set_cookie("wingapp_device", "garbage")
    assert sign_in(ada, "ada").location.endswith("/verify")
    verify(ada, last_code(maildir))
    assert ada.cookies["wingapp_device"] != "garbage"


def test_posting_a_code_without_a_sign_in_starts_over(app):
    ada = browser(app)
    token = ada.get("/login").forms["login-form"]["csrf_token"].value
    response = ada.post("/verify", {"code": "123456", "csrf_token": token}, status=303)
    assert response.location == "http://example.com/login"


def test_not_me_for_a_removed_account_still_cancels_the_code(app, clock, maildir):
    add_user(app, "ada")
    sign_in(browser(app), "ada")
    link = not_me_link(maildir)

    def remove(root):
        root["users"].remove("ada")

    with_root(app, remove, commit=True)
    page = browser(app).get(link)
    assert (
        page.forms["not-me-form"]
        .submit(status=303)
        .location.endswith("/reset-password")
    )
    states = with_root(app, lambda root: [c.state for c in root["codes"].values()])
    assert states == ["cancelled"]


def test_a_code_page_of_a_removed_account_sends_nothing_more(app, clock, maildir):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada, "ada")
    sent = len(messages(maildir))
    with_root(app, lambda root: root["users"].remove("ada"), commit=True)
    clock.advance(seconds=61)
    again = ada.get("/verify").forms["resend-form"].submit(status=303)
    assert again.location == "http://example.com/verify"
    assert len(messages(maildir)) == sent
    form = ada.get("/verify").forms["code-form"]
    form["code"] = last_code(maildir)
    assert form.submit(status=303).location == "http://example.com/login"
