"""kill -9 of the server during concurrent registrations, then a restart.

pserve (waitress) serves production.ini on a FileStorage, mail to a
maildir. ``--clients`` clients register new accounts (GET /register, then
POST) as fast as they can; after ``--seconds`` the server is killed with
SIGKILL, in the middle of whatever it was doing, and started again on the
same files; this ``--kills`` times. After the last restart the clients go
on for ``--after`` seconds: every request must then succeed.

Then, with the server stopped: every registration that was answered with
success (303 to the confirmation page) must be an account (``wingapp
production.ini export-users -``) and have its confirmation mail in the
maildir, and ``fstest`` (ZODB's FileStorage checker) must pass on Data.fs.
Figures go to the "Endurance: kill -9 during registrations" section of
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import email
import email.policy
import email.utils
import io
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from endurance_common import (
    ROOT,
    Log,
    TimedClient,
    app_errors,
    crowd,
    failed,
    header,
    make_site,
    register,
    servers,
    start_pserve,
)
from report import replace_section

HEADING = "Endurance: kill -9 during registrations"


class Registrations:
    """Logins whose registration the server answered with success."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done: list[str] = []
        self.tried = 0

    def work(self, base: str, log: Log, prefix: str):
        def one(n: int) -> None:
            login = f"{prefix}{n}"
            with self.lock:
                self.tried += 1
            if register(TimedClient(base, log), login):
                with self.lock:
                    self.done.append(login)

        return one


def accounts(ini: Path) -> set[str]:
    out = servers.run([servers.BIN / "wingapp", ini, "export-users", "-"]).stdout
    return {row["login"] for row in csv.DictReader(io.StringIO(out))}


def mailed(maildir: Path) -> set[str]:
    """The addresses that have a message in the maildir."""
    found = set()
    for folder in ("new", "cur"):
        for path in (maildir / folder).glob("*"):
            message = email.message_from_bytes(
                path.read_bytes(), policy=email.policy.default
            )
            found.add(email.utils.parseaddr(str(message["To"]))[1].lower())
    return found


def fstest(data_fs: Path) -> tuple[bool, str]:
    result = subprocess.run(
        [sys.executable, "-m", "ZODB.scripts.fstest", "-v", str(data_fs)],
        capture_output=True,
        text=True,
    )
    said = (result.stdout + result.stderr).strip().splitlines()
    return result.returncode == 0, said[-1] if said else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--after", type=float, default=10.0)
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wingapp-kill-") as tmp:
        work = Path(tmp)
        site = work / "site"
        ini = make_site(site, f"file://{site}/var/Data.fs")
        port = servers.free_port()
        base = f"http://127.0.0.1:{port}"
        output = site / "pserve.out"
        log = Log()
        registrations = Registrations()
        kills = []
        process = start_pserve(ini, port, output)
        for k in range(args.kills):
            works = [
                registrations.work(base, log, f"k{k}c{c}n") for c in range(args.clients)
            ]
            with crowd(works):
                time.sleep(args.seconds)
                before = len(registrations.done)
                process.send_signal(signal.SIGKILL)
                process.wait()
                killed_at = time.monotonic()
            print(f"kill {k + 1}: {before} registrations answered so far", flush=True)
            started = time.monotonic()
            process = start_pserve(ini, port, output)
            kills.append((killed_at, time.monotonic() - started))
        restarted = time.monotonic()
        works = [
            registrations.work(base, log, f"after-c{c}n") for c in range(args.clients)
        ]
        with crowd(works):
            time.sleep(args.after)
        servers.stop(process)

        after = [a for a in log.answers if a.started >= restarted]
        failed_after = [a for a in after if failed(a)]
        server_errors = [a for a in log.answers if a.status >= 500]
        have = accounts(ini)
        missing = [login for login in registrations.done if login not in have]
        addresses = mailed(site / "var" / "mail")
        no_mail = [
            login
            for login in registrations.done
            if f"{login}@example.org" not in addresses
        ]
        fs_ok, fs_said = fstest(site / "var" / "Data.fs")
        errors = app_errors(site / "var" / "log" / "wingapp.log")

    statuses = log.statuses()
    restart_s = ", ".join(f"{s:.1f}" for _, s in kills)
    print(
        f"statuses {dict(statuses)}; answered registrations {len(registrations.done)}"
    )
    print(
        f"missing accounts {missing[:5]}; without mail {no_mail[:5]}; fstest {fs_said}"
    )
    print(f"after the last restart: {len(after)} requests, {len(failed_after)} failed")
    print(f"5xx {len(server_errors)}; app log errors {dict(errors)}")
    verdict = (
        "met"
        if not missing
        and not no_mail
        and fs_ok
        and not failed_after
        and not server_errors
        else "NOT MET"
    )
    lines = [
        *header("endurance_kill.py", sys.argv[1:]),
        f"pserve (waitress, 8 threads) on a FileStorage, production.ini with mail "
        f"to a maildir. {args.clients} clients register new accounts (GET "
        f"/register, POST) without pause; after {args.seconds:g} s the server "
        f"gets SIGKILL and is started again on the same files, {args.kills} "
        f"times; after the last restart the clients go on for {args.after:g} s. "
        "Then, the server stopped: each registration answered with success must "
        "be an account (`wingapp production.ini export-users -`) with its "
        "confirmation mail in the maildir, and `python -m ZODB.scripts.fstest "
        "var/Data.fs` must pass. Goals: all of that, no 5xx ever, and no failed "
        f"request after the last restart ({verdict}).",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| requests | {sum(statuses.values()):,} |",
        f"| registrations answered with success | {len(registrations.done):,} "
        f"(of {registrations.tried:,} begun) |",
        f"| ... without an account after the kills | {len(missing)} |",
        f"| ... without their mail | {len(no_mail)} |",
        f"| requests cut off by the kills (no answer) | {statuses[0]} |",
        f"| answers >= 500 | {len(server_errors)} |",
        f"| restart after each kill, until /login answers (s) | {restart_s} |",
        f"| requests after the last restart / failed | {len(after):,} / "
        f"{len(failed_after)} |",
        f"| fstest | {'passed' if fs_ok else 'FAILED'}: {fs_said} |",
        f"| ERROR records in the app's log | {sum(errors.values())} |",
    ]
    print("\n".join(lines))
    replace_section(args.output, HEADING, lines)
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
