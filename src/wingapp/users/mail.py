"""Notices mailed to account holders (codes have their own, in codes.mail)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any


def password_changed_message(request: Any, user: Any, reset: bool) -> EmailMessage:
    registry = request.registry
    when = registry.clock().strftime("%Y-%m-%d %H:%M UTC")
    how = "reset with an emailed code" if reset else "changed"
    message = EmailMessage()
    message["Subject"] = "Your wingapp password was changed"
    message["From"] = registry.mailer.default_sender
    message["To"] = user.email(registry.keyring)
    message.set_content(
        f"Hello {user.__name__},\n\n"
        f"The password of your wingapp account was {how} on {when}\n"
        f"from IP address {request.client_addr or 'unknown'}\n"
        f"with the browser {request.user_agent or 'unknown'}.\n\n"
        "Every other session of your account has been signed out.\n\n"
        "If this was not you, reset your password at once:\n"
        f"{request.resource_url(request.root, 'reset-password')}\n"
    )
    return message


def already_registered_message(request: Any, to: str) -> EmailMessage:
    """Sent instead of a code when someone registers with a known address:
    the page must not reveal that the address has an account, the owner
    should know someone tried."""
    registry = request.registry
    message = EmailMessage()
    message["Subject"] = "Someone tried to create a wingapp account with your address"
    message["From"] = registry.mailer.default_sender
    message["To"] = to
    message.set_content(
        "Hello,\n\n"
        "Someone tried to create a new wingapp account with this email address,\n"
        "which already has an account.\n\n"
        "If it was you, sign in instead:\n"
        f"{request.resource_url(request.root, 'login')}\n\n"
        "or reset your password if you have forgotten it:\n"
        f"{request.resource_url(request.root, 'reset-password')}\n\n"
        "If it was not you, you need do nothing.\n"
    )
    return message


def email_changed_message(request: Any, user: Any, old_address: str) -> EmailMessage:
    """To the old address: the account has moved, and how to get it back."""
    registry = request.registry
    message = EmailMessage()
    message["Subject"] = "Your wingapp email address was changed"
    message["From"] = registry.mailer.default_sender
    message["To"] = old_address
    message.set_content(
        f"Hello {user.__name__},\n\n"
        "The email address of your wingapp account was changed on "
        f"{registry.clock():%Y-%m-%d %H:%M} UTC; mail now goes to the new address.\n\n"
        "If this was not you, someone has your password: reset it at once at\n"
        f"{request.resource_url(request.root, 'reset-password')}\n"
        "and tell the site's administrators.\n"
    )
    return message
