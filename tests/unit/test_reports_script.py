"""``wingapp CONFIG report`` and ``mail-report``, run in-process against a
FileStorage, on events recorded the week before this one."""

from __future__ import annotations

import csv
import io
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from pyramid.paster import get_app

from tests.accounts import Clock, add_user, messages, with_root
from tests.conftest import use_service
from tests.functional.test_reports import CURL, record
from tests.unit.test_admin_script import run
from wingapp.interfaces import IClock
from wingapp.scripts import cli
from wingapp.scripts import reports as reports_script
from wingapp.users.events import Registered, SignedIn, SignInFailed

NOW = datetime.now(UTC)
THIS_WEEK = f"{NOW.isocalendar()[0]}-W{NOW.isocalendar()[1]:02d}"
LAST = NOW - timedelta(days=7)
LAST_WEEK = f"{LAST.isocalendar()[0]}-W{LAST.isocalendar()[1]:02d}"


@pytest.fixture
def site(ini_file, restore_logging):
    """Accounts, and events of last week, in the ini's database."""
    app = get_app(str(ini_file))
    add_user(app, "root", "root@example.org", roles=("user", "admin"))
    add_user(app, "chief", "chief@example.org", roles=("user", "admin"))
    add_user(app, "gone", roles=("user", "admin"))
    add_user(app, "ada")
    use_service(app.registry, Clock(LAST), IClock)
    record(
        app,
        [
            (Registered, {"login": "ada"}),
            (SignedIn, {"login": "ada", "detail": {"device": "new"}}),
        ],
    )
    record(app, [(SignInFailed, {"login": "ada"})] * 2, ip="203.0.113.5", agent=CURL)

    def disable(root):
        root["users"]["gone"].disabled = True
        root["users"].catalog.index(root["users"]["gone"])

    with_root(app, disable, commit=True)
    app.registry._zodb_databases[""].close()
    return app


def test_a_week_as_json(site, ini_file, tmp_path):
    out = tmp_path / "week.json"
    code, said, _ = run(ini_file, "report", LAST_WEEK, "--format", "json", "-o", out)
    assert code == 0
    assert said == f"Wrote {LAST_WEEK} as json to {out}.\n"
    data = orjson.loads(out.read_bytes())
    assert data["week"] == LAST_WEEK and data["live"] is False
    figures = {row["key"]: row["value"] for row in data["summary"]}
    assert (figures["registrations"], figures["sign_ins"]) == (1, 1)
    assert figures["failed_sign_ins"] == 2
    assert data["networks"]["failures"] == [{"network": "203.0.113.0/24", "events": 2}]


def test_a_week_as_csv_every_table_or_one(site, ini_file, tmp_path):
    out = tmp_path / "week.csv"
    assert run(ini_file, "report", LAST_WEEK, "--format", "csv", "-o", out)[0] == 0
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["table", "row", "column", "value"]
    assert ["summary", "Failed sign-ins", "this week", "2"] in rows
    assert ["browsers", "curl", "failures", "2"] in rows
    assert ["networks-failures", "203.0.113.0/24", "failures", "2"] in rows
    assert {row[0] for row in rows[1:]} == {
        "summary",
        "hours",
        "failed-sign-ins",
        "networks-sign-ins",
        "networks-failures",
        "browsers",
        "devices",
    }
    code, _, _ = run(
        ini_file,
        "report",
        LAST_WEEK,
        "--format",
        "csv",
        "--table",
        "devices",
        "-o",
        out,
    )
    assert code == 0
    assert out.read_text().splitlines() == ["device,sign-ins", "new,1", "returning,0"]


def test_a_week_as_pdf_to_standard_output(site, ini_file):
    stdout = io.TextIOWrapper(io.BytesIO())
    argv = [str(ini_file), "report", LAST_WEEK, "--format", "pdf", "-o", "-"]
    assert cli.main(argv, stdout=stdout, stderr=io.StringIO()) == 0
    assert stdout.buffer.getvalue().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("2026-48", "--format", "json"),
            "'2026-48' is not a week: write it as 2026-W48.",
        ),
        (("2025-W53", "--format", "json"), "2025 has no week 53."),
        (
            ("2099-W01", "--format", "json"),
            "There is no report for 2099-W01: it is either still to come or from "
            "before the first week anything was recorded.",
        ),
        (
            (LAST_WEEK, "--format", "json", "--table", "summary"),
            "--table is for --format csv.",
        ),
    ],
)
def test_what_the_report_command_refuses(site, ini_file, tmp_path, argv, message):
    out = tmp_path / "out"
    code, _, err = run(ini_file, "report", *argv, "-o", out)
    assert (code, err) == (2, f"wingapp: {message}\n")
    assert not out.exists()


def test_last_week_is_mailed_to_every_admin_once(
    site, ini_file, maildir: Path, monkeypatch
):
    # A page of one admin at a time: every page is read.
    monkeypatch.setattr(reports_script, "ADMINS_PAGE", 1)
    code, said, _ = run(ini_file, "mail-report")
    assert code == 0
    assert said == f"Mailed the report for {LAST_WEEK} to 2 admins: chief, root.\n"
    sent = messages(maildir)
    assert sorted(m["To"] for m in sent) == ["chief@example.org", "root@example.org"]
    message = sent[0]
    assert message["Subject"] == f"wingapp security report for {LAST_WEEK}"
    assert (
        "Failed sign-ins: 2 (+2 (none before))"
        in message.get_body(("plain",)).get_content()
    )
    (pdf,) = message.iter_attachments()
    assert pdf.get_content().startswith(b"%PDF-")

    code, said, _ = run(ini_file, "mail-report")
    assert code == 0 and said.startswith(f"{LAST_WEEK} was mailed on ")
    assert said.endswith("UTC; --again mails it again.\n")
    assert len(messages(maildir)) == 2
    assert run(ini_file, "mail-report", "--again")[0] == 0
    assert len(messages(maildir)) == 4


def test_this_week_is_not_mailed_before_it_ends(site, ini_file, maildir):
    code, _, err = run(ini_file, "mail-report", "--week", THIS_WEEK)
    assert (code, err) == (
        2,
        f"wingapp: {THIS_WEEK} is not over yet: mail it once it has ended.\n",
    )
    assert messages(maildir) == []


def test_a_quiet_week_is_stored_when_mailed(ini_file, restore_logging, maildir):
    app = get_app(str(ini_file))
    add_user(app, "root", "root@example.org", roles=("user", "admin"))
    use_service(app.registry, Clock(LAST - timedelta(days=7)), IClock)
    record(app, [(Registered, {"login": "root"})])
    app.registry._zodb_databases[""].close()
    code, said, _ = run(ini_file, "mail-report")
    assert (code, said) == (0, f"Mailed the report for {LAST_WEEK} to 1 admin: root.\n")
    code, said, _ = run(ini_file, "mail-report")
    assert said.startswith(f"{LAST_WEEK} was mailed on ")


def test_no_admin_to_mail_is_an_error(ini_file, restore_logging, maildir):
    app = get_app(str(ini_file))
    use_service(app.registry, Clock(LAST), IClock)
    record(app, [(Registered, {"login": "ada"})])
    app.registry._zodb_databases[""].close()
    code, _, err = run(ini_file, "mail-report")
    assert (code, err) == (
        2,
        "wingapp: No admin has a confirmed address to mail the report to.\n",
    )
    assert messages(maildir) == []


def test_without_pango_no_pdf_is_written_nor_mailed(
    site, ini_file, tmp_path, maildir, monkeypatch
):
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    out = tmp_path / "week.pdf"
    code, _, err = run(ini_file, "report", LAST_WEEK, "--format", "pdf", "-o", out)
    assert code == 2 and "weasyprint needs pango" in err
    assert not out.exists()
    code, _, err = run(ini_file, "mail-report")
    assert code == 2 and "weasyprint needs pango" in err
    assert messages(maildir) == []
    # Nothing was recorded as mailed: once pango is there, it goes.
    monkeypatch.delitem(sys.modules, "weasyprint")
    assert run(ini_file, "mail-report")[0] == 0
    assert len(messages(maildir)) == 2
