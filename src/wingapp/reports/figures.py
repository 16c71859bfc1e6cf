"""A week's report as people read it: the summary with each figure's
change from the week before, the frequency tables and the sources, as
plain values that the page, the JSON, the CSV and the PDF all show."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from ..events import ADMIN_PREFIX
from .counting import source_network
from .models import FAILURES, SIGN_INS
from .weeks import DAYS, describe, previous_week

# (key, label, the (kind, outcome) pairs it adds up)
COUNTED = (
    ("registrations", "Registrations", (("registration", "success"),)),
    ("confirmations", "Email addresses confirmed", (("email-confirmed", "success"),)),
    ("sign_ins", "Sign-ins", (("sign-in", "success"),)),
    ("failed_sign_ins", "Failed sign-ins", (("sign-in", "failure"),)),
    ("codes_sent", "Codes sent", (("code-sent", "success"),)),
    ("codes_verified", "Codes verified", (("code-verified", "success"),)),
    ("codes_failed", "Wrong codes entered", (("code-failed", "failure"),)),
    ("codes_expired", "Expired codes entered", (("code-expired", "failure"),)),
    ("lockouts", "Lockouts", (("lockout", "failure"),)),
    ("not_me", "“This wasn't me” reports", (("not-me", "success"),)),
)
VERIFIED_SHARE = "codes_verified_share"
ADMIN_ACTIONS = "admin_actions"
ACTIVE_USERS = "active_users"


def _counts(figures: dict[str, Any]) -> dict[str, Any]:
    events = figures["events"]
    found: dict[str, Any] = {
        key: sum(events.get(pair, 0) for pair in pairs) for key, _, pairs in COUNTED
    }
    sent = found["codes_sent"]
    found[VERIFIED_SHARE] = (
        round(100 * found["codes_verified"] / sent, 1) if sent else None
    )
    found[ADMIN_ACTIONS] = sum(
        n for (kind, _), n in events.items() if kind.startswith(ADMIN_PREFIX)
    )
    found[ACTIVE_USERS] = figures["active_users"]
    return found


LABELS = {key: label for key, label, _ in COUNTED} | {
    VERIFIED_SHARE: "Share of sent codes verified (%)",
    ADMIN_ACTIONS: "Admin actions",
    ACTIVE_USERS: "Active users (signed in this week)",
}
ORDER = (
    *(key for key, _, _ in COUNTED[:8]),
    VERIFIED_SHARE,
    *(key for key, _, _ in COUNTED[8:]),
    ADMIN_ACTIONS,
    ACTIVE_USERS,
)


def change_text(value: float | None, previous: float | None, percent: bool) -> str:
    """How ``value`` moved from ``previous``, in words a table can hold."""
    if value is None or previous is None:
        return "–"
    change = value - previous
    if change == 0:
        return "no change"
    sign = "+" if change > 0 else "−"
    if percent:
        return f"{sign}{abs(change):.1f} points"
    if previous == 0:
        return f"{sign}{abs(change):g} (none before)"
    return f"{sign}{abs(change):g} ({sign}{abs(change) / previous:.0%})"


def summary(this: dict[str, Any], before: dict[str, Any]) -> list[dict[str, Any]]:
    now, then = _counts(this), _counts(before)
    rows = []
    for key in ORDER:
        value, previous = now[key], then[key]
        rows.append(
            {
                "key": key,
                "label": LABELS[key],
                "value": value,
                "previous": previous,
                "change": None
                if value is None or previous is None
                else round(value - previous, 1),
                "change_text": change_text(value, previous, key == VERIFIED_SHARE),
            }
        )
    return rows


def network_label(entry: Any, keyring: Any) -> str:
    """The network an entry came from, read from its encrypted address."""
    try:
        ip = keyring.decrypt(entry.ip_token) if entry.ip_token else None
    except Exception:  # a token of a retired key: say so, do not fail the page
        return "unreadable"
    return source_network(ip) or "unknown"


def top_networks(found: list[tuple[Any, int]], keyring: Any) -> list[dict]:
    rows = [{"network": network_label(e, keyring), "events": n} for e, n in found]
    # Ties in a readable order, not the order of their keyed hashes.
    return sorted(rows, key=lambda row: (-row["events"], row["network"]))


def build(report: Any, keyring: Any, now: datetime) -> dict[str, Any]:
    """Everything the report says, as plain values."""
    name = report.__name__
    this = report.figures()
    before = report.__parent__[previous_week(name)].figures()
    hours = this["hours"]
    failed_days = this["failed_days"]
    monday = report.start.date()
    browsers = {}
    for (family, column), n in this["browsers"].items():
        browsers.setdefault(family, {SIGN_INS: 0, FAILURES: 0})[column] = n
    return {
        "week": name,
        "title": f"Security report, week {describe(name)}",
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "live": report.frozen is None and not report.ended(now),
        "frozen_at": report.frozen_at.isoformat() if report.frozen_at else None,
        "previous_week": previous_week(name),
        "summary": summary(this, before),
        "hours": [
            [hours.get(day * 24 + hour, 0) for hour in range(24)] for day in range(7)
        ],
        "failed_by_day": [
            {
                "day": DAYS[day],
                "date": (monday + timedelta(days=day)).isoformat(),
                "failed_sign_ins": failed_days.get(day, 0),
            }
            for day in range(7)
        ],
        "networks": {
            column: top_networks(this["networks"][column], keyring)
            for column in (SIGN_INS, FAILURES)
        },
        "browsers": [
            {"browser": family, **columns}
            for family, columns in sorted(
                browsers.items(), key=lambda fc: (-sum(fc[1].values()), fc[0])
            )
        ],
        "devices": [
            {"device": kind, "sign-ins": this["devices"].get(kind, 0)}
            for kind in ("new", "returning")
        ],
    }


# -- tables, for CSV ------------------------------------------------------


def _summary_rows(data: dict) -> Iterator[list]:
    yield ["measure", "this week", "previous week", "change"]
    for row in data["summary"]:
        yield [
            row["label"],
            _cell(row["value"]),
            _cell(row["previous"]),
            _cell(row["change"]),
        ]


def _hours_rows(data: dict) -> Iterator[list]:
    yield ["day", *(f"{hour:02d}:00" for hour in range(24))]
    for day, counts in zip(DAYS, data["hours"], strict=True):
        yield [day, *counts]


def _failed_rows(data: dict) -> Iterator[list]:
    yield ["day", "date", "failed sign-ins"]
    for row in data["failed_by_day"]:
        yield [row["day"], row["date"], row["failed_sign_ins"]]


def _network_rows(column: str) -> Callable[[dict], Iterator[list]]:
    def rows(data: dict) -> Iterator[list]:
        yield ["network", column]
        for row in data["networks"][column]:
            yield [row["network"], row["events"]]

    return rows


def _browser_rows(data: dict) -> Iterator[list]:
    yield ["browser", SIGN_INS, FAILURES]
    for row in data["browsers"]:
        yield [row["browser"], row[SIGN_INS], row[FAILURES]]


def _device_rows(data: dict) -> Iterator[list]:
    yield ["device", SIGN_INS]
    for row in data["devices"]:
        yield [row["device"], row[SIGN_INS]]


def _cell(value: Any) -> Any:
    return "" if value is None else value


TABLES: dict[str, tuple[str, Callable[[dict], Iterator[list]]]] = {
    "summary": ("Weekly summary", _summary_rows),
    "hours": ("Events by hour of day and weekday (UTC)", _hours_rows),
    "failed-sign-ins": ("Failed sign-ins by day", _failed_rows),
    "networks-sign-ins": ("Top networks for sign-ins", _network_rows(SIGN_INS)),
    "networks-failures": ("Top networks for failures", _network_rows(FAILURES)),
    "browsers": ("Browser families", _browser_rows),
    "devices": ("New and returning devices", _device_rows),
}
