"""The email that carries a code."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

from ..agents import browser_label
from ..mail.templates import one_line, templated_message, utc_minute
from .models import check_purpose

SUBJECTS = {
    "confirm-email": "Your wingapp code to confirm your email address",
    "sign-in": "Your wingapp sign-in code",
    "reset-password": "Your wingapp password reset code",
    "change-email": "Your wingapp code to change your email address",
}


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
    """A message, in text and in HTML, with ``code`` on a line of its own
    ("Code: …"), the time, IP address and browser of the request that asked
    for it, how long it is valid, and, given ``deny_url``, the "this wasn't
    me" link."""
    check_purpose(purpose)
    values = {
        "purpose": purpose,
        "when": utc_minute(when),
        "ip": one_line(ip),
        "browser": one_line(browser_label(user_agent)),
        "agent": one_line(user_agent),
        "code": code,
        "lifetime": _duration(lifetime),
        "deny_url": deny_url,
    }
    message = templated_message(
        "code", values, subject=SUBJECTS[purpose], sender=sender, to=to
    )
    # Out-of-office replies and the like should not answer this (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    return message
