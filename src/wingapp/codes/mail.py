"""The email that carries a code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from .models import check_purpose

SUBJECTS = {
    "confirm-email": "Your wingapp code to confirm your email address",
    "sign-in": "Your wingapp sign-in code",
    "reset-password": "Your wingapp password reset code",
    "change-email": "Your wingapp code to change your email address",
}

REASONS = {
    "confirm-email": "Someone asked to confirm this email address for a wingapp account.",
    "sign-in": "Someone is signing in to your wingapp account and was asked for a code.",
    "reset-password": "Someone asked to reset the password of your wingapp account.",
    "change-email": "Someone asked to make this the email address of a wingapp account.",
}

# What the request said about itself is the sender's text, not ours: it
# may carry line breaks meant to forge lines of the message, or be long.
MAX_DETAIL = 200


def _detail(text: str | None) -> str:
    printable = "".join(c if c.isprintable() else " " for c in text or "")
    flat = " ".join(printable.split())
    if len(flat) > MAX_DETAIL:
        return flat[: MAX_DETAIL - 1] + "…"
    return flat or "unknown"


def _duration(lifetime: timedelta) -> str:
    seconds = int(lifetime.total_seconds())
    if seconds % 60:
        return f"{seconds} seconds"
    minutes = seconds // 60
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def code_message(
    *,
    to: str,
    code: str,
    purpose: str,
    sender: str,
    when: datetime,
    ip: str | None,
    user_agent: str | None,
    deny_url: str | None,
    lifetime: timedelta = timedelta(minutes=10),
) -> EmailMessage:
    """A plain-text message with ``code`` on a line of its own ("Code: …"),
    the time, IP address and browser of the request that asked for it, how
    long it is valid, and, given ``deny_url``, the "this wasn't me" link."""
    check_purpose(purpose)
    lines = [
        "Hello,",
        "",
        REASONS[purpose],
        "",
        f"  Time:       {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        f"  IP address: {_detail(ip)}",
        f"  Browser:    {_detail(user_agent)}",
        "",
        f"Code: {code}",
        "",
        f"The code is valid for {_duration(lifetime)} and works once. Never give it "
        "to anyone: wingapp will never ask you for it by phone or email.",
        "",
    ]
    if deny_url:
        lines += [
            "This wasn't me",
            "",
            "If you did not ask for this code, open this link:",
            "",
            f"  {deny_url}",
            "",
            "It cancels the code, ends all sessions of your account (signing "
            "everyone out, everywhere) and starts a password reset, so that "
            "whoever knows your password can no longer use it.",
        ]
    else:
        lines.append("If you did not ask for this code, you can ignore this message.")
    message = EmailMessage()
    message["Subject"] = SUBJECTS[purpose]
    message["From"] = sender
    message["To"] = to
    # Out-of-office replies and the like should not answer this (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join(lines) + "\n")
    return message
