"""A million users and a million events: what the served database costs.

Builds (once; kept in ``--work``) a FileStorage database of ``--users``
accounts (default 1,000,000) through the import's own code, as
``bench/users_1m.py`` does, and ``--events`` events (default 1,000,000)
recorded into the current week as ``bench/events_1m.py`` does. Then it
serves that database with pserve (waitress) and measures: the size of the
files on disk, the start-up time (from launching pserve until ``GET /``
answers), the server's resident memory (RSS) once started and after the
load, and, with wrk, a signed-in user's page against a bare Pyramid hello
served the same way. Figures go to the "A million users and a million
events" section of BENCHMARKS.md. A quick check:
``python bench/endurance_1m.py --users 5000 --events 5000 --work DIR``;
``--build-only`` builds and stops, so that a later run only measures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# The tests' helpers: an ini's logging, a client that signs in.
sys.path.insert(0, str(HERE.parent))

from report import replace_section, revision  # noqa: E402
from tests.ini import LOGGING  # noqa: E402
from users_1m import (  # noqa: E402
    PASSWORD,
    Site,
    import_accounts,
    write_ini,
)

HEADING = "A million users and a million events"
BUILT = "built.json"
VENV_BIN = Path(sys.executable).parent


def build(work: Path, users: int, events: int, batch: int) -> dict[str, Any]:
    from events_1m import record_events

    from wingapp.interfaces import IClock
    from wingapp.reports.weeks import week_of
    from wingapp.users.passwords import PasswordHasher

    site = Site(write_ini(work))
    shared = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(
        PASSWORD
    )
    started = time.perf_counter()
    step = 100_000
    for first in range(0, users, step):
        import_accounts(site, min(step, users - first), shared, first)
        print(f"  {first + min(step, users - first):,} accounts", flush=True)
    users_s = time.perf_counter() - started
    week = week_of(site.service(IClock)())
    recorded = record_events(site, week, events, batch)
    site.close()
    built = {
        "users": users,
        "events": events,
        "users_s": users_s,
        "events_s": recorded.seconds,
        "week": week,
        "commit": revision(),
        "when": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    }
    (work / BUILT).write_text(json.dumps(built))
    return built


SERVE_INI = """[app:main]
use = egg:wingapp
zodbconn.uri = file://{work}/Data.fs
wingapp.session_secret_file = {work}/secrets/session
wingapp.encryption_keys_file = {work}/secrets/keys
wingapp.index_key_file = {work}/secrets/index
wingapp.public_url = http://127.0.0.1:{port}
wingapp.allowed_hosts = 127.0.0.1
session.secure_cookie = false
auth.two_step = never
mail.transport = maildir
mail.maildir = {work}/mail
mail.default_sender = bench <bench@example.org>
passwords.argon2_time_cost = 2
passwords.argon2_memory_cost = 19456
passwords.argon2_parallelism = 1

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:{port}
threads = 4
"""

SERVE_HELLO = """
import sys
sys.path.insert(0, sys.argv[1])
from hello_app import make_app
from waitress import serve
serve(make_app(), listen=sys.argv[2], threads=4, _quiet=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str, timeout: float) -> bool:
    with (
        contextlib.suppress(OSError),
        urllib.request.urlopen(url, timeout=timeout) as response,
    ):
        return response.status == 200
    return False


def wait_until_up(url: str, process: subprocess.Popen, limit: float) -> float:
    """Seconds from now until ``url`` answers 200."""
    started = time.perf_counter()
    while not answers(url, 5):
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        if time.perf_counter() - started > limit:
            raise RuntimeError(f"{url} did not answer in {limit:.0f} s")
        time.sleep(0.05)
    return time.perf_counter() - started


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def signed_in_cookie(base: str, login: str) -> str:
    """The cookies of a real sign-in through the form."""
    from tests.integration.servers import Client

    client = Client(base)
    answer = client.sign_in(login, PASSWORD)
    if answer.status != 303 or not answer.location.endswith(f"/users/{login}/"):
        raise RuntimeError(f"signing in {login} answered {answer.status}")
    return "; ".join(f"{k}={v}" for k, v in client.jar.items())


def wrk(url: str, seconds: int, cookie: str | None = None) -> float:
    """Requests a second, 4 threads and 8 connections for ``seconds``;
    every answer must be 2xx."""
    command = ["wrk", "-t4", "-c8", f"-d{seconds}s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk on {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def size_mib(path: Path) -> float:
    return path.stat().st_size / 2**20


def measure(work: Path, seconds: int, rounds: int, login: str) -> dict[str, Any]:
    port, hello_port = free_port(), free_port()
    ini = work / "serve.ini"
    ini.write_text(SERVE_INI.format(work=work, port=port) + LOGGING)
    base = f"http://127.0.0.1:{port}"
    figures: dict[str, Any] = {
        "data_fs_mib": size_mib(work / "Data.fs"),
        "index_mib": size_mib(work / "Data.fs.index"),
        "disk_mib": sum(f.stat().st_size for f in work.rglob("*") if f.is_file())
        / 2**20,
    }
    started = time.perf_counter()
    server = subprocess.Popen(
        [VENV_BIN / "pserve", ini],
        stdout=(work / "pserve.out").open("w"),
        stderr=subprocess.STDOUT,
    )
    hello = None
    try:
        wait_until_up(f"{base}/login", server, 900)
        figures["start_s"] = time.perf_counter() - started
        figures["rss_started_mib"] = rss_mib(server.pid)
        cookie = signed_in_cookie(base, login)
        page = f"{base}/users/{login}/"
        hello = subprocess.Popen(
            [sys.executable, "-c", SERVE_HELLO, str(HERE), f"127.0.0.1:{hello_port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_up(f"http://127.0.0.1:{hello_port}/", hello, 60)
        # Warm: templates compiled, the account's objects in the cache.
        wrk(page, 2, cookie)
        wrk(f"http://127.0.0.1:{hello_port}/", 2)
        pairs = []
        for _ in range(rounds):
            hello_rps = wrk(f"http://127.0.0.1:{hello_port}/", seconds)
            page_rps = wrk(page, seconds, cookie)
            pairs.append((hello_rps, page_rps))
            print(f"  hello {hello_rps:,.0f}/s, signed-in page {page_rps:,.0f}/s")
        figures["hello_rps"] = statistics.median(h for h, _ in pairs)
        figures["page_rps"] = statistics.median(p for _, p in pairs)
        figures["ratio"] = statistics.median(p / h for h, p in pairs)
        figures["rss_loaded_mib"] = rss_mib(server.pid)
    finally:
        if hello is not None:
            hello.terminate()
            hello.wait()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    return figures


def report(
    argv: list[str],
    built: dict[str, Any],
    f: dict[str, Any],
    small: dict[str, Any],
    compare: int,
) -> list[str]:
    from endurance_common import header

    def row(label: str, key: str, form: str) -> str:
        return f"| {label} | {form.format(f[key])} | {form.format(small[key])} |"

    return [
        *header("endurance_1m.py", argv),
        f"A FileStorage with {built['users']:,} accounts (made by the import's "
        "own code, as bench/users_1m.py does) and "
        f"{built['events']:,} events in week {built['week']} (recorded as "
        "bench/events_1m.py does: the event log, the week's report counters, "
        "each account's history), built once at "
        f"{built['commit']} on {built['when']} in "
        f"{built['users_s'] / 60:.0f} + {built['events_s'] / 60:.0f} min "
        "(accounts + events) on this shared machine, not packed; beside it, "
        f"for comparison, one of {compare:,} accounts and {compare:,} events "
        "built the same way, measured in the same run. Each is served by "
        "pserve (waitress, 4 threads). Start-up: from launching pserve until "
        "`GET /login` answers 200 (Python and the app loaded, the FileStorage's "
        "index read; the files were in the page cache). The signed-in page is "
        "a user's own page with the cookie of a real sign-in, against a bare "
        "Pyramid hello on the same server (wrk, 4 threads, 8 connections, "
        f"median of {f['rounds']} rounds of {f['seconds']} s, interleaved).",
        "",
        f"| figure | {built['users']:,} + {built['events']:,} "
        f"| {compare:,} + {compare:,} |",
        "|---|---:|---:|",
        row("Data.fs (MiB)", "data_fs_mib", "{:,.0f}"),
        row("Data.fs.index (MiB)", "index_mib", "{:,.1f}"),
        row("on disk in all, with secrets and mail (MiB)", "disk_mib", "{:,.0f}"),
        row("start-up, until the first page (s)", "start_s", "{:.1f}"),
        row("server RSS after start-up (MiB)", "rss_started_mib", "{:,.0f}"),
        row("server RSS after the load (MiB)", "rss_loaded_mib", "{:,.0f}"),
        row("bare Pyramid hello (requests/s)", "hello_rps", "{:,.0f}"),
        row("a user's own page, signed in (requests/s)", "page_rps", "{:,.0f}"),
        row("ratio, signed-in page / hello", "ratio", "{:.2f}x"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--work",
        type=Path,
        required=True,
        help="where the database is built and kept (about 12 GiB at a million)",
    )
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--compare",
        type=int,
        default=1000,
        help="accounts and events of the small database measured alongside",
    )
    parser.add_argument("--output", type=Path, default=HERE.parent / "BENCHMARKS.md")
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if (work / BUILT).exists():
        built = json.loads((work / BUILT).read_text())
        print(f"using the database built in {work}: {built}")
    else:
        built = build(work, args.users, args.events, args.batch)
    if args.build_only:
        return
    # An account of the import (user0000001: confirmed, with a password).
    figures = measure(work, args.seconds, args.rounds, "user0000001")
    figures.update(seconds=args.seconds, rounds=args.rounds)
    print(json.dumps(figures))
    # The same measures on a small database built the same way, in the same
    # run: what the million costs.
    small = work.with_name(f"{work.name}-small")
    small.mkdir(exist_ok=True)
    if not (small / BUILT).exists():
        build(small, args.compare, args.compare, args.batch)
    baseline = measure(small, args.seconds, args.rounds, "user0000001")
    print(json.dumps(baseline))
    lines = report(sys.argv[1:], built, figures, baseline, args.compare)
    print("\n".join(lines))
    replace_section(args.output, HEADING, lines)


if __name__ == "__main__":
    main()
