"""Per-account back-off after failed passwords or codes (SECURITY.md).

After 5 failures the account waits 60 s, then 60 s more for every further
5, at most 15 minutes; the count resets after 12 hours without a failure
and on success. There is no permanent lockout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Backoff:
    threshold: int = 5
    step: timedelta = timedelta(seconds=60)
    cap: timedelta = timedelta(minutes=15)
    reset_after: timedelta = timedelta(hours=12)

    @classmethod
    def from_settings(cls, settings: dict) -> Backoff:
        return cls(
            threshold=int(settings.get("auth.backoff_threshold", 5)),
            step=timedelta(seconds=int(settings.get("auth.backoff_step", 60))),
            cap=timedelta(seconds=int(settings.get("auth.backoff_cap", 900))),
            reset_after=timedelta(
                seconds=int(settings.get("auth.backoff_reset", 43200))
            ),
        )

    def _count(self, user: Any, now: datetime) -> int:
        last = user.last_failure
        if last is None or now - last >= self.reset_after:
            return 0
        return user.failures

    def wait(self, user: Any, now: datetime) -> timedelta:
        """How long the account must still wait before another try."""
        count = self._count(user, now)
        if count < self.threshold:
            return timedelta(0)
        delay = min(
            self.step * (1 + (count - self.threshold) // self.threshold), self.cap
        )
        return max(user.last_failure + delay - now, timedelta(0))

    def fail(self, user: Any, now: datetime) -> bool:
        """Count a failure; True when it makes the account wait."""
        user.failures = self._count(user, now) + 1
        user.last_failure = now
        return user.failures % self.threshold == 0

    def succeed(self, user: Any) -> None:
        if user.failures:
            user.failures = 0
            user.last_failure = None
