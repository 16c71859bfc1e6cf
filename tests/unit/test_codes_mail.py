"""The message that carries a code."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from wingapp.codes.mail import code_message

WHEN = datetime(2025, 3, 1, 13, 5, tzinfo=timezone(timedelta(hours=1)))
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def message(**kw):
    args = {
        "to": "Alice <alice@example.org>",
        "code": "493817",
        "purpose": "sign-in",
        "sender": "wingapp <noreply@example.org>",
        "when": WHEN,
        "ip": "203.0.113.9",
        "user_agent": FIREFOX,
        "deny_url": "https://example.org/not-me?code=abc&t=def",
        **kw,
    }
    return code_message(**args)


def test_sign_in_message_says_when_where_and_the_code():
    msg = message()
    assert msg["Subject"] == "Your wingapp sign-in code"
    assert msg["To"] == "Alice <alice@example.org>"
    assert msg["From"] == "wingapp <noreply@example.org>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "text/plain"
    body = msg.get_content()
    lines = body.splitlines()
    assert "Code: 493817" in lines
    assert "  Time:       2025-03-01 12:05 UTC" in lines
    assert "  IP address: 203.0.113.9" in lines
    assert f"  Browser:    {FIREFOX}" in lines
    assert "valid for 10 minutes" in body
    assert "  https://example.org/not-me?code=abc&t=def" in lines
    assert "This wasn't me" in lines
    explanation = " ".join(body.split())
    assert "cancels the code, ends all sessions of your account" in explanation
    assert "starts a password reset" in explanation


def test_without_a_deny_link_it_says_to_ignore_it():
    body = message(purpose="confirm-email", deny_url=None).get_content()
    assert "not-me" not in body
    assert "This wasn't me" not in body
    assert "you can ignore this message" in body


@pytest.mark.parametrize(
    ("purpose", "subject"),
    [
        ("confirm-email", "Your wingapp code to confirm your email address"),
        ("reset-password", "Your wingapp password reset code"),
        ("change-email", "Your wingapp code to change your email address"),
    ],
)
def test_subject_by_purpose(purpose, subject):
    assert message(purpose=purpose)["Subject"] == subject


def test_unknown_purpose_is_refused():
    with pytest.raises(ValueError, match="Unknown code purpose"):
        message(purpose="hello")


def test_the_requests_own_words_cannot_add_lines_or_run_long():
    forged = "Evil\r\nCode: 000000\n\nClick https://evil.example"
    body = message(user_agent=forged + "x" * 500, ip=None).get_content()
    lines = body.splitlines()
    assert [line for line in lines if line.startswith("Code:")] == ["Code: 493817"]
    browser = next(line for line in lines if line.startswith("  Browser:"))
    assert browser.startswith("  Browser:    Evil Code: 000000 Click")
    assert len(browser) == len("  Browser:    ") + 200
    assert browser.endswith("…")
    assert "  IP address: unknown" in lines
    assert "  Browser:    unknown" in message(user_agent=" \t").get_content()


@pytest.mark.parametrize(
    ("lifetime", "said"),
    [
        (timedelta(minutes=5), "valid for 5 minutes"),
        (timedelta(minutes=1), "valid for 1 minute "),
        (timedelta(seconds=90), "valid for 90 seconds"),
    ],
)
def test_the_validity_follows_the_lifetime(lifetime, said):
    assert said in message(lifetime=lifetime).get_content()


def test_non_ascii_details_survive():
    msg = message(to="Zoë <zoe@example.org>", user_agent="Navigateur ünï")
    assert "Navigateur ünï" in msg.get_content()
    assert str(msg["To"]) == "Zoë <zoe@example.org>"
