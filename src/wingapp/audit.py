"""The event log: every authentication decision and admin action.

Append-only and uncapped; the reports are built from it. Each entry holds
when, what, whom, from where and the outcome. IP addresses and user agents
are personal data and are stored encrypted. Passwords, codes and session
ids never reach it: the event classes have no field for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from persistent import Persistent

from .txn import keep_changes_on_error

# The kinds of event, so reports can count them by name.
KINDS = frozenset(
    {
        "registration",
        "email-confirmed",
        "sign-in",
        "sign-out",
        "timeout",
        "code-sent",
        "code-verified",
        "code-failed",
        "lockout",
        "password-change",
        "password-reset",
        "email-change",
        "session-ended",
        "device-trusted",
        "trust-revoked",
        "not-me",
        "admin-action",
    }
)
OUTCOMES = frozenset({"success", "failure"})


@dataclass(frozen=True)
class AuditEvent:
    """A Pyramid event; the audit subscriber writes it to the log."""

    request: Any
    kind: str
    outcome: str = "success"
    login: str | None = None
    actor: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}")


class Entry(Persistent):
    def __init__(
        self,
        time: datetime,
        kind: str,
        outcome: str,
        login: str | None,
        actor: str | None,
        ip_token: bytes | None,
        ua_token: bytes | None,
        detail: dict[str, Any],
    ) -> None:
        self.time = time
        self.kind = kind
        self.outcome = outcome
        self.login = login
        self.actor = actor
        self.ip_token = ip_token
        self.ua_token = ua_token
        self.detail = dict(detail)


class AuditLog(Persistent):
    """Entries keyed by their time in microseconds, shifted left to leave
    room for up to 1024 entries in the same microsecond, in the order they
    were written.

    Requests writing at different instants insert distinct keys, which
    BTree conflict resolution merges; two at the very same microsecond
    conflict and pyramid_retry runs one of them again.
    """

    __name__ = "audit"
    __parent__ = None

    def __init__(self) -> None:
        self.entries = LOBTree()
        self._count = Length()

    def __len__(self) -> int:
        return self._count()

    def append(self, entry: Entry) -> int:
        key = int(entry.time.timestamp() * 1_000_000) << 10
        while key in self.entries:
            key += 1
        self.entries[key] = entry
        self._count.change(1)
        return key

    def between(self, start: datetime, end: datetime) -> Iterator[Entry]:
        """Entries with start <= time < end, oldest first."""
        low = int(start.timestamp() * 1_000_000) << 10
        high = (int(end.timestamp() * 1_000_000) << 10) - 1
        return iter(self.entries.values(low, high))

    def newest(self, n: int) -> list[Entry]:
        keys = self.entries.keys()
        count = len(self)
        return [self.entries[k] for k in reversed(keys[max(count - n, 0) : count])]


def record(event: AuditEvent) -> None:
    request = event.request
    keyring = request.registry.keyring
    ip = request.client_addr
    agent = request.user_agent
    entry = Entry(
        time=request.registry.clock(),
        kind=event.kind,
        outcome=event.outcome,
        login=event.login,
        actor=event.actor,
        ip_token=keyring.encrypt(ip) if ip else None,
        ua_token=keyring.encrypt(agent) if agent else None,
        detail=event.detail,
    )
    request.root.audit.append(entry)


def notify(request: Any, kind: str, **kw: Any) -> None:
    request.registry.notify(AuditEvent(request, kind, **kw))


def failed(
    request: Any, kind: str, user: Any, counts: bool = True, **detail: Any
) -> None:
    """Record a refused attempt; if it ``counts``, towards the account's
    back-off too (announcing a lockout when it starts one).

    The answer to the request is an error, which would abort the
    transaction: this failure is what must be kept, so it is.
    """
    keep_changes_on_error(request)
    login = None if user is None else user.__name__
    notify(request, kind, outcome="failure", login=login, detail=detail)
    registry = request.registry
    if counts and user is not None and registry.backoff.fail(user, registry.clock()):
        notify(request, "lockout", outcome="failure", login=login)


def utcnow() -> datetime:
    return datetime.now(UTC)


def includeme(config) -> None:
    config.registry.clock = utcnow
    config.add_subscriber(record, AuditEvent)
