"""Mail bodies from templates: the same facts in text and in HTML, the text
never HTML-escaped, the HTML never carrying a visitor's markup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from wingapp.interfaces import IClock, IKeyring, IMailer
from wingapp.mail.templates import one_line, templated_message, utc_minute
from wingapp.users.mail import (
    already_registered_message,
    email_changed_message,
    password_changed_message,
)

NOW = datetime(2025, 3, 1, 12, 5, 30, tzinfo=UTC)
SCRIPT = "<script>alert('hi')</script> & \"quoted\""


def text(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def html(msg) -> str:
    return msg.get_body(("html",)).get_content()


class User:
    def __init__(self, name: str = "ada") -> None:
        self.__name__ = name

    def email(self, keyring) -> str:
        assert keyring == "the keyring"
        return "ada@example.org"


def request(client_addr="192.0.2.7", user_agent="TestBrowser/42"):
    services = {
        IMailer: SimpleNamespace(default_sender="wingapp <noreply@example.org>"),
        IKeyring: "the keyring",
        IClock: lambda: NOW,
    }
    return SimpleNamespace(
        find_service=services.__getitem__,
        root="the root",
        client_addr=client_addr,
        user_agent=user_agent,
        public_url=lambda name="": f"https://wing.example/{name}?a=1&b=2",
    )


def test_a_templated_message_is_text_then_html():
    msg = templated_message(
        "test_message", {}, subject="Hi", sender="a@example.org", to="b@example.org"
    )
    assert (msg["Subject"], msg["From"], msg["To"]) == (
        "Hi",
        "a@example.org",
        "b@example.org",
    )
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert "<title>Hi</title>" in html(msg)


def test_the_password_notice_says_when_where_and_what_to_do():
    msg = password_changed_message(request(), User(), reset=False)
    assert msg["Subject"] == "Your wingapp password was changed"
    assert msg["To"] == "ada@example.org"
    assert msg["From"] == "wingapp <noreply@example.org>"
    body = text(msg)
    assert body.startswith("Hello ada,\n")
    assert "was changed on 2025-03-01 12:05 UTC\n" in body
    assert "from IP address 192.0.2.7\n" in body
    assert "with the browser TestBrowser/42.\n" in body
    assert "Every other session of your account has been signed out." in body
    assert body.endswith(
        "reset your password at once:\nhttps://wing.example/reset-password?a=1&b=2\n"
    )
    page = " ".join(html(msg).split())
    assert "<p>Hello ada,</p>" in page
    assert "was changed on 2025-03-01 12:05 UTC from IP address 192.0.2.7" in page
    assert "with the browser TestBrowser/42." in page
    assert "Every other session of your account has been signed out." in page
    assert '<a href="https://wing.example/reset-password?a=1&amp;b=2">' in page


def test_the_password_notice_says_when_it_was_a_reset():
    msg = password_changed_message(request(), User(), reset=True)
    assert "was reset with an emailed code on 2025-03-01" in text(msg)
    assert "was reset with an emailed code on 2025-03-01" in html(msg)
    assert "was changed on" not in text(msg)


def test_what_the_request_says_is_text_in_the_text_and_escaped_in_the_html():
    msg = password_changed_message(request(user_agent=SCRIPT), User(), reset=False)
    assert f"with the browser {SCRIPT}.\n" in text(msg)
    page = html(msg)
    assert "<script>" not in page
    assert "&lt;script&gt;alert('hi')&lt;/script&gt; &amp; " in page


def test_the_requests_own_words_cannot_add_lines_to_the_notice():
    forged = "Evil\r\n\r\nIf this was you, open https://evil.example"
    body = text(
        password_changed_message(
            request(client_addr=None, user_agent=forged), User(), reset=False
        )
    )
    assert "from IP address unknown\n" in body
    assert "with the browser Evil If this was you, open https://evil.example.\n" in body


def test_the_already_registered_notice_offers_sign_in_and_reset():
    msg = already_registered_message(request(), "ADA@example.org")
    assert msg["To"] == "ADA@example.org"
    assert msg["Subject"] == (
        "Someone tried to create a wingapp account with your address"
    )
    body = text(msg)
    assert "which already has an account." in body
    assert "sign in instead:\nhttps://wing.example/login?a=1&b=2\n" in body
    assert "forgotten it:\nhttps://wing.example/reset-password?a=1&b=2\n" in body
    assert body.endswith("If it was not you, you need do nothing.\n")
    page = html(msg)
    assert '<a href="https://wing.example/login?a=1&amp;b=2">' in page
    assert '<a href="https://wing.example/reset-password?a=1&amp;b=2">' in page
    assert "which already has an account." in page


def test_the_email_changed_notice_goes_to_the_old_address():
    msg = email_changed_message(request(), User("<b>ada</b>"), "old@example.org")
    assert msg["To"] == "old@example.org"
    assert msg["Subject"] == "Your wingapp email address was changed"
    body = text(msg)
    assert body.startswith("Hello <b>ada</b>,\n")
    assert "was changed on 2025-03-01 12:05 UTC; mail now goes" in body
    assert "reset it at once at\nhttps://wing.example/reset-password?a=1&b=2\n" in body
    page = html(msg)
    assert "<p>Hello &lt;b&gt;ada&lt;/b&gt;,</p>" in page
    assert "<b>" not in page
    assert '<a href="https://wing.example/reset-password?a=1&amp;b=2">' in page


def test_times_are_given_in_utc_to_the_minute():
    east = datetime(2025, 3, 1, 13, 5, 59, tzinfo=timezone(timedelta(hours=1)))
    assert utc_minute(east) == "2025-03-01 12:05 UTC"


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        (None, "unknown"),
        ("", "unknown"),
        (" \t\r\n", "unknown"),
        ("a\r\nb\x00c", "a b c"),
        ("x" * 200, "x" * 200),
        ("x" * 201, "x" * 199 + "…"),
    ],
)
def test_one_line(said, shown):
    assert one_line(said) == shown
