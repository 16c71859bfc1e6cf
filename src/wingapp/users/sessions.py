"""Server-side sign-in sessions.

The browser holds a random session id (256 bits) in the signed cookie
session; the server keeps a record under the keyed hash of that id on the
user. Signing out or timing out removes the record, so a copied cookie is
worthless afterwards. The record's clock moves only on state-changing
requests (the keep-alive ping among them): reading a page writes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from persistent import Persistent


class SignInSession(Persistent):
    def __init__(
        self, created: datetime, ip_token: bytes | None, ua_token: bytes | None
    ):
        self.created = created
        self.last_active = created
        self.ip_token = ip_token
        self.ua_token = ua_token


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    warning: timedelta = timedelta(minutes=2)

    @classmethod
    def from_settings(cls, settings: dict) -> Timeouts:
        def seconds(name: str, default: timedelta) -> timedelta:
            value = settings.get(f"session.{name}")
            return default if value is None else timedelta(seconds=int(value))

        return cls(
            idle=seconds("idle_timeout", cls.idle),
            absolute=seconds("absolute_timeout", cls.absolute),
            warning=seconds("idle_warning", cls.warning),
        )


class SessionService:
    def __init__(self, keyring: Any, timeouts: Timeouts, now: Callable[[], datetime]):
        self.keyring = keyring
        self.timeouts = timeouts
        self.now = now

    def key(self, sid: str) -> str:
        return self.keyring.mac("session", sid)

    def start(self, user: Any, ip: str | None, agent: str | None) -> str:
        """Record a new session for ``user``; return its id for the cookie."""
        sid = secrets.token_urlsafe(32)
        encrypt = self.keyring.encrypt
        user.sessions[self.key(sid)] = SignInSession(
            self.now(),
            encrypt(ip) if ip else None,
            encrypt(agent) if agent else None,
        )
        return sid

    def expiry(self, record: SignInSession) -> tuple[datetime, str]:
        """When the session ends if nothing happens, and why it would."""
        idle_end = record.last_active + self.timeouts.idle
        absolute_end = record.created + self.timeouts.absolute
        if absolute_end <= idle_end:
            return absolute_end, "absolute"
        return idle_end, "idle"

    def remaining(self, record: SignInSession) -> tuple[int, str]:
        """Whole seconds until the session ends, and why it would."""
        ends, because = self.expiry(record)
        return int((ends - self.now()).total_seconds()), because

    def is_live(self, record: SignInSession) -> bool:
        return self.now() < self.expiry(record)[0]

    def find(self, user: Any, sid: str) -> SignInSession | None:
        record = user.sessions.get(self.key(sid))
        if record is None or not self.is_live(record):
            return None
        return record

    def touch(self, record: SignInSession) -> None:
        record.last_active = self.now()

    def end(self, user: Any, key: str) -> bool:
        return user.sessions.pop(key, None) is not None

    def end_all(self, user: Any, keep: str | None = None) -> int:
        ended = [k for k in user.sessions if k != keep]
        for key in ended:
            del user.sessions[key]
        return len(ended)

    def purge_expired(self, user: Any) -> int:
        stale = [k for k, r in user.sessions.items() if not self.is_live(r)]
        for key in stale:
            del user.sessions[key]
        return len(stale)
