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


def text(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def html(msg) -> str:
    return msg.get_body(("html",)).get_content()


def test_sign_in_message_says_when_where_and_the_code():
    msg = message()
    assert msg["Subject"] == "Your wingapp sign-in code"
    assert msg["To"] == "Alice <alice@example.org>"
    assert msg["From"] == "wingapp <noreply@example.org>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    # Text first: a reader that cannot show HTML takes the first part.
    assert [p.get_content_type() for p in msg.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    body = text(msg)
    lines = body.splitlines()
    assert "Code: 493817" in lines
    assert "  Time:       2025-03-01 12:05 UTC" in lines
    assert "  IP address: 203.0.113.9" in lines
    # The browser as a person knows it, then the whole string it sent.
    assert f"  Browser:    Firefox 128 on Linux ({FIREFOX})" in lines
    assert "valid for 10 minutes" in body
    assert "  https://example.org/not-me?code=abc&t=def" in lines
    assert "This wasn't me" in lines
    explanation = " ".join(body.split())
    assert "cancels the code, ends all sessions of your account" in explanation
    assert "starts a password reset" in explanation


def test_without_a_deny_link_it_says_to_ignore_it():
    msg = message(purpose="confirm-email", deny_url=None)
    for body in (text(msg), html(msg)):
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
    body = text(message(user_agent=forged + "x" * 500, ip=None))
    lines = body.splitlines()
    assert [line for line in lines if line.startswith("Code:")] == ["Code: 493817"]
    browser = next(line for line in lines if line.startswith("  Browser:"))
    assert browser.startswith("  Browser:    Evil Code: 000000 Click")
    # A short name (60 characters at most), then the string (200 at most).
    assert len(browser) == len("  Browser:    ") + 60 + len(" ()") + 200
    assert browser.endswith("…)")
    assert "  IP address: unknown" in lines
    assert "  Browser:    unknown" in text(message(user_agent=" \t")).splitlines()


@pytest.mark.parametrize(
    ("lifetime", "said"),
    [
        (timedelta(minutes=5), "valid for 5 minutes"),
        (timedelta(minutes=1), "valid for 1 minute "),
        (timedelta(seconds=90), "valid for 90 seconds"),
    ],
)
def test_the_validity_follows_the_lifetime(lifetime, said):
    msg = message(lifetime=lifetime)
    assert said in text(msg)
    assert said in html(msg)


def test_non_ascii_details_survive():
    msg = message(to="Zoë <zoe@example.org>", user_agent="Navigateur ünï")
    assert "Navigateur ünï" in text(msg)
    assert "Navigateur ünï" in html(msg)
    assert str(msg["To"]) == "Zoë <zoe@example.org>"


def test_the_html_part_tells_the_same():
    page = html(message())
    assert "<title>Your wingapp sign-in code</title>" in page
    assert "Someone is signing in to your wingapp account" in page
    assert ">493817</strong>" in page
    assert "<td>2025-03-01 12:05 UTC</td>" in page
    assert "<td>203.0.113.9</td>" in page
    assert f"<td>Firefox 128 on Linux ({FIREFOX})</td>" in page
    assert "valid for 10 minutes" in page
    assert "This wasn't me" in page
    assert '<a href="https://example.org/not-me?code=abc&amp;t=def">' in page
    assert "starts a password reset" in " ".join(page.split())


@pytest.mark.parametrize(
    ("purpose", "reason"),
    [
        ("confirm-email", "Someone asked to confirm this email address"),
        ("sign-in", "Someone is signing in to your wingapp account"),
        ("reset-password", "Someone asked to reset the password"),
        ("change-email", "Someone asked to make this the email address"),
    ],
)
def test_each_purpose_says_why_it_came_and_only_that(purpose, reason):
    msg = message(purpose=purpose)
    for body in (text(msg), html(msg)):
        assert reason in body
        assert body.count("Someone ") == 1


def test_what_the_browser_says_is_shown_as_text_never_as_markup():
    agent = "<script>alert('hi')</script> & <b>bold</b>"
    msg = message(user_agent=agent)
    assert f"  Browser:    {agent}" in text(msg).splitlines()
    page = html(msg)
    assert "<script>" not in page
    assert "<b>" not in page
    assert "&lt;script&gt;alert('hi')&lt;/script&gt; &amp; &lt;b&gt;bold" in page


def test_the_text_part_ends_with_one_line_break():
    body = text(message())
    assert body.endswith("can no longer use it.\n")
    assert not body.endswith("\n\n")
