"""Notices mailed to account holders (codes have their own, in codes.mail)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any


def notice(request: Any, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = request.registry.mailer.default_sender
    message["To"] = to
    message.set_content(text)
    return message


def password_changed_message(request: Any, user: Any, reset: bool) -> EmailMessage:
    registry = request.registry
    when = registry.clock().strftime("%Y-%m-%d %H:%M UTC")
    how = "reset with an emailed code" if reset else "changed"
    return notice(
        request,
        user.email(registry.keyring),
        "Your wingapp password was changed",
        f"Hello {user.__name__},\n\n"
        f"The password of your wingapp account was {how} on {when}\n"
        f"from IP address {request.client_addr or 'unknown'}\n"
        f"with the browser {request.user_agent or 'unknown'}.\n\n"
        "Every other session of your account has been signed out.\n\n"
        "If this was not you, reset your password at once:\n"
        f"{request.resource_url(request.root, 'reset-password')}\n",
    )


def already_registered_message(request: Any, to: str) -> EmailMessage:
    """Sent instead of a code when someone registers with a known address:
    the page must not reveal that the address has an account, the owner
    should know someone tried."""
    return notice(
        request,
        to,
        "Someone tried to create a wingapp account with your address",
        "Hello,\n\n"
        "Someone tried to create a new wingapp account with this email address,\n"
        "which already has an account.\n\n"
        "If it was you, sign in instead:\n"
        f"{request.resource_url(request.root, 'login')}\n\n"
        "or reset your password if you have forgotten it:\n"
        f"{request.resource_url(request.root, 'reset-password')}\n\n"
        "If it was not you, you need do nothing.\n",
    )


def email_changed_message(request: Any, user: Any, old_address: str) -> EmailMessage:
    """To the old address: the account has moved, and how to get it back."""
    registry = request.registry
    return notice(
        request,
        old_address,
        "Your wingapp email address was changed",
        f"Hello {user.__name__},\n\n"
        "The email address of your wingapp account was changed on "
        f"{registry.clock():%Y-%m-%d %H:%M} UTC; mail now goes to the new address.\n\n"
        "If this was not you, someone has your password: reset it at once at\n"
        f"{request.resource_url(request.root, 'reset-password')}\n"
        "and tell the site's administrators.\n",
    )
