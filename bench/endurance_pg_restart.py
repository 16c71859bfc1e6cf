"""PostgreSQL restarted under load, with the app on RelStorage.

A PostgreSQL server of the script's own (initdb in a temporary directory,
a free port, trust authentication; the machine's shared server is left
alone) holds the site's database. The app serves production.ini on it,
with pserve (waitress, 8 threads) or mod_wsgi-express (2 daemon processes
of 4 threads, as www-data); clients read pages (home, sign-in form), sign
in, read their page and sign out, and register new accounts. Every
``--interval`` seconds the PostgreSQL server is restarted (``pg_ctl
restart -m fast``: sessions are ended, as at any restart), ``--restarts``
times, while the clients go on. The app is never restarted.

Each request is put in one of three periods by its time: before a restart
began; during it (in flight when the restart began, or sent before the
server accepted connections again); after the server was back. Goals: no
answer >= 500 other than 503 ever; nothing but 503 failing during a
restart; no failed request at all after it. Figures go to the "Endurance:
PostgreSQL restarted under load" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from endurance_common import (
    ROOT,
    Answer,
    Log,
    add_mix_arguments,
    app_errors,
    busy,
    causes_of_503,
    crowd,
    failed,
    header,
    make_site,
    mixed_works,
    servers,
    start_pserve,
)
from report import replace_section

HEADING = "Endurance: PostgreSQL restarted under load"
PG_BIN = Path("/usr/lib/postgresql")
POSTGRES = "postgres"


def pg_tool(name: str) -> Path:
    found = sorted(PG_BIN.glob(f"*/bin/{name}"))
    if not found:
        raise SystemExit(f"{name} not found under {PG_BIN} (tools/system-packages.sh)")
    return found[-1]


def as_postgres(*args: object) -> subprocess.CompletedProcess:
    return servers.run(["runuser", "-u", POSTGRES, "--", *args], timeout=120)


class Cluster:
    """A PostgreSQL server of our own in ``directory``."""

    def __init__(self, directory: Path, port: int) -> None:
        self.data = directory / "data"
        self.port = port
        directory.mkdir(parents=True, exist_ok=True)
        postgres = pwd.getpwnam(POSTGRES)
        os.chown(directory, postgres.pw_uid, postgres.pw_gid)
        directory.chmod(0o700)

    def pg_ctl(self, *args: str) -> None:
        as_postgres(pg_tool("pg_ctl"), "-D", self.data, "-w", "-t", "60", *args)

    def start(self) -> None:
        as_postgres(
            pg_tool("initdb"), "-D", self.data, "-A", "trust", "-U", POSTGRES, "-N"
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.data}"
        )
        self.pg_ctl("-o", options, "-l", str(self.data / "server.log"), "start")
        createdb = pg_tool("createdb")
        servers.run(
            [createdb, "-h", "127.0.0.1", "-p", self.port, "-U", POSTGRES, "wingapp"]
        )

    def restart(self) -> None:
        # -m fast: sessions are ended and open transactions rolled back,
        # as a restart for an upgrade or a configuration change does.
        self.pg_ctl("-m", "fast", "-l", str(self.data / "server.log"), "restart")

    def ready(self) -> bool:
        return (
            subprocess.run(
                [pg_tool("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
            ).returncode
            == 0
        )

    def stop(self) -> None:
        with contextlib.suppress(AssertionError):
            self.pg_ctl("-m", "immediate", "stop")

    def uri(self) -> str:
        # As production.ini has it, on our port.
        return (
            f"postgres://{POSTGRES}@127.0.0.1:{self.port}/wingapp"
            "?keep_history=true&cache_local_mb=64&connection_cache_size=20000"
        )


@contextlib.contextmanager
def pserve(ini: Path) -> Iterator[tuple[str, str, Path | None]]:
    port = servers.free_port()
    process = start_pserve(ini, port, ini.parent / "pserve.out")
    try:
        yield "pserve (waitress, 8 threads)", f"http://127.0.0.1:{port}", None
    finally:
        servers.stop(process)


@contextlib.contextmanager
def modwsgi(ini: Path, root: Path) -> Iterator[tuple[str, str, Path | None]]:
    source = servers.copy_source_tree(root / "source")
    venv = servers.modwsgi_venv(source)
    app = servers.install_app(venv, source, root / "app")
    servers.give_to_daemon(ini.parent / "var")
    express = contextlib.contextmanager(servers.start_express)
    with express(venv, ini, app, "--max-clients", "64") as server:
        yield (
            "mod_wsgi-express (2 processes, 4 threads each)",
            server.base,
            server.root / "error_log",
        )


def period(answer: Answer, restarts: list[tuple[float, float]]) -> str:
    for began, back in restarts:
        if answer.started < back and answer.ended > began:
            return "during"
    if any(answer.started >= back for _, back in restarts):
        return "after"
    return "before"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--server", choices=("pserve", "modwsgi"), default="pserve")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--interval", type=float, default=15.0)
    add_mix_arguments(parser)
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--keep-log", type=Path, help="copy the app's log here (what was retried)"
    )
    args = parser.parse_args()
    if shutil.which("runuser") is None or os.geteuid() != 0:
        raise SystemExit("run as root: the PostgreSQL server runs as postgres")

    root = servers.readable_by_daemon(Path(tempfile.mkdtemp(prefix="wingapp-pg-")))
    cluster = Cluster(root / "pg", servers.free_port())
    log = Log()
    restarts: list[tuple[float, float]] = []
    try:
        cluster.start()
        site = root / "site"
        site.mkdir()
        servers.readable_by_daemon(site)
        ini = make_site(site, cluster.uri(), signers=args.signers)
        serve = (
            pserve(ini) if args.server == "pserve" else modwsgi(ini, root / "apache")
        )
        with serve as (name, base, apache_log), crowd(mixed_works(base, log, args)):
            for number in range(args.restarts):
                time.sleep(args.interval)
                began = time.monotonic()
                cluster.restart()
                while not cluster.ready():
                    time.sleep(0.01)
                back = time.monotonic()
                restarts.append((began, back))
                print(f"restart {number + 1}: {back - began:.2f} s", flush=True)
            time.sleep(args.interval)
        app_log = site / "var" / "log" / "wingapp.log"
        if args.keep_log:
            shutil.copy(app_log, args.keep_log)
        errors, causes = app_errors(app_log), causes_of_503(app_log)
        apache = (
            apache_log.read_text(errors="replace")
            if apache_log and apache_log.exists()
            else ""
        )
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)

    by_period: dict[str, Counter] = {"before": Counter(), "during": Counter()}
    by_period["after"] = Counter()
    odd = []
    for answer in log.answers:
        when = period(answer, restarts)
        by_period[when]["busy" if busy(answer) else answer.status] += 1
        if when != "during" and failed(answer):
            odd.append(answer)
    for answer in odd[:10]:
        back = min(restarts, key=lambda r: abs(answer.started - r[1]))[1]
        print(f"  {answer.what}: {answer.status}, sent {answer.started - back:+.2f} s")
    during, after = by_period["during"], by_period["after"]

    def server_errors(counter: Counter) -> int:
        return sum(n for s, n in counter.items() if s != "busy" and s >= 500)

    # During a restart a request may be refused with a 503; nothing else.
    bad_during = during[0] + server_errors(during) - during[503]
    # After it, the database is back: every 503 (a conflict's too), every
    # 500 and every request left without an answer is a failure.
    failed_after = after[0] + server_errors(after) + after["busy"]
    failed_after += by_period["before"][0] + server_errors(by_period["before"])
    verdict = "met" if not (bad_during or failed_after) else "NOT MET"
    apache_500 = apache.count("Truncated or oversized") + apache.count("[wsgi:error]")
    # The server's directory is gone by now: what mod_wsgi said is shown here.
    for line in [x for x in apache.splitlines() if "[wsgi:error]" in x][:20]:
        print(f"  error_log: {line[:300]}")
    for label, counter in by_period.items():
        print(f"{label}: {dict(counter)}")
    print(f"app log errors {dict(errors)}")

    def cell(counter: Counter) -> str:
        total = sum(counter.values())
        ok = sum(n for s, n in counter.items() if s != "busy" and 0 < s < 500)
        return (
            f"{total:,} | {ok:,} | {counter[503]:,} | {counter['busy']} | "
            f"{server_errors(counter) - counter[503]} | {counter[0]}"
        )

    seconds = ", ".join(f"{back - began:.1f}" for began, back in restarts)
    logged = "; ".join(f"{n}x {cause[:90]}" for cause, n in errors.most_common())
    answered = ", ".join(f"{n}x {cause}" for cause, n in causes.most_common())
    lines = [
        *header("endurance_pg_restart.py", sys.argv[1:]),
        f"{name}, production.ini on RelStorage in a PostgreSQL server of the "
        "script's own (initdb in a temporary directory, its own port); the app "
        f"is never restarted. {args.readers} clients read the home page and the "
        f"sign-in form, {args.signers} sign in, read their page and sign out, "
        f"{args.registrants} register new accounts, all without pause. Every "
        f"{args.interval:g} s PostgreSQL is restarted (`pg_ctl restart -m fast`), "
        f"{args.restarts} times; each restart took {seconds} s until it "
        "accepted connections again. A request is *during* a restart when it "
        "was in flight as the restart began or sent before the server was back; "
        "*after* when sent once it was back (until the next restart). Goals: "
        "during, nothing but a 503 fails; after, nothing fails, not even a "
        f"busy 503; no 500 ever ({verdict}). A *busy* 503 is a conflict "
        "between the clients' own writes that outlasted its retries (as in the "
        "crowd above), not the database's absence.",
        "",
        "| period | requests | answered < 500 | 503 database away | 503 busy "
        "| other >= 500 | no answer |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| before the first restart | {cell(by_period['before'])} |",
        f"| during a restart | {cell(during)} |",
        f"| after a restart | {cell(after)} |",
        "",
        f"What the app answered 503 for (its log): {answered or 'nothing'}.",
        "",
        f"ERROR or CRITICAL records in the app's log: {sum(errors.values())}"
        + (f" ({logged})" if errors else "")
        + (
            f"; [wsgi:error] lines in Apache's error_log (the app's stderr "
            f"lands there too): {apache_500}"
            if apache_log
            else ""
        )
        + ". These are the libraries' own records of what failed while the "
        "server was away (RelStorage's failed reconnections, ZODB's failed "
        "loads, the transaction package's failed aborts and commits), each "
        "with its traceback; the requests concerned were tried again or "
        "answered 503, as the table shows.",
    ]
    print("\n".join(lines))
    replace_section(args.output, f"{HEADING} ({args.server})", lines)
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
