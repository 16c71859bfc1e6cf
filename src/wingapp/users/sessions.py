"""Server-side sign-in sessions.

The browser holds a random session id (256 bits) in the signed cookie
session; the server keeps a record under the keyed hash of that id on the
user. Signing out or timing out removes the record, so a copied cookie is
worthless afterwards. The record's clock moves only on state-changing
requests (the keep-alive ping among them), and at most once a minute:
reading a page writes nothing, and a burst of requests writes it once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from persistent import Persistent
from ZODB.POSException import ConflictError

from ..settings import validate
from .models import Sessions
from .settings import TIMEOUTS

ACTIVITY_STEP = timedelta(minutes=1)
"""How far the activity clock must be behind before a request moves it:
a minute, or a tenth of a shorter idle timeout."""


CLOCKS = ("last_active", "reauthenticated")
"""The times of a session that its requests move; nothing else of a
session ever changes."""


class SignInSession(Persistent):
    reauthenticated: datetime | None = None
    """When the password was last given again in this session (before a
    sensitive change); None until then. A class default, so that records
    written before it existed read it too."""

    def __init__(
        self, created: datetime, ip_token: bytes | None, ua_token: bytes | None
    ):
        self.created = created
        self.last_active = created
        self.ip_token = ip_token
        self.ua_token = ua_token

    def _p_resolveConflict(self, old: dict, committed: dict, new: dict) -> dict:
        # Two requests of one session moved its clocks at once (the
        # activity, or the re-authentication): the later time of each
        # counts. Any other difference is a real conflict.
        def rest(state: dict) -> dict:
            return {k: v for k, v in state.items() if k not in CLOCKS}

        if rest(committed) != rest(new):
            raise ConflictError
        resolved = dict(new)
        for name in CLOCKS:
            # A state that never had the time (an older record, or no
            # re-authentication yet) leaves it out.
            times = [state[name] for state in (committed, new) if name in state]
            if times:
                resolved[name] = max(times)
        return resolved


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    warning: timedelta = timedelta(minutes=2)
    reauth: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Timeouts:
        return cls.from_values(validate(TIMEOUTS, settings))

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Timeouts:
        """From the typed values of the settings schema."""
        return cls(
            idle=values["session.idle_timeout"],
            absolute=values["session.absolute_timeout"],
            warning=values["session.idle_warning"],
            reauth=values["auth.reauth_after"],
        )


def duration(span: timedelta) -> str:
    """A setting's time as a person reads it: "15 minutes", "1 minute",
    "90 seconds"."""
    seconds = int(span.total_seconds())
    number, unit = (
        (seconds // 60, "minute") if seconds % 60 == 0 else (seconds, "second")
    )
    return f"{number} {unit}{'' if number == 1 else 's'}"


NOT_ACTIVITY = "wingapp.not_activity"
"""Set in the environ of a request whose view is not user activity."""


def activity_view(view: Any, info: Any) -> Any:
    """The view option ``activity=False``: a request to this view does not
    count as the user's activity, so looking up its session writes nothing
    (the strength meter scores a password while it is being typed; only the
    form that sends it is activity). Runs before the permission check, which
    is what first looks the session up."""
    if info.options.get("activity", True):
        return view

    def not_activity(context: Any, request: Any) -> Any:
        request.environ[NOT_ACTIVITY] = True
        return view(context, request)

    return not_activity


activity_view.options = ("activity",)  # type: ignore[attr-defined]


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
        if not isinstance(user.sessions, Sessions):
            # Made before session trees had a floor: it gets one now.
            user.sessions = Sessions(user.sessions)
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

    def touch(self, record: SignInSession) -> None:
        """Count activity now, unless some was counted less than a minute
        ago: the idle timeout is in minutes, and every write is a chance to
        conflict with another request of the same session. (An idle timeout
        of under ten minutes, as in a demonstration, moves in tenths of it.)"""
        now = self.now()
        if now - record.last_active >= min(ACTIVITY_STEP, self.timeouts.idle / 10):
            record.last_active = now

    def reauth_due(self, record: SignInSession) -> bool:
        """Whether a sensitive change (an address, roles, a password) must
        ask for the password again first (ASVS 3.7.1): the sign-in, or the
        last time the password was given in this session, is older than
        ``auth.reauth_after``. Someone else may be sitting at a browser
        left signed in."""
        last = record.reauthenticated or record.created
        return self.now() - last > self.timeouts.reauth

    def reauth_prompt(self, record: SignInSession) -> str | None:
        """What to tell a person asked for their password again; None while
        their sign-in is recent enough."""
        if not self.reauth_due(record):
            return None
        return (
            f"Enter your password: you signed in more than "
            f"{duration(self.timeouts.reauth)} ago."
        )

    def reauthenticated(self, record: SignInSession) -> None:
        """The password was given again: sensitive changes need it no more
        for another ``auth.reauth_after``."""
        record.reauthenticated = self.now()

    def end(self, user: Any, key: str) -> bool:
        return user.sessions.pop(key, None) is not None

    def end_all(self, user: Any, keep: str | None = None) -> int:
        """End every session of ``user`` but ``keep``; return how many.

        Not by deleting the records one by one: a sign-in committing at the
        same moment adds its record to that tree, BTrees merge an insert
        with deletes, and the new session would outlive a disable or a
        password change. The account gets a new tree instead (holding only
        ``keep``): the sign-in's record lands in the old one, which nothing
        reaches any more, and the old tree is not written, so the two
        requests do not even conflict.
        """
        old = user.sessions
        kept = {keep: old[keep]} if keep is not None and keep in old else {}
        user.sessions = Sessions(kept)
        return len(old) - len(kept)

    def purge_expired(self, user: Any) -> int:
        stale = [k for k, r in user.sessions.items() if not self.is_live(r)]
        for key in stale:
            del user.sessions[key]
        return len(stale)
