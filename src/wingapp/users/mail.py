"""Notices mailed to account holders (codes have their own, in codes.mail).

The bodies are templates in ``templates/mail/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from ..agents import browser_label
from ..codes.mail import _duration as duration
from ..interfaces import IClock, IKeyring, IMailer
from ..mail.templates import one_line, templated_message, utc_minute


def notice(
    request: Any, name: str, to: str, subject: str, values: Mapping[str, Any]
) -> EmailMessage:
    return templated_message(
        name,
        values,
        subject=subject,
        sender=request.find_service(IMailer).default_sender,
        to=to,
    )


def browser_values(agent: str | None) -> dict[str, str]:
    """A mail's ``browser`` ("Firefox 130 on Linux") and ``agent`` (the
    whole User-Agent, which the mail shows after it when it says more)."""
    return {"browser": one_line(browser_label(agent)), "agent": one_line(agent)}


def _reset_url(request: Any) -> str:
    return request.public_url("reset-password")


def password_changed_message(request: Any, user: Any, reset: bool) -> EmailMessage:
    return notice(
        request,
        "password_changed",
        user.email(request.find_service(IKeyring)),
        "Your wingapp password was changed",
        {
            "login": user.__name__,
            "reset": reset,
            "when": utc_minute(request.find_service(IClock)()),
            "ip": one_line(request.client_addr),
            **browser_values(request.user_agent),
            "reset_url": _reset_url(request),
        },
    )


def already_registered_message(request: Any, to: str) -> EmailMessage:
    """Sent instead of a code when someone registers with a known address:
    the page must not reveal that the address has an account, the owner
    should know someone tried."""
    return notice(
        request,
        "already_registered",
        to,
        "Someone tried to create a wingapp account with your address",
        {
            "login_url": request.public_url("login"),
            "reset_url": _reset_url(request),
        },
    )


def email_changed_message(request: Any, user: Any, old_address: str) -> EmailMessage:
    """To the old address: the account has moved, and how to get it back."""
    return notice(
        request,
        "email_changed",
        old_address,
        "Your wingapp email address was changed",
        {
            "login": user.__name__,
            "when": utc_minute(request.find_service(IClock)()),
            "reset_url": _reset_url(request),
        },
    )


CODE_LINK_SUBJECTS = {
    "welcome": "Your new wingapp account: set your password",
    "forced-reset": "Set a new password for your wingapp account",
    "confirm": "Confirm your email address for wingapp",
}


def code_link_message(
    request: Any, user: Any, purpose: str, code: str, link: str, lifetime: timedelta
) -> EmailMessage:
    """A code an administrator had sent, with the link that opens the page
    to enter it: ``purpose`` is "welcome", "forced-reset" or "confirm"."""
    message = notice(
        request,
        "code_link",
        user.email(request.find_service(IKeyring)),
        CODE_LINK_SUBJECTS[purpose],
        {
            "purpose": purpose,
            "login": user.__name__,
            "site": request.public_url(),
            "code": code,
            "link": link,
            "lifetime": duration(lifetime),
            "when": utc_minute(request.find_service(IClock)()),
        },
    )
    message["Auto-Submitted"] = "auto-generated"
    return message
