"""The reports' weeks, counters and figures, and what two connections
counting at the same moment leave behind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

import pytest
from BTrees.OOBTree import OOTreeSet
from ZODB.POSException import ConflictError

from tests.unit.test_concurrency import commit, db, race  # noqa: F401
from wingapp.agents import browser_family
from wingapp.audit import Entry
from wingapp.reports import spread_active
from wingapp.reports.counting import count_entry, source_network
from wingapp.reports.figures import build, change_text, network_label
from wingapp.reports.mailing import report_message
from wingapp.reports.models import (
    ACTIVE_SHARDS,
    FAILURES,
    NETWORK_SHARDS,
    SIGN_INS,
    TOP,
    Reports,
    WeekReport,
)
from wingapp.reports.tally import Tally
from wingapp.reports.views import table_csv
from wingapp.reports.weeks import (
    describe,
    end_of,
    hour_of_week,
    monday_of,
    previous_week,
    start_of,
    week_of,
)

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)


class FakeKeyring:
    """Tokens that are the text reversed; keyed hashes that are readable."""

    def encrypt(self, text: str) -> bytes:
        return text[::-1].encode()

    def decrypt(self, token: bytes) -> str:
        if token == b"retired":
            raise ValueError("no key opens this token")
        return token.decode()[::-1]

    def mac(self, purpose: str, value: str) -> str:
        return f"{purpose}:{value}"


def entry(
    when: datetime,
    kind: str = "sign-in",
    outcome: str = "success",
    login: str | None = "ada",
    ip: str | None = "192.0.2.1",
    detail: dict | None = None,
) -> Entry:
    token = FakeKeyring().encrypt(ip) if ip else None
    return Entry(when, kind, outcome, login, None, token, None, detail or {})


# -- weeks -------------------------------------------------------------------


def test_weeks_are_iso_weeks_in_utc():
    assert week_of(MONDAY) == "2026-W48"
    assert week_of(MONDAY - timedelta(microseconds=1)) == "2026-W47"
    # 2027 begins on a Friday: its first days are in 2026's week 53.
    assert week_of(datetime(2027, 1, 3, 23, tzinfo=UTC)) == "2026-W53"
    assert week_of(datetime(2027, 1, 4, tzinfo=UTC)) == "2027-W01"
    assert monday_of("2026-W48") == date(2026, 11, 23)
    assert start_of("2026-W48") == MONDAY
    assert end_of("2026-W48") == MONDAY + timedelta(days=7)
    assert previous_week("2027-W01") == "2026-W53"
    assert hour_of_week(MONDAY) == 0
    assert hour_of_week(MONDAY + timedelta(days=6, hours=23, minutes=59)) == 167


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("2026-48", "'2026-48' is not a week: write it as 2026-W48."),
        ("2026-W4", "'2026-W4' is not a week: write it as 2026-W48."),
        ("2025-W53", "2025 has no week 53."),
        ("2026-W00", "2026 has no week 0."),
    ],
)
def test_a_name_that_is_not_a_week_is_refused(name, message):
    with pytest.raises(ValueError) as found:
        monday_of(name)
    assert str(found.value) == message


def test_weeks_are_described_for_headings():
    assert describe("2026-W48") == "2026-W48: 23–29 November 2026"
    assert describe("2026-W49") == "2026-W49: 30 November – 6 December 2026"
    assert describe("2026-W53") == "2026-W53: 28 December 2026 – 3 January 2027"


# -- counters ------------------------------------------------------------------


def test_a_tally_counts_by_key():
    tally = Tally()
    tally.add("a")
    tally.add("a", 2)
    tally.add(("b", 1))
    assert dict(tally.items()) == {"a": 3, ("b", 1): 1}


def test_tallies_written_at_once_merge(db):  # noqa: F811
    commit(db, lambda root: root.__setitem__("tally", Tally()))
    commit(db, lambda root: root["tally"].add("shared", 5))

    def add(*keys: str) -> Any:
        def change(root: Any) -> None:
            for key in keys:
                root["tally"].add(key)

        return change

    race(db, add("shared", "mine"), add("shared", "shared", "theirs"), add("mine"))
    assert commit(db, lambda root: dict(root["tally"].items())) == {
        "shared": 8,
        "mine": 2,
        "theirs": 1,
    }


@pytest.fixture
def reports_db(db):  # noqa: F811
    def make(root: Any) -> None:
        root["reports"] = reports = Reports()
        count_entry(reports, entry(MONDAY), "192.0.2.1", None, FakeKeyring())

    commit(db, make)
    return db


def test_events_counted_at_once_into_one_week_all_count(reports_db):
    keyring = FakeKeyring()
    when = MONDAY + timedelta(hours=1)

    def count(i: int) -> Any:
        def change(root: Any) -> None:
            # Sign-ins and failures from 16 networks, some new, by 16 people.
            for kind, outcome in (("sign-in", "success"), ("sign-in", "failure")):
                found = entry(when, kind, outcome, f"user{i}", f"198.51.{i}.9")
                count_entry(root["reports"], found, f"198.51.{i}.9", "curl/8", keyring)

        return change

    race(reports_db, *(count(i) for i in range(16)))

    def read(root: Any) -> dict:
        return root["reports"]["2026-W48"].figures()

    figures = commit(reports_db, read)
    assert figures["events"] == {("sign-in", "success"): 17, ("sign-in", "failure"): 16}
    assert figures["hours"] == {0: 1, 1: 32}
    assert figures["active_users"] == 17
    assert figures["browsers"] == {
        ("curl", SIGN_INS): 16,
        ("curl", FAILURES): 16,
        ("unknown", SIGN_INS): 1,
    }
    assert len(figures["networks"][SIGN_INS]) == 17
    assert sum(n for _, n in figures["networks"][FAILURES]) == 16


def logins_of_shard(shard: int, n: int) -> list[str]:
    counters = WeekReport("2026-W48").counters
    found = (f"person{i}" for i in range(100_000))
    return [
        login for login in found if counters.active_set(login) is counters.active[shard]
    ][:n]


def test_first_sign_ins_at_once_into_different_sets_both_count(reports_db):
    # Each adds forty people, splitting buckets as it goes; in one set of
    # active logins the two could not be merged.
    when = MONDAY + timedelta(hours=2)

    def sign_ins(shard: int) -> Any:
        def change(root: Any) -> None:
            for login in logins_of_shard(shard, 40):
                found = entry(when, login=login)
                count_entry(root["reports"], found, "192.0.2.1", None, FakeKeyring())

        return change

    race(reports_db, sign_ins(0), sign_ins(1))
    figures = commit(reports_db, lambda root: root["reports"]["2026-W48"].figures())
    assert figures["active_users"] == 81


def test_a_returning_sign_in_and_a_first_one_into_the_same_set_both_commit(
    reports_db,
):
    # Someone already counted this week signs in again while someone new
    # to the week, whose login is in the same set, signs in for the first
    # time: the first adds to the set, the second only reads it.
    when = MONDAY + timedelta(hours=2)
    returning, first = logins_of_shard(3, 2)

    def sign_in(login: str) -> Any:
        def change(root: Any) -> None:
            found = entry(when, login=login)
            count_entry(root["reports"], found, "192.0.2.1", None, FakeKeyring())

        return change

    def figures(root: Any) -> dict:
        return root["reports"]["2026-W48"].figures()

    commit(reports_db, sign_in(returning))
    before = commit(reports_db, figures)
    race(reports_db, sign_in(first), sign_in(returning))
    after = commit(reports_db, figures)
    assert after["active_users"] == before["active_users"] + 1
    success = ("sign-in", "success")
    assert after["events"][success] == before["events"][success] + 2


def test_generation_12_spreads_a_live_weeks_active_logins(reports_db):
    later = MONDAY + timedelta(days=7)

    def old_layout(root: Any) -> None:
        reports = root["reports"]
        count_entry(reports, entry(later), "192.0.2.1", None, FakeKeyring())
        # The week before is frozen; this one counted in one set, as
        # generation 11 did.
        live = reports["2026-W49"].counters
        live.active = OOTreeSet(["ada", "grace"])
        live.active_count.change(1)

    commit(reports_db, old_layout)

    def before_evolving(root: Any) -> int:
        # Until the step runs, the week goes on counting in its one set.
        reports = root["reports"]
        for login in ("grace", "edsger"):
            found = entry(later, login=login)
            count_entry(reports, found, "192.0.2.1", None, FakeKeyring())
        return reports["2026-W49"].figures()["active_users"]

    assert commit(reports_db, before_evolving) == 3
    commit(reports_db, spread_active)
    commit(reports_db, spread_active)  # once only

    def sign_ins(root: Any) -> dict:
        reports = root["reports"]
        assert len(reports["2026-W49"].counters.active) == ACTIVE_SHARDS
        for login in ("grace", "ada", "alan"):
            found = entry(later, login=login)
            count_entry(reports, found, "192.0.2.1", None, FakeKeyring())
        return reports["2026-W49"].figures()

    # Those already counted are not counted again; a new one is.
    assert commit(reports_db, sign_ins)["active_users"] == 4


def test_the_first_events_of_a_week_at_once_conflict_and_a_retry_counts_both(
    reports_db,
):
    keyring = FakeKeyring()
    later = MONDAY + timedelta(days=7)

    def count(root: Any) -> None:
        count_entry(root["reports"], entry(later), "192.0.2.1", None, keyring)

    # Both make the new week's report: the folder cannot merge that.
    with pytest.raises(ConflictError):
        race(reports_db, count, count)
    commit(reports_db, count)  # the retry
    figures = commit(reports_db, lambda root: root["reports"]["2026-W49"].figures())
    assert figures["events"] == {("sign-in", "success"): 2}


def test_a_new_week_freezes_the_weeks_before_it():
    reports = Reports()
    keyring = FakeKeyring()
    assert reports.first_week() is None
    count_entry(reports, entry(MONDAY), "192.0.2.1", None, keyring)
    week = reports["2026-W48"]
    assert reports.is_stored(week) and week.frozen is None
    later = MONDAY + timedelta(days=8)
    count_entry(reports, entry(later), "192.0.2.1", None, keyring)
    assert week.frozen["events"] == {("sign-in", "success"): 1}
    assert (week.frozen_at, week.counters) == (later, None)
    # A late event stamped inside the frozen week counts nowhere.
    assert count_entry(reports, entry(MONDAY), "192.0.2.1", None, keyring) is False
    assert week.figures()["events"] == {("sign-in", "success"): 1}
    week.freeze(later + timedelta(days=1))  # once only
    assert week.frozen_at == later
    assert reports.first_week() == "2026-W48"


def test_a_week_not_stored_is_found_empty_and_other_names_are_not():
    reports = Reports()
    quiet = reports["2026-W40"]
    assert quiet.__parent__ is reports and not reports.is_stored(quiet)
    assert quiet.figures()["events"] == {}
    assert quiet.title == "Week 2026-W40"
    for name in ("2026-W54", "report.pdf", "x"):
        with pytest.raises(KeyError):
            reports[name]
    with pytest.raises(ValueError):
        WeekReport("2026-48")


def test_what_a_sign_in_counts():
    report = WeekReport("2026-W48")
    keyring = FakeKeyring()
    counted = [
        entry(MONDAY, detail={"device": "new"}),
        entry(MONDAY, detail={"device": "returning"}),
        entry(MONDAY + timedelta(days=2), "sign-in", "failure", ip=None),
        entry(MONDAY, "code-sent"),
    ]
    for found in counted:
        report.count(
            found,
            browser="Firefox",
            network_key=keyring.mac("n", "x") if found.ip_token else None,
            new_device=found.detail.get("device") == "new",
        )
    figures = report.figures()
    assert figures["devices"] == {"new": 1, "returning": 1}
    assert figures["failed_days"] == {2: 1}
    # One person signing in twice is one active user.
    assert figures["active_users"] == 1
    # A code sent is neither a sign-in nor a failure: no source counted.
    assert figures["browsers"] == {("Firefox", SIGN_INS): 2, ("Firefox", FAILURES): 1}
    assert [n for _, n in figures["networks"][SIGN_INS]] == [2]
    assert figures["networks"][FAILURES] == []
    # Networks spread over the shards by their keyed hash.
    assert len(report.counters.networks) == NETWORK_SHARDS


# -- where from ----------------------------------------------------------------


def test_source_networks_and_browser_families():
    assert source_network("203.0.113.77") == "203.0.113.0/24"
    assert source_network("2001:db8:aa:bb::1") == "2001:db8:aa::/48"
    assert source_network("not an address") is None
    assert source_network(None) is None
    assert (
        browser_family(
            "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
        )
        == "Firefox"
    )
    assert browser_family("python-requests/2.32.3") == "Python Requests"
    assert browser_family("a made-up thing") == "unknown"
    assert browser_family(None) == "unknown"


def test_a_network_is_read_from_its_first_entry():
    keyring = FakeKeyring()
    assert network_label(entry(MONDAY, ip="192.0.2.44"), keyring) == "192.0.2.0/24"
    assert network_label(entry(MONDAY, ip=None), keyring) == "unknown"
    retired = entry(MONDAY)
    retired.ip_token = b"retired"
    assert network_label(retired, keyring) == "unreadable"


@pytest.mark.parametrize(
    ("value", "previous", "percent", "text"),
    [
        (5, 5, False, "no change"),
        (6, 4, False, "+2 (+50%)"),
        (1, 4, False, "−3 (−75%)"),
        (3, 0, False, "+3 (none before)"),
        (75.0, 50.0, True, "+25.0 points"),
        (40.0, 50.5, True, "−10.5 points"),
        (None, 50.0, True, "–"),
        (50.0, None, True, "–"),
    ],
)
def test_changes_in_words(value, previous, percent, text):
    assert change_text(value, previous, percent) == text


def test_a_share_with_nothing_sent_is_an_empty_cell():
    reports = Reports()
    count_entry(reports, entry(MONDAY), "192.0.2.1", "curl/8", FakeKeyring())
    data = build(reports["2026-W48"], FakeKeyring(), MONDAY)
    assert data["live"] is True
    lines = table_csv(data, "summary").splitlines()
    assert "Share of sent codes verified (%),,," in lines
    assert "Sign-ins,1,0,1" in lines
    assert table_csv(data, "devices").splitlines() == [
        "device,sign-ins",
        "new,0",
        "returning,1",
    ]


def test_a_cell_a_spreadsheet_would_run_is_made_inert():
    data = {"browsers": [{"browser": "=HYPERLINK(1)", SIGN_INS: 1, FAILURES: 0}]}
    assert table_csv(data, "browsers").splitlines()[1] == "'=HYPERLINK(1),1,0"


def test_the_mailed_report_carries_the_summary_and_the_pdf():
    data = {
        "week": "2026-W48",
        "title": "Security report, week 2026-W48: 23–29 November 2026",
        "summary": [
            {
                "label": "Sign-ins",
                "value": 5,
                "previous": 1,
                "change_text": "+4 (+400%)",
            },
            {"label": "Share", "value": None, "previous": None, "change_text": "–"},
        ],
    }
    message = report_message(
        data, b"%PDF-1.7 ...", sender="w@example.org", to="a@example.org"
    )
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "wingapp security report for 2026-W48"
    text = message.get_body(("plain",)).get_content()
    assert "Sign-ins: 5 (+4 (+400%))" in text and "Share: – (–)" in text
    html = message.get_body(("html",)).get_content()
    assert "<td" in html and "+4 (+400%)" in html
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "wingapp-2026-W48.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-1.7 ..."


def test_the_counting_subscriber_reads_the_request(monkeypatch):
    reports = Reports()
    request = SimpleNamespace(
        root={"reports": reports},
        client_addr="192.0.2.9",
        user_agent="curl/8.5.0",
        find_service=lambda iface: FakeKeyring(),
    )
    from wingapp.reports.counting import entry_recorded

    entry_recorded(
        SimpleNamespace(request=request, entry=entry(MONDAY, outcome="failure"))
    )
    figures = reports["2026-W48"].figures()
    assert figures["browsers"] == {("curl", FAILURES): 1}
    assert [n for _, n in figures["networks"][FAILURES]] == [1]


def test_a_week_keeps_its_busiest_networks():
    reports = Reports()
    keyring = FakeKeyring()
    for i in range(TOP + 5):
        for _ in range(i + 1):
            count_entry(
                reports, entry(MONDAY, ip=f"10.0.{i}.1"), f"10.0.{i}.1", None, keyring
            )
    data = build(reports["2026-W48"], keyring, MONDAY)
    rows = data["networks"][SIGN_INS]
    assert len(rows) == TOP
    assert rows[0] == {"network": "10.0.24.0/24", "events": 25}
    assert rows[-1] == {"network": "10.0.5.0/24", "events": 6}
