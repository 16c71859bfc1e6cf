"""Emailed codes in account flows: send one, check one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..audit import failed, notify
from ..codes.mail import code_message
from ..codes.services import CodeService
from .flow import Flow


def code_service(request: Any) -> CodeService:
    registry = request.registry
    return CodeService(
        request.root["codes"], registry.keyring, registry.clock, registry.code_settings
    )


# The flows a stranger could start with a stolen password.
DENIABLE = ("sign-in", "reset-password")


def not_me_url(request: Any, code_id: str) -> str:
    token = request.registry.keyring.mac("not-me", code_id)
    return request.resource_url(
        request.root, "not-me", query={"code": code_id, "t": token}
    )


def send_code(request: Any, user: Any, flow: Flow) -> None:
    """Issue a code for ``flow`` and mail it to ``user`` (for an email
    change, to the new address); raises CodeCooldown when the last one is
    too recent to send another."""
    registry = request.registry
    keyring = registry.keyring
    code, plain = code_service(request).issue(
        flow.kind, user.__name__, flow.binding(keyring)
    )
    flow.code_id = code.__name__
    message = code_message(
        to=flow.new_email or user.email(keyring),
        code=plain,
        purpose=flow.kind,
        sender=registry.mailer.default_sender,
        when=registry.clock(),
        ip=request.client_addr or "unknown",
        user_agent=request.user_agent or "unknown",
        deny_url=not_me_url(request, code.__name__) if flow.kind in DENIABLE else None,
        lifetime=code.expires - code.created,
    )
    registry.mailer.send(message, request.tm)
    notify(request, "code-sent", login=user.__name__, detail={"purpose": flow.kind})


@dataclass
class CodeCheck:
    ok: bool
    message: str = ""
    start_again: bool = False


def check_code(request: Any, user: Any, flow: Flow, entered: str) -> CodeCheck:
    registry = request.registry
    backoff = registry.backoff
    if backoff.wait(user, registry.clock()):
        return CodeCheck(
            False, "That code was not accepted. Wait a minute and try again."
        )
    result = code_service(request).verify(
        flow.code_id or "",
        flow.kind,
        user.__name__,
        flow.binding(registry.keyring),
        entered,
    )
    login = user.__name__
    if result.ok:
        backoff.succeed(user)
        notify(request, "code-verified", login=login, detail={"purpose": flow.kind})
        return CodeCheck(True)
    failed(request, "code-failed", user, purpose=flow.kind, reason=result.reason)
    if result.reason == "wrong":
        left = result.attempts_left
        return CodeCheck(
            False,
            f"That code is not right. {left} attempt{'s' if left != 1 else ''} left.",
        )
    if result.reason == "expired":
        return CodeCheck(
            False, "This code has expired. Start again to get a new one.", True
        )
    if result.reason == "too-many-attempts":
        return CodeCheck(
            False, "Too many wrong codes: this code is cancelled. Start again.", True
        )
    return CodeCheck(False, "This code can no longer be used. Start again.", True)
