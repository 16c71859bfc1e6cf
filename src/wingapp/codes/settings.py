"""The ``codes.*`` settings, read and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..settings import days, group, seconds, validate, whole_number

# SECURITY.md's numbers are the defaults; the ranges only let an operator
# tighten them: more digits, a shorter life, fewer attempts, a longer
# cool-down. The upper ends keep a code usable: 12 digits still fit the
# form, and an hour's cool-down is the most anyone should wait for one.
CODES = group(
    "codes",
    whole_number("codes.digits", 6, 6, 12),
    seconds("codes.lifetime", 600, 60, 600),
    seconds("codes.resend_after", 60, 60, 3600),
    whole_number("codes.max_attempts", 5, 1, 5),
    # How long an expired code is kept before the sweep removes it: a
    # record, not a security bar, so anything up to ten years.
    days("codes.retention_days", 7, 0, 3650),
)


@dataclass(frozen=True)
class CodeSettings:
    digits: int = 6
    lifetime: timedelta = timedelta(minutes=10)
    resend_after: timedelta = timedelta(seconds=60)
    max_attempts: int = 5
    retention: timedelta = timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> CodeSettings:
        return cls.from_values(validate(CODES, settings))

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> CodeSettings:
        """From the typed values of the settings schema."""
        return cls(
            digits=values["codes.digits"],
            lifetime=values["codes.lifetime"],
            resend_after=values["codes.resend_after"],
            max_attempts=values["codes.max_attempts"],
            retention=values["codes.retention_days"],
        )
