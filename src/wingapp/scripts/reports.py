"""``wingapp CONFIG report WEEK`` writes a week's report to a file;
``wingapp CONFIG mail-report`` mails the last full week's to every admin
(for cron, on Monday mornings)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
from pyramid.httpexceptions import HTTPNotFound

from ..interfaces import IKeyring, IMailer
from ..renderers import OPTIONS
from ..reports.figures import TABLES
from ..reports.mailing import report_message
from ..reports.pdf import PDFUnavailable
from ..reports.views import report_data, report_pdf, table_csv
from ..reports.weeks import monday_of, previous_week, week_of
from ..spreadsheet import csv_line, for_spreadsheet
from ..users.models import ACTIVE, MUST_RESET
from .env import ScriptEnv, open_app
from .errors import CommandError

FORMATS = ("pdf", "csv", "json")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "report",
        help="write a week's security report as PDF, CSV or JSON",
        description="CSV holds every table in one file, a row per figure "
        "(table,row,column,value), unless --table picks one table as the "
        "site's download gives it: " + ", ".join(TABLES) + ".",
    )
    p.add_argument("week", metavar="WEEK", help="an ISO week, e.g. 2026-W48")
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("--table", choices=tuple(TABLES), help="CSV only: one table")
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="- for standard output"
    )
    p.set_defaults(run=run_report)

    p = subparsers.add_parser(
        "mail-report",
        help="mail a week's report to every admin, the PDF attached",
        description="By default the last full week. A week already mailed is "
        "not mailed again unless --again says so.",
    )
    p.add_argument("--week", metavar="WEEK", help="an ISO week, e.g. 2026-W48")
    p.add_argument("--again", action="store_true", help="mail it even if it was")
    p.set_defaults(run=run_mail_report)


def find_report(env: ScriptEnv, name: str) -> tuple[Any, dict[str, Any]]:
    """The week's report and its figures; a stored week that has ended is
    frozen first (the web only reads, a command may write)."""
    try:
        monday_of(name)
        reports = env.root["reports"]
        report = reports[name]
        now = env.now()
        if reports.is_stored(report) and report.ended(now):
            report.freeze(now)
        data = report_data(report, env.request)
    except ValueError as e:
        raise CommandError(str(e)) from None
    except HTTPNotFound:
        raise CommandError(
            f"There is no report for {name}: it is either still to come or "
            "from before the first week anything was recorded."
        ) from None
    return report, data


def long_csv(data: dict[str, Any]) -> str:
    """Every table in one CSV: a line per figure."""
    lines = [csv_line(("table", "row", "column", "value"))]
    for table, (_, rows) in TABLES.items():
        header, *body = rows(data)
        for row in body:
            for column, value in zip(header[1:], row[1:], strict=True):
                lines.append(
                    csv_line((table, for_spreadsheet(str(row[0])), column, value))
                )
    return "".join(lines)


def pdf_of(data: dict[str, Any], env: ScriptEnv) -> bytes:
    try:
        return report_pdf(data, env.request)
    except PDFUnavailable as e:
        raise CommandError(str(e)) from None


def run_report(args: Any, stdin: Any, stdout: Any) -> int:
    if args.table and args.format != "csv":
        raise CommandError("--table is for --format csv.")
    # Looking at an ended week freezes it (find_report): the transaction
    # keeps that.
    with open_app(args.config_uri) as env, env.tm:
        _, data = find_report(env, args.week)
        if args.format == "pdf":
            body = pdf_of(data, env)
        elif args.format == "json":
            body = orjson.dumps(data, option=OPTIONS | orjson.OPT_INDENT_2)
        elif args.table:
            body = table_csv(data, args.table).encode("utf-8")
        else:
            body = long_csv(data).encode("utf-8")
    if args.output == "-":
        out = getattr(stdout, "buffer", None) or sys.stdout.buffer
        out.write(body)
        out.flush()
    else:
        Path(args.output).write_bytes(body)
        print(f"Wrote {args.week} as {args.format} to {args.output}.", file=stdout)
    return 0


ADMINS_PAGE = 500


def admin_addresses(env: ScriptEnv) -> list[tuple[str, str]]:
    """(login, address) of every admin whose address is confirmed and who
    is not disabled."""
    users = env.root["users"]
    keyring = env.service(IKeyring)
    found = []
    for state in (ACTIVE, MUST_RESET):
        after = None
        while True:
            logins, after = users.catalog.query(
                state=state, role="admin", after=after, limit=ADMINS_PAGE
            )
            found += [(login, users[login].email(keyring)) for login in logins]
            if after is None:
                break
    return sorted(found)


def run_mail_report(args: Any, stdin: Any, stdout: Any) -> int:
    with open_app(args.config_uri) as env, env.tm:
        now = env.now()
        name = args.week or previous_week(week_of(now))
        report, data = find_report(env, name)
        if data["live"]:
            raise CommandError(f"{name} is not over yet: mail it once it has ended.")
        if report.mailed_at is not None and not args.again:
            print(
                f"{name} was mailed on {report.mailed_at:%Y-%m-%d %H:%M} UTC; "
                "--again mails it again.",
                file=stdout,
            )
            return 0
        admins = admin_addresses(env)
        if not admins:
            raise CommandError(
                "No admin has a confirmed address to mail the report to."
            )
        pdf = pdf_of(data, env)
        mailer = env.service(IMailer)
        for _, address in admins:
            message = report_message(
                data, pdf, sender=mailer.default_sender, to=address
            )
            mailer.send(message, env.tm)
        reports = env.root["reports"]
        if not reports.is_stored(report):
            # A week without events: keep it, frozen, to remember the mailing.
            reports.add(name, report)
            report.freeze(now)
        report.mailed_at = now
        env.tm.get().note(f"wingapp mail-report {name}")
    logins = ", ".join(login for login, _ in admins)
    print(
        f"Mailed the report for {name} to {len(admins)} "
        f"{'admin' if len(admins) == 1 else 'admins'}: {logins}.",
        file=stdout,
    )
    return 0
