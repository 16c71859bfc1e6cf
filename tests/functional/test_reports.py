"""The weekly security reports, from events recorded through the app's own
event bus to what an admin reads: every number of every table, the
change from the week before, frozen weeks, downloads and who may see them."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from pyramid.request import Request
from pyramid.scripting import prepare

from tests.accounts import add_user, admin_browser, browser, sign_in, with_root
from wingapp import main
from wingapp.admin.events import RolesSet, UserDisabled
from wingapp.codes.events import CodeExpired, CodeFailed, CodeSent, CodeVerified
from wingapp.reports.weeks import week_of
from wingapp.users.events import (
    EmailConfirmed,
    LockedOut,
    NotMe,
    Registered,
    RegistrationRefused,
    SignedIn,
    SignInFailed,
)

JSON = {"Accept": "application/json"}
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
CURL = "curl/8.5.0"
# Monday 16 November 2026 begins ISO week 47; 23 November week 48.
W47 = datetime(2026, 11, 16, tzinfo=UTC)
W48 = datetime(2026, 11, 23, tzinfo=UTC)
W49 = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


def record(
    app: Any, events: list, ip: str = "192.0.2.10", agent: str = FIREFOX
) -> None:
    """Announce ``events`` (type, keywords) in one request from ``ip`` with
    ``agent``, as the app's services do, and commit it."""
    request = Request.blank("/", remote_addr=ip, user_agent=agent)
    env = prepare(registry=app.registry, request=request)
    try:
        request.root = env["root"]
        for event_type, kw in events:
            app.registry.notify(event_type(request=request, **kw))
        request.tm.commit()
    finally:
        env["closer"]()


def week_47(app: Any, clock: Any) -> None:
    clock.now = W47 + timedelta(days=1, hours=10, minutes=30)  # Tuesday 10:30
    record(
        app,
        [
            (Registered, {"login": "alice"}),
            (Registered, {"login": "bob"}),
            (SignedIn, {"login": "alice", "detail": {"device": "new"}}),
            (SignInFailed, {"login": "bob", "detail": {"reason": "password"}}),
            *[(CodeSent, {"login": "alice"})] * 4,
            *[(CodeVerified, {"login": "alice"})] * 2,
        ],
    )


def week_48(app: Any, clock: Any) -> None:
    # Monday 08:15, from a Firefox on 192.0.2.0/24.
    clock.now = W48 + timedelta(hours=8, minutes=15)
    record(
        app,
        [
            *[(Registered, {"login": name}) for name in ("carol", "dave", "erin")],
            (RegistrationRefused, {"detail": {"reason": "email already registered"}}),
            *[(EmailConfirmed, {"login": name}) for name in ("carol", "dave")],
            (SignedIn, {"login": "alice", "detail": {"device": "new"}}),
            (SignedIn, {"login": "alice", "detail": {"device": "returning"}}),
        ],
    )
    # Tuesday 09:40: three wrong passwords and a lockout from curl on
    # 203.0.113.0/24.
    clock.now = W48 + timedelta(days=1, hours=9, minutes=40)
    record(
        app,
        [
            *[(SignInFailed, {"login": "bob", "detail": {"reason": "password"}})] * 3,
            (LockedOut, {"login": "bob"}),
        ],
        ip="203.0.113.7",
        agent=CURL,
    )
    # Wednesday 14:05: codes and sign-ins from a Chrome on 198.51.100.0/24.
    clock.now = W48 + timedelta(days=2, hours=14, minutes=5)
    record(
        app,
        [
            *[(CodeSent, {"login": "bob"})] * 6,
            *[(CodeVerified, {"login": "bob"})] * 3,
            *[(CodeFailed, {"login": "bob"})] * 2,
            (CodeExpired, {"login": "bob"}),
            (SignedIn, {"login": "bob", "detail": {"device": "new"}}),
            (SignedIn, {"login": "alice", "detail": {"device": "returning"}}),
            (SignedIn, {"login": "bob", "detail": {"device": "returning"}}),
        ],
        ip="198.51.100.20",
        agent=CHROME,
    )
    # Friday 23:59: one wrong password over IPv6, a "not me", two admin
    # actions.
    clock.now = W48 + timedelta(days=4, hours=23, minutes=59)
    record(
        app,
        [
            (SignInFailed, {"login": "alice", "detail": {"reason": "password"}}),
            (NotMe, {"login": "alice"}),
            (UserDisabled, {"login": "dave", "actor": "root"}),
            (RolesSet, {"login": "erin", "actor": "root"}),
        ],
        ip="2001:db8:1:2::5",
    )


@pytest.fixture
def two_weeks(app, clock):
    for login in ("alice", "bob"):
        add_user(app, login)
    week_47(app, clock)
    week_48(app, clock)
    # The admin signs in the week after, so the two weeks have ended.
    clock.now = W49 + timedelta(hours=9)
    return admin_browser(app)


def summary_of(data: dict) -> dict[str, tuple]:
    return {
        row["key"]: (row["value"], row["previous"], row["change"], row["change_text"])
        for row in data["summary"]
    }


def test_every_figure_of_the_week_and_its_change(two_weeks):
    data = two_weeks.get("/reports/2026-W48", headers=JSON).json
    assert data["week"] == "2026-W48"
    assert data["title"] == "Security report, week 2026-W48: 23–29 November 2026"
    assert data["live"] is False and data["frozen_at"].startswith("2026-11-30T09:00")
    assert summary_of(data) == {
        "registrations": (3, 2, 1, "+1 (+50%)"),
        "confirmations": (2, 0, 2, "+2 (none before)"),
        "sign_ins": (5, 1, 4, "+4 (+400%)"),
        "failed_sign_ins": (4, 1, 3, "+3 (+300%)"),
        "codes_sent": (6, 4, 2, "+2 (+50%)"),
        "codes_verified": (3, 2, 1, "+1 (+50%)"),
        "codes_failed": (2, 0, 2, "+2 (none before)"),
        "codes_expired": (1, 0, 1, "+1 (none before)"),
        "codes_verified_share": (50.0, 50.0, 0.0, "no change"),
        "lockouts": (1, 0, 1, "+1 (none before)"),
        "not_me": (1, 0, 1, "+1 (none before)"),
        "admin_actions": (2, 0, 2, "+2 (none before)"),
        "active_users": (2, 1, 1, "+1 (+100%)"),
    }
    hours = data["hours"]
    assert hours[0][8] == 8  # Monday 08:00: 3 + 1 + 2 + 2
    assert hours[1][9] == 4  # Tuesday 09:00
    assert hours[2][14] == 15  # Wednesday 14:00
    assert hours[4][23] == 4  # Friday 23:00
    assert sum(map(sum, hours)) == 8 + 4 + 15 + 4
    assert [
        (d["day"], d["date"], d["failed_sign_ins"]) for d in data["failed_by_day"]
    ] == [
        ("Monday", "2026-11-23", 0),
        ("Tuesday", "2026-11-24", 3),
        ("Wednesday", "2026-11-25", 0),
        ("Thursday", "2026-11-26", 0),
        ("Friday", "2026-11-27", 1),
        ("Saturday", "2026-11-28", 0),
        ("Sunday", "2026-11-29", 0),
    ]
    assert data["networks"] == {
        "sign-ins": [
            {"network": "198.51.100.0/24", "events": 3},
            {"network": "192.0.2.0/24", "events": 2},
        ],
        # Wrong passwords, the refused registration, the lockout and the
        # wrong and expired codes.
        "failures": [
            {"network": "203.0.113.0/24", "events": 4},
            {"network": "198.51.100.0/24", "events": 3},
            {"network": "192.0.2.0/24", "events": 1},
            {"network": "2001:db8:1::/48", "events": 1},
        ],
    }
    assert data["browsers"] == [
        {"browser": "Chrome", "sign-ins": 3, "failures": 3},
        {"browser": "Firefox", "sign-ins": 2, "failures": 2},
        {"browser": "curl", "sign-ins": 0, "failures": 4},
    ]
    assert data["devices"] == [
        {"device": "new", "sign-ins": 2},
        {"device": "returning", "sign-ins": 3},
    ]


def test_the_first_week_compares_with_an_empty_one(two_weeks):
    data = two_weeks.get("/reports/2026-W47", headers=JSON).json
    rows = summary_of(data)
    assert rows["registrations"] == (2, 0, 2, "+2 (none before)")
    assert rows["codes_verified_share"] == (50.0, None, None, "–")
    assert rows["confirmations"] == (0, 0, 0, "no change")
    assert data["previous_week"] == "2026-W46"


def test_a_frozen_week_does_not_change_when_later_events_arrive(app, clock, two_weeks):
    before = two_weeks.get("/reports/2026-W48", headers=JSON).json
    # Late events stamped inside the frozen week (a clock set back), and
    # events of the current week.
    clock.now = W48 + timedelta(days=3, hours=12)
    record(app, [(Registered, {"login": "frank"}), (SignedIn, {"login": "alice"})])
    clock.now = W49 + timedelta(hours=9, minutes=5)
    record(app, [(Registered, {"login": "gina"})])
    assert two_weeks.get("/reports/2026-W48", headers=JSON).json == before
    now = two_weeks.get("/reports/2026-W49", headers=JSON).json
    assert now["live"] is True
    assert summary_of(now)["registrations"] == (1, 3, -2, "−2 (−67%)")


def test_the_report_page_shows_the_tables_and_charts(two_weeks):
    page = two_weeks.get("/reports/2026-W48")
    html = page.text
    row = page.html.find(id="summary-failed_sign_ins")
    assert [c.get_text(strip=True) for c in row.find_all(["th", "td"])] == [
        "Failed sign-ins",
        "4",
        "1",
        "+3 (+300%)",
    ]
    assert page.html.find(id="networks-failures").find("th", scope="row").text == (
        "203.0.113.0/24"
    )
    svgs = page.html.find_all("svg")
    assert [s["aria-labelledby"].split()[0] for s in svgs] == [
        "hours-title",
        "failed-sign-ins-title",
        "browsers-title",
        "devices-title",
    ]
    assert "<script" not in html.split("<main", 1)[-1].split("</main>")[0]
    assert "Frozen on 2026-11-30 09:00 UTC" in html
    assert 'href="http://example.com/reports/2026-W48/report.pdf"' in html


def test_the_list_of_weeks(two_weeks):
    data = two_weeks.get("/reports/", headers=JSON).json
    assert (data["type"], data["length"], data["order_by"]) == ("reports", 3, "-name")
    assert data["current_week"] == {
        "name": "2026-W49",
        "url": "http://example.com/reports/2026-W49/",
    }
    rows = [
        (w["name"], w["live"], w["registrations"], w["sign_ins"], w["failed_sign_ins"])
        for w in data["items"]
    ]
    assert rows == [
        ("2026-W49", True, 0, 1, 0),  # the admin's own sign-in
        ("2026-W48", False, 3, 5, 4),
        ("2026-W47", False, 2, 1, 1),
    ]
    page = two_weeks.get("/reports/")
    links = [a["href"] for a in page.html.select("table tbody a")]
    assert links == [
        "http://example.com/reports/2026-W49/",
        "http://example.com/reports/2026-W48/",
        "http://example.com/reports/2026-W47/",
    ]
    assert "This week’s report (2026-W49)" in page.text


def test_the_list_of_weeks_pages_as_every_listing(two_weeks):
    first = two_weeks.get("/reports/", {"limit": "2", "order_by": "name"}, headers=JSON)
    assert [w["name"] for w in first.json["items"]] == ["2026-W47", "2026-W48"]
    cursor = first.json["next_cursor"]
    second = two_weeks.get("/reports/", {"cursor": cursor, "limit": "2"}, headers=JSON)
    assert [w["name"] for w in second.json["items"]] == ["2026-W49"]
    assert second.json["next_cursor"] is None
    found = two_weeks.get("/reports/", {"start": "2026-W48"}, headers=JSON).json
    assert [w["name"] for w in found["items"]] == ["2026-W48", "2026-W47"]
    page = two_weeks.get("/reports/", {"limit": "1"})
    assert page.html.select_one('a[rel="next"]') is not None
    bad = two_weeks.get("/reports/", {"limit": "0"}, headers=JSON, status=400).json
    assert bad["parameter"] == "limit"
    two_weeks.get("/reports/", {"week": "2026-W48"}, status=400)


def test_each_table_downloads_as_csv(two_weeks):
    response = two_weeks.get("/reports/2026-W48/summary.csv")
    assert response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="wingapp-2026-W48-summary.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["measure", "this week", "previous week", "change"]
    assert ["Share of sent codes verified (%)", "50.0", "50.0", "0.0"] in rows
    hours = list(
        csv.reader(io.StringIO(two_weeks.get("/reports/2026-W48/hours.csv").text))
    )
    assert hours[0][:3] == ["day", "00:00", "01:00"]
    assert hours[3][0] == "Wednesday" and hours[3][15] == "15"
    browsers = two_weeks.get("/reports/2026-W48/browsers.csv").text
    assert browsers.splitlines() == [
        "browser,sign-ins,failures",
        "Chrome,3,3",
        "Firefox,2,2",
        "curl,0,4",
    ]
    networks = two_weeks.get("/reports/2026-W48/networks-failures.csv").text
    assert networks.splitlines()[:2] == ["network,failures", "203.0.113.0/24,4"]
    for table in ("failed-sign-ins", "networks-sign-ins", "devices"):
        assert two_weeks.get(f"/reports/2026-W48/{table}.csv").status_int == 200
    two_weeks.get("/reports/2026-W48/nonsense.csv", status=404)


def test_the_json_download_is_the_whole_report(two_weeks):
    response = two_weeks.get("/reports/2026-W48/report.json")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="wingapp-2026-W48.json"'
    )
    assert (
        orjson.loads(response.body)
        == two_weeks.get("/reports/2026-W48", headers=JSON).json
    )


def test_the_pdf_holds_the_summary_and_renders(two_weeks, tmp_path):
    response = two_weeks.get("/reports/2026-W48/report.pdf")
    assert response.content_type == "application/pdf"
    assert response.body.startswith(b"%PDF-")
    path = tmp_path / "report.pdf"
    path.write_bytes(response.body)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert "Security report, week 2026-W48" in text
    for line in ("Failed sign-ins", "Codes sent", "203.0.113.0/24"):
        assert line in text
    assert any(
        line.split()[-4:] == ["4", "1", "+3", "(+300%)"]
        for line in text.splitlines()
        if line.strip().startswith("Failed sign-ins")
    )
    # The navigation and the download links are not printed.
    assert "Sign out" not in text and "report.json" not in text
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "40",
            "-f",
            "1",
            "-l",
            "1",
            str(path),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    image = (tmp_path / "page-1.png").read_bytes()
    assert image.startswith(b"\x89PNG") and len(image) > 2000


def test_weeks_that_have_no_report_are_not_found(two_weeks, clock):
    two_weeks.get("/reports/2026-W50", status=404)  # still to come
    two_weeks.get("/reports/2026-W46", status=404)  # before anything was recorded
    two_weeks.get("/reports/2026-W54", status=404)  # no such week
    two_weeks.get("/reports/2026-48", status=404)
    two_weeks.get("/reports/2026-W50/report.pdf", status=404)


def test_a_quiet_week_between_two_others_reads_zero(app, clock, two_weeks):
    clock.now = W49 + timedelta(days=14)  # 2026-W51
    record(app, [(Registered, {"login": "hal"})])
    # The admin's session has ended in the meantime.
    admin = admin_browser(app, "root2")
    data = admin.get("/reports/2026-W50", headers=JSON).json
    assert data["live"] is False
    assert {
        row["value"] for row in data["summary"] if row["key"] != "codes_verified_share"
    } == {0}
    assert summary_of(data)["sign_ins"] == (0, 1, -1, "−1 (−100%)")


def test_only_admins_read_reports(app, two_weeks):
    add_user(app, "ivy")
    user = browser(app)
    sign_in(user, "ivy", status=303)
    for path in ("/reports/", "/reports/2026-W48", "/reports/2026-W48/summary.csv"):
        user.get(path, status=403)
    anonymous = browser(app)
    assert anonymous.get(
        "/reports/2026-W48/report.pdf", status=303
    ).location.startswith("http://example.com/login")


def test_reading_a_live_week_writes_nothing(app, clock, two_weeks):
    def serial(root: Any) -> bytes:
        report = root["reports"]["2026-W49"]
        report._p_activate()
        return report._p_serial

    first = with_root(app, serial)
    two_weeks.get("/reports/2026-W49", headers=JSON)
    two_weeks.get("/reports/2026-W49/report.pdf")
    assert with_root(app, serial) == first


def test_sixteen_requests_recording_at_once_lose_no_count(file_settings):
    """Sixteen wrong passwords posted at the same moment, on a FileStorage
    that resolves conflicts as production does: every one is counted."""
    app = main({}, **{**file_settings, "auth.two_step": "never"})
    clients = [browser(app, ip=f"198.51.100.{i}", agent=CURL) for i in range(16)]
    forms = [client.get("/login").forms["login-form"] for client in clients]
    start = threading.Barrier(len(forms))

    def post(numbered: tuple[int, Any]) -> int:
        number, form = numbered
        # A name each: sixteen failures of one name would also record the
        # lockout they bring (as an account's do), whenever one of them
        # sees the fifth.
        form["login"] = f"nobody{number}"
        form["password"] = "not the password"
        start.wait()
        return form.submit(expect_errors=True).status_int

    with ThreadPoolExecutor(len(forms)) as pool:
        statuses = list(pool.map(post, enumerate(forms)))
    assert statuses == [400] * 16
    admin = admin_browser(app)
    data = admin.get(f"/reports/{week_of(datetime.now(UTC))}", headers=JSON).json
    assert summary_of(data)["failed_sign_ins"][0] == 16
    assert sum(row["events"] for row in data["networks"]["failures"]) == 16
    assert {"browser": "curl", "sign-ins": 0, "failures": 16} in data["browsers"]
    # And the admin's own sign-in.
    assert sum(map(sum, data["hours"])) == 16 + 1 + 2
    for db in app.registry._zodb_databases.values():
        db.close()


def test_without_pango_the_pdf_says_what_to_install(two_weeks, monkeypatch):
    # As on a server without pango: weasyprint cannot be loaded.
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    response = two_weeks.get("/reports/2026-W48/report.pdf", status=503)
    assert "PDF not available" in response.text
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0" in response.text
    assert "Traceback" not in response.text
    assert "Content-Security-Policy" in response.headers
