"""ISO weeks, the reports' unit of time: "2026-W48" runs from Monday
00:00 UTC to the next Monday 00:00 UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

WEEK_NAME = re.compile(r"(\d{4})-W(\d{2})")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def week_of(when: datetime) -> str:
    """The name of the ISO week holding ``when`` (read in UTC)."""
    year, week, _ = when.astimezone(UTC).isocalendar()
    return f"{year:04d}-W{week:02d}"


def monday_of(name: str) -> date:
    """The Monday that starts the week called ``name``; ValueError if
    ``name`` is not an ISO week such as 2026-W48."""
    found = WEEK_NAME.fullmatch(name)
    if found is None:
        raise ValueError(f"{name!r} is not a week: write it as 2026-W48.")
    year, week = int(found[1]), int(found[2])
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} has no week {week}.") from None
    return monday


def start_of(name: str) -> datetime:
    return datetime.combine(monday_of(name), time(), tzinfo=UTC)


def end_of(name: str) -> datetime:
    return start_of(name) + timedelta(days=7)


def previous_week(name: str) -> str:
    return week_of(start_of(name) - timedelta(days=1))


def hour_of_week(when: datetime) -> int:
    """0 for Monday 00:00–01:00 UTC, up to 167 for Sunday 23:00–24:00."""
    when = when.astimezone(UTC)
    return when.weekday() * 24 + when.hour


def describe(name: str) -> str:
    """ "2026-W48: 23–29 November 2026", for headings."""
    first = monday_of(name)
    last = first + timedelta(days=6)
    if first.month == last.month:
        span = f"{first.day}–{last:%-d %B %Y}"
    elif first.year == last.year:
        span = f"{first:%-d %B} – {last:%-d %B %Y}"
    else:
        span = f"{first:%-d %B %Y} – {last:%-d %B %Y}"
    return f"{name}: {span}"
