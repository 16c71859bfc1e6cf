"""Per-account back-off after failed passwords or codes (SECURITY.md).

After 5 failures the account waits 60 s, then 60 s more for every further
5, at most 15 minutes; the count resets after 12 hours without a failure
and on success. There is no permanent lockout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..settings import validate
from .settings import BACKOFF


@dataclass(frozen=True)
class Backoff:
    threshold: int = 5
    step: timedelta = timedelta(seconds=60)
    cap: timedelta = timedelta(minutes=15)
    reset_after: timedelta = timedelta(hours=12)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Backoff:
        return cls.from_values(validate(BACKOFF, settings))

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Backoff:
        """From the typed values of the settings schema."""
        return cls(
            threshold=values["auth.backoff_threshold"],
            step=values["auth.backoff_step"],
            cap=values["auth.backoff_cap"],
            reset_after=values["auth.backoff_reset"],
        )

    def _count(self, record: Any, now: datetime) -> int:
        last = record.last
        if last is None or now - last >= self.reset_after:
            return 0
        return record.count

    def wait(self, user: Any, now: datetime) -> timedelta:
        """How long the account must still wait before another try."""
        record = user.failed_attempts
        count = self._count(record, now)
        if count < self.threshold:
            return timedelta(0)
        delay = min(
            self.step * (1 + (count - self.threshold) // self.threshold), self.cap
        )
        return max(record.last + delay - now, timedelta(0))

    def fail(self, user: Any, now: datetime) -> bool:
        """Count a failure; True when it makes the account wait."""
        record = user.failed_attempts
        record.count = self._count(record, now) + 1
        record.last = now
        return record.count % self.threshold == 0

    def succeed(self, user: Any) -> None:
        # Most sign-ins follow no failure: they must write nothing here, or
        # every sign-in would write the record every failure writes.
        record = user.failed_attempts
        if record.count:
            record.count = 0
            record.last = None
