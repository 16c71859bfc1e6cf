"""The ``codes.*`` settings, read and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pyramid.exceptions import ConfigurationError


def _whole_number(
    settings: Mapping[str, Any], name: str, default: int, low: int, high: int
) -> int:
    raw = settings.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"{name} must be a whole number, not {raw!r}."
        ) from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be from {low} to {high}, not {value}.")
    return value


@dataclass(frozen=True)
class CodeSettings:
    """SECURITY.md's numbers are the defaults; the bounds only let an operator
    tighten them (shorter life, fewer attempts, longer cool-down)."""

    digits: int = 6
    lifetime: timedelta = timedelta(minutes=10)
    resend_after: timedelta = timedelta(seconds=60)
    max_attempts: int = 5
    retention: timedelta = timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> CodeSettings:
        return cls(
            digits=_whole_number(settings, "codes.digits", 6, 6, 12),
            lifetime=timedelta(
                seconds=_whole_number(settings, "codes.lifetime", 600, 60, 600)
            ),
            resend_after=timedelta(
                seconds=_whole_number(settings, "codes.resend_after", 60, 60, 3600)
            ),
            max_attempts=_whole_number(settings, "codes.max_attempts", 5, 1, 5),
            retention=timedelta(
                days=_whole_number(settings, "codes.retention_days", 7, 0, 3650)
            ),
        )
