"""The reports container and one report per ISO week.

A week's report counts as events are recorded (:mod:`.counting`), in
:class:`~.tally.Tally` counters that concurrent requests merge instead of
conflicting on, so reading it never scans the event log. Once the week
has ended its figures are frozen: stored as they are, the live counters
dropped, and nothing counted into it again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from zope.interface import implementer

from ..folder import Folder
from ..interfaces import IReport, IReports
from ..shards import shard, spread, tree_for
from .tally import Tally
from .weeks import end_of, hour_of_week, monday_of, start_of, week_of

NETWORK_SHARDS = 16
"""How many tallies a week's source networks are spread over: there can be
thousands of them, and one tally is written whole at every change."""

TOP = 20
"""How many networks a frozen week keeps per column."""

ACTIVE_SHARDS = 16
"""How many sets a week's active logins are spread over. A person's first
sign-in of the week adds them to a set; every sign-in counted at the same
moment has read the node above the bucket it checked, and conflicts with
whichever of them split a bucket. Spread, a split is sixteen times rarer
in the one set each sign-in reads."""

SIGN_INS = "sign-ins"
FAILURES = "failures"


class Counters(Persistent):
    """What a live week has counted so far."""

    def __init__(self) -> None:
        self.events = Tally()
        """(kind, outcome) -> events."""
        self.hours = Tally()
        """Hour of the week (0 = Monday 00:00 UTC) -> events."""
        self.failed_days = Tally()
        """Weekday (0 = Monday) -> failed sign-ins."""
        self.devices = Tally()
        """"new" or "returning" -> successful sign-ins."""
        self.browsers = Tally()
        """(browser family, SIGN_INS or FAILURES) -> events."""
        self.networks = tuple(Tally() for _ in range(NETWORK_SHARDS))
        """(keyed hash of the network, SIGN_INS or FAILURES) -> events."""
        self.network_entries = OOBTree()
        """Keyed hash of a network -> the first log entry from it. The
        report reads the network from that entry's encrypted address, so
        no address is stored here, in the clear or otherwise."""
        self.active = tuple(OOTreeSet() for _ in range(ACTIVE_SHARDS))
        """Logins that signed in this week, each in the set its name picks
        (:meth:`active_set`)."""
        self.active_count = Length()

    def active_set(self, login: str) -> OOTreeSet:
        # A week counted in one set until `wingapp evolve` spreads it
        # (generation 12) goes on counting there meanwhile.
        return tree_for(self.active, login)

    def spread_active(self) -> None:
        """Generation 12: a week counted in one set of active logins moves
        them into :data:`ACTIVE_SHARDS` sets."""
        self.active = spread(self.active, OOTreeSet, ACTIVE_SHARDS)

    def network_tally(self, key: str) -> Tally:
        return self.networks[shard(key, NETWORK_SHARDS)]


@implementer(IReport)
class WeekReport(Persistent):
    """The report of one ISO week, named like 2026-W48."""

    __name__: str | None = None
    __parent__: Any = None

    def __init__(self, name: str) -> None:
        monday_of(name)  # refuses a name that is not a week
        self.__name__ = name
        self.counters: Counters | None = Counters()
        self.frozen: dict[str, Any] | None = None
        """The week's figures once it has ended (see :meth:`freeze`)."""
        self.frozen_at: datetime | None = None
        self.mailed_at: datetime | None = None
        """When ``wingapp CONFIG mail-report`` mailed it to the admins."""

    @property
    def title(self) -> str:
        return f"Week {self.__name__}"

    @property
    def start(self) -> datetime:
        return start_of(self.__name__)

    @property
    def end(self) -> datetime:
        return end_of(self.__name__)

    def ended(self, now: datetime) -> bool:
        return now >= self.end

    def count(
        self,
        entry: Any,
        *,
        browser: str,
        network_key: str | None,
        new_device: bool | None,
    ) -> bool:
        """Count the log ``entry``; False (and nothing counted) once the
        week is frozen. ``browser`` is its browser's family,
        ``network_key`` a keyed hash of its source network, ``new_device``
        whether a sign-in came from a browser the account did not know."""
        counters = self.counters
        if counters is None:
            return False
        counters.events.add((entry.kind, entry.outcome))
        counters.hours.add(hour_of_week(entry.time))
        signed_in = entry.kind == "sign-in" and entry.outcome == "success"
        failed = entry.outcome == "failure"
        if entry.kind == "sign-in" and failed:
            counters.failed_days.add(entry.time.weekday())
        if signed_in:
            counters.devices.add("new" if new_device else "returning")
            # Asked first, not inserted: insert() asks that the set be
            # unchanged when this commits even when the login is there
            # already, and someone signing in again (the common case) would
            # then conflict with every first sign-in of the week into the
            # same set. A look-up asks nothing of the set.
            active = counters.active_set(entry.login)
            if entry.login not in active:
                active.insert(entry.login)
                counters.active_count.change(1)
        column = SIGN_INS if signed_in else FAILURES if failed else None
        if column is not None:
            counters.browsers.add((browser, column))
            if network_key is not None:
                counters.network_tally(network_key).add((network_key, column))
                if network_key not in counters.network_entries:
                    counters.network_entries[network_key] = entry
        return True

    def figures(self) -> dict[str, Any]:
        """The week's own figures: frozen ones once it has ended, else
        what the counters hold now. Networks appear as the log entry
        each was first seen in; :mod:`.figures` reads their address."""
        if self.frozen is not None:
            return self.frozen
        return counted_figures(self.counters)

    def event_counts(self) -> dict[tuple[str, str], int]:
        """(kind, outcome) -> events: all a listing of weeks needs, without
        reading the sources' counters."""
        if self.frozen is not None:
            return self.frozen["events"]
        return dict(self.counters.events.items())

    def freeze(self, now: datetime) -> None:
        """Store the figures of an ended week for good and drop its live
        counters."""
        if self.frozen is None:
            self.frozen = counted_figures(self.counters)
            self.frozen_at = now
            self.counters = None


def _top(counters: Counters, column: str) -> list[tuple[Any, int]]:
    found = [
        (key, n)
        for tally in counters.networks
        for (key, col), n in tally.items()
        if col == column
    ]
    found.sort(key=lambda kn: (-kn[1], kn[0]))
    return [(counters.network_entries[key], n) for key, n in found[:TOP]]


def counted_figures(counters: Counters) -> dict[str, Any]:
    """The figures a week's counters hold, as plain values (and the log
    entries that name its networks)."""
    return {
        "events": dict(counters.events.items()),
        "hours": dict(counters.hours.items()),
        "failed_days": dict(counters.failed_days.items()),
        "devices": dict(counters.devices.items()),
        "browsers": dict(counters.browsers.items()),
        "networks": {col: _top(counters, col) for col in (SIGN_INS, FAILURES)},
        "active_users": counters.active_count(),
    }


@implementer(IReports)
class Reports(Folder):
    """One :class:`WeekReport` per week in which something was recorded.

    Any other well-formed week is found too, as a report that is not
    stored and counts nothing: a week without events still has a page.
    """

    def __getitem__(self, name: str) -> Any:
        found = self.data.get(name)
        if found is not None:
            return found
        try:
            report = WeekReport(name)
        except ValueError:
            raise KeyError(name) from None
        report.__parent__ = self
        return report

    def is_stored(self, report: WeekReport) -> bool:
        return self.data.get(report.__name__) is report

    def for_time(self, when: datetime) -> WeekReport:
        """The stored report of the week holding ``when``, made if need
        be. Making one freezes the weeks before it that have ended."""
        name = week_of(when)
        report = self.data.get(name)
        if report is None:
            report = self.add(name, WeekReport(name))
            for earlier in self.data.values(max=name, excludemax=True):
                earlier.freeze(when)
        return report

    def spread_active(self) -> None:
        """Generation 12 for every week still counting."""
        for report in self.data.values():
            if report.counters is not None:
                report.counters.spread_active()

    def first_week(self) -> str | None:
        try:
            return self.data.minKey()
        except ValueError:  # empty
            return None
