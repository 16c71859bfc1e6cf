"""Issuing and checking one-time codes (numbers in SECURITY.md).

The service takes its collaborators (the container, the keyring, a clock and
the settings) as arguments, so tests hand it a fake clock.
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .generator import make_code
from .models import (
    CANCELLED,
    EXPIRED,
    PENDING,
    USED,
    Code,
    Codes,
    check_purpose,
)
from .settings import CodeSettings

DIGEST_LABEL = "one-time-code"
"""The keyring purpose for code digests: its own derived key, so a code's
digest can never be mistaken for any other keyed hash."""


def code_digest(keyring: Any, code_id: str, code: str) -> str:
    # The id is hashed with the digits, so two codes with the same digits
    # have different digests and one stored digest tells nothing of another.
    return keyring.mac(DIGEST_LABEL, f"{code_id}:{code}")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class CodeCooldown(Exception):
    """A new code was asked for too soon after the last one."""

    def __init__(self, seconds_left: int) -> None:
        super().__init__(f"Wait {seconds_left} s before asking for another code.")
        self.seconds_left = seconds_left


@dataclass(frozen=True)
class VerifyResult:
    """What checking an entered code found.

    ``reason`` is one of "ok", "wrong", "too-many-attempts", "expired",
    "used", "cancelled", "not-found" or "mismatch". A mismatch (the code
    belongs to another purpose, owner or flow) should look to the person
    like a code that does not exist.
    """

    reason: str
    attempts_left: int = 0

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


class CodeService:
    def __init__(
        self,
        codes: Codes,
        keyring: Any,
        now: Callable[[], datetime],
        settings: CodeSettings | None = None,
    ) -> None:
        self.codes = codes
        self.keyring = keyring
        self.now = now
        # Parsed once at start-up (codes.includeme), not per request.
        self.settings = settings or CodeSettings()

    def issue(self, purpose: str, owner: str, binding: str) -> tuple[Code, str]:
        """Make a code for ``owner``; return it and its digits, which exist
        only in this return value and in the message that carries them.

        ``binding`` is an opaque string standing for the pending sign-in or
        email change that asked for the code (a keyed hash of its nonce);
        the code is good for that flow only.
        """
        check_purpose(purpose)
        if not binding:
            raise ValueError("A code must be bound to the flow that asks for it.")
        now = self.now()
        previous = self.codes.newest_code(owner, purpose)
        if previous is not None:
            self._settle(previous, now)
            if previous.state == PENDING:
                wait = previous.created + self.settings.resend_after - now
                if wait > timedelta(0):
                    raise CodeCooldown(math.ceil(wait.total_seconds()))
                # Only one code per owner and purpose is ever pending (each
                # new one cancels the last), so the newest is the only one.
                previous.state = CANCELLED
        code_id = secrets.token_urlsafe(16)
        plain = make_code(self.settings.digits)
        code = Code(
            purpose=purpose,
            owner=owner,
            binding=binding,
            digest=code_digest(self.keyring, code_id, plain),
            created=now,
            expires=now + self.settings.lifetime,
        )
        self.codes.add(code_id, code)
        return code, plain

    def adopt(self, owner: str, purpose: str, binding: str) -> Code | None:
        """Bind ``owner``'s pending code for ``purpose`` to another flow
        (``binding``), and return it; None if none is pending. For a code
        sent moments ago to a browser the owner has left: the flow that
        proved who they are takes it over, and the first can no longer
        use it."""
        code = self.codes.newest_code(owner, purpose)
        if code is None:
            return None
        self._settle(code, self.now())
        if code.state != PENDING:
            return None
        code.binding = binding
        return code

    def verify(
        self, code_id: str, purpose: str, owner: str, binding: str, entered: str
    ) -> VerifyResult:
        """Check ``entered`` against the code ``code_id``; a success uses it up."""
        code = self.codes.get(code_id)
        if code is None:
            return VerifyResult("not-found")
        # Checked before anything else, so a code of another flow reveals
        # nothing, not even whether it is still pending.
        if (
            code.purpose != purpose
            or code.owner != owner
            or not _same(code.binding, binding)
        ):
            return VerifyResult("mismatch")
        self._settle(code, self.now())
        if code.state != PENDING:
            return VerifyResult(code.state)
        max_attempts = self.settings.max_attempts
        # People type "123 456" or paste " 123456 "; anything else that is
        # not the code (letters, other scripts' digits) is simply wrong.
        digits = "".join(entered.split())
        if _same(code_digest(self.keyring, code_id, digits), code.digest):
            code.state = USED
            return VerifyResult("ok", max_attempts - code.attempts)
        code.attempts += 1
        left = max_attempts - code.attempts
        if left <= 0:
            code.state = CANCELLED
            return VerifyResult("too-many-attempts")
        return VerifyResult("wrong", left)

    def cancel(self, code_id: str) -> bool:
        """Cancel a pending code; False if there is none by that id."""
        code = self.codes.get(code_id)
        return code is not None and self._cancel(code)

    def sweep(self, retention: timedelta | None = None) -> int:
        """Remove codes that expired more than ``retention`` ago (default:
        the codes.retention_days setting); return how many."""
        if retention is None:
            retention = self.settings.retention
        doomed = self.codes.expired_before(self.now() - retention)
        for code_id in doomed:
            self.codes.remove(code_id)
        return len(doomed)

    @staticmethod
    def _cancel(code: Code) -> bool:
        if code.state != PENDING:
            return False
        code.state = CANCELLED
        return True

    @staticmethod
    def _settle(code: Code, now: datetime) -> None:
        """Record that a pending code has expired, now that someone looked."""
        if code.state == PENDING and code.status(now) == EXPIRED:
            code.state = EXPIRED
