"""The admin listing at a million accounts, and the import that fills it.

Builds a FileStorage database of ``--users`` accounts (default 1,000,000)
through the import's own code (wingapp.admin.transfer: CSV rows read by
``read_rows``, written by ``UserImport`` in batches of 1000, one commit
each), with one argon2id hash computed once and shared by every row, so
that the build measures the trees and not argon2. Then it times, warm, the
first page and a deep page (one that starts half-way) of the users listing
through the catalog's query API, for every sort order in both directions
with no filter, each state and each role; and the listing's JSON page
through the real view (WebTest, an admin signed in). Last, in a process of
its own, it imports ``--import-rows`` rows (default 100,000) into an empty
database and reports the time and the peak memory.

Figures go to the "Users at a million" section of BENCHMARKS.md. A quick
check: ``python bench/users_1m.py --users 20000 --import-rows 5000``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# The tests' helpers: an ini's logging.
sys.path.insert(0, str(HERE.parent))

from report import replace_section, revision  # noqa: E402
from tests.ini import LOGGING  # noqa: E402

PASSWORD = "violet harbour lantern seventeen"
ADMIN = "benchadmin"
HEADING = "Users at a million"
GOAL_MS = 30.0
PAGE = 50
# Every this many accounts has no hash (must reset), is unconfirmed,
# is an admin, is disabled, has signed in: each filter has something.
NO_HASH_EVERY = 23
UNCONFIRMED_EVERY = 17
ADMIN_EVERY = 100
DISABLED_EVERY = 97
SIGNED_IN_EVERY = 5
T0 = datetime(2020, 1, 1, tzinfo=UTC)


def write_ini(directory: Path) -> Path:
    from wingapp.keys import KeyPaths, ensure_keys

    secrets = directory / "secrets"
    ensure_keys(
        KeyPaths(
            session_secret=secrets / "session",
            encryption_keys=secrets / "keys",
            index_key=secrets / "index",
        )
    )
    ini = directory / "bench.ini"
    ini.write_text(
        "[app:main]\nuse = egg:wingapp\n"
        f"zodbconn.uri = file://{directory}/Data.fs\n"
        f"wingapp.session_secret_file = {secrets}/session\n"
        f"wingapp.encryption_keys_file = {secrets}/keys\n"
        f"wingapp.index_key_file = {secrets}/index\n"
        "wingapp.public_url = http://127.0.0.1\n"
        "wingapp.allowed_hosts = *\n"
        "session.secure_cookie = false\n"
        "auth.two_step = never\n"
        "mail.transport = maildir\n"
        f"mail.maildir = {directory}/mail\n"
        "mail.default_sender = bench <bench@example.org>\n"
        "passwords.argon2_time_cost = 2\n"
        "passwords.argon2_memory_cost = 19456\n"
        "passwords.argon2_parallelism = 1\n" + LOGGING
    )
    return ini


class Site:
    """The app of an ini file, with a request and a connection as a console
    command has them (wingapp.scripts.env), and the app itself for WebTest."""

    def __init__(self, ini: Path) -> None:
        from pyramid.paster import get_app
        from pyramid.scripting import prepare
        from pyramid_zodbconn import get_connection

        self.app = get_app(str(ini))
        self.db = self.app.registry._zodb_databases[""]
        self.prepared = prepare(registry=self.app.registry)
        self.request = self.prepared["request"]
        self.request.root = self.prepared["root"]
        self.tm = self.request.tm
        self.tm.abort()
        self.conn = get_connection(self.request)

    @property
    def root(self) -> Any:
        return self.conn.root()["wingapp"]

    def service(self, iface: Any) -> Any:
        return self.request.find_service(iface)

    def close(self) -> None:
        self.prepared["closer"]()
        self.db.close()


def csv_lines(count: int, first: int, shared_hash: str) -> Iterator[str]:
    """The import file, made as it is read: a header, then ``count`` rows."""
    yield "login,email,roles,password_hash,confirmed\r\n"
    for i in range(first, first + count):
        roles = "user admin" if i % ADMIN_EVERY == 0 else "user"
        # Quoted: an argon2 hash has commas.
        stored = "" if i % NO_HASH_EVERY == 0 else f'"{shared_hash}"'
        confirmed = "false" if i % UNCONFIRMED_EVERY == 0 else "true"
        yield f"user{i:07d},user{i:07d}@example.org,{roles},{stored},{confirmed}\r\n"


def import_accounts(site: Site, count: int, shared_hash: str, first: int = 0) -> Any:
    """Import ``count`` generated rows the way ``wingapp import-users``
    does: one transaction per batch of 1000."""
    from wingapp.admin.transfer import UserImport, read_rows
    from wingapp.interfaces import IKeyring
    from wingapp.users.interfaces import ISessionService

    moment = [T0 + timedelta(seconds=first)]

    def clock() -> datetime:
        # One second per account: the "created" order has a spread.
        moment[0] += timedelta(seconds=1)
        return moment[0]

    tm = site.tm

    def commit() -> None:
        tm.get().note("bench import")
        tm.commit()
        # Let the connection's cache shed what the batch wrote.
        site.conn.cacheGC()
        tm.begin()

    tm.begin()
    importer = UserImport(
        site.request,
        users=site.root["users"],
        keyring=site.service(IKeyring),
        sessions=site.service(ISessionService),
        clock=clock,
        actor="os:bench",
        reason="benchmark",
        source="generated",
    )
    summary = importer.run(read_rows(csv_lines(count, first, shared_hash)), commit)
    tm.abort()
    assert not summary.rejected, summary.rejected[:3]
    return summary


def vary_accounts(site: Site, count: int) -> None:
    """Disable some accounts and give some a last sign-in, as the events of
    those changes would, so every filter and order has its accounts."""
    tm = site.tm
    tm.begin()
    users = site.root["users"]
    changed = 0
    for i in range(0, count):
        if i % DISABLED_EVERY and i % SIGNED_IN_EVERY:
            continue
        user = users[f"user{i:07d}"]
        if i % DISABLED_EVERY == 0:
            user.disabled = True
        if i % SIGNED_IN_EVERY == 0:
            user.record_sign_in(T0 + timedelta(days=400, seconds=count - i))
        users.catalog.index(user)
        changed += 1
        if changed % 1000 == 0:
            tm.commit()
            site.conn.cacheGC()
            tm.begin()
    tm.commit()


def median_ms(work: Any, runs: int) -> float:
    work()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def time_queries(site: Site, count: int, runs: int) -> list[tuple[str, float, float]]:
    """(case, first page ms, deep page ms) for every order and filter."""
    from wingapp.users.catalog import ORDERS
    from wingapp.users.models import ROLES, STATES

    site.tm.begin()
    catalog = site.root["users"].catalog
    middle = count // 2
    deep_start = {
        "login": f"user{middle:07d}",
        "created": T0 + timedelta(seconds=middle),
        "last_sign_in": T0 + timedelta(days=400, seconds=count - middle),
    }
    filters = [("all", {})]
    filters += [(f"state={s}", {"state": s}) for s in STATES]
    filters += [(f"role={r}", {"role": r}) for r in ROLES]
    rows = []
    for order in ORDERS:
        for descending in (False, True):
            for name, kw in filters:
                case = f"{'-' if descending else ''}{order}, {name}"

                def first(order=order, descending=descending, kw=kw):
                    logins, _ = catalog.query(order, descending, limit=PAGE, **kw)
                    return logins

                def deep(order=order, descending=descending, kw=kw):
                    logins, _ = catalog.query(
                        order, descending, start=deep_start[order], limit=PAGE, **kw
                    )
                    return logins

                assert first(), case
                rows.append((case, median_ms(first, runs), median_ms(deep, runs)))
    site.tm.abort()
    return rows


def admin_client(site: Site) -> Any:
    """WebTest on the whole app, with the bench's admin signed in (made
    if need be)."""
    import webtest

    from wingapp.interfaces import IClock, IKeyring
    from wingapp.users.interfaces import IPasswordHasher
    from wingapp.users.services import create_user

    site.tm.begin()
    users = site.root["users"]
    if ADMIN not in users:
        create_user(
            users,
            ADMIN,
            "benchadmin@example.org",
            PASSWORD,
            hasher=site.service(IPasswordHasher),
            keyring=site.service(IKeyring),
            now=site.service(IClock),
            roles=("user", "admin"),
            email_confirmed=True,
        )
    site.tm.commit()
    client = webtest.TestApp(site.app, extra_environ={"HTTP_HOST": "example.com"})
    form = client.get("/login").forms["login-form"]
    form["login"], form["password"] = ADMIN, PASSWORD
    form.submit(status=303)
    return client


def time_json_view(site: Site, runs: int) -> list[tuple[str, float]]:
    """The users listing as JSON through the whole app, an admin signed in;
    empty if the listing does not answer JSON with these parameters."""
    client = admin_client(site)
    cases = []
    for order in ("login", "-created", "-last_sign_in"):
        path = f"/users/?order_by={order}&limit={PAGE}"
        answer = client.get(path, headers={"Accept": "application/json"}, status="*")
        if answer.status_int != 200:
            print(f"JSON listing {path} answered {answer.status}: skipped")
            return []
        cursor = answer.json.get("cursor") or answer.json.get("next_cursor")
        cases.append(
            (
                f"GET {path}",
                median_ms(
                    lambda path=path: client.get(
                        path, headers={"Accept": "application/json"}
                    ),
                    runs,
                ),
            )
        )
        if cursor:
            nxt = f"{path}&cursor={cursor}"
            cases.append(
                (
                    f"GET {path}&cursor=…",
                    median_ms(
                        lambda nxt=nxt: client.get(
                            nxt, headers={"Accept": "application/json"}
                        ),
                        runs,
                    ),
                )
            )
    return cases


def measure_import(rows: int) -> dict:
    """Run in a process of its own: import ``rows`` into an empty database;
    time, and peak resident memory above what the open app took."""
    from wingapp.users.passwords import PasswordHasher

    shared = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(
        PASSWORD
    )
    with tempfile.TemporaryDirectory(prefix="wingapp-import-") as work:
        site = Site(write_ini(Path(work)))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        import_accounts(site, rows, shared)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        size = (Path(work) / "Data.fs").stat().st_size
        site.close()
    return {
        "rows": rows,
        "seconds": seconds,
        "baseline_mb": before / 1024,
        "peak_mb": peak / 1024,
        "file_mb": size / 2**20,
    }


def build(work: Path, count: int) -> tuple[Site, float, float]:
    from wingapp.users.passwords import PasswordHasher

    site = Site(write_ini(work))
    shared = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(
        PASSWORD
    )
    started = time.perf_counter()
    step = 100_000
    for first in range(0, count, step):
        import_accounts(site, min(step, count - first), shared, first)
        print(f"  {first + min(step, count - first):,} accounts", flush=True)
    vary_accounts(site, count)
    seconds = time.perf_counter() - started
    size = (work / "Data.fs").stat().st_size / 2**20
    return site, seconds, size


def report(
    args: Any,
    build_s: float,
    size_mb: float,
    queries: list,
    views: list,
    imported: dict,
) -> list[str]:
    worst = max(max(first, deep) for _, first, deep in queries)
    lines = [
        "Written by `python bench/users_1m.py` "
        f"(`--users {args.users} --import-rows {args.import_rows}`). "
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at {revision()}; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        f"The database (FileStorage) holds {args.users:,} accounts, made by the "
        "import's own code (`wingapp.admin.transfer`) in transactions of 1000 rows, "
        "every row with one argon2id hash computed once; every "
        f"{NO_HASH_EVERY}rd has no hash (must reset), every {UNCONFIRMED_EVERY}th is "
        f"unconfirmed, every {ADMIN_EVERY}th an admin, every {DISABLED_EVERY}th "
        f"disabled, every {SIGNED_IN_EVERY}th has signed in. Build: "
        f"{build_s / 60:.1f} min ({args.users / build_s:,.0f} accounts/s), "
        f"file {size_mb:,.0f} MiB.",
        "",
        f"Pages of {PAGE} logins from the catalog's `query()`, warm, median of "
        f"{args.runs} runs; the deep page starts half-way through the order "
        f"(`start=`). Goal: each under {GOAL_MS:.0f} ms; slowest here "
        f"{worst:.2f} ms ({'met' if worst < GOAL_MS else 'NOT MET'}).",
        "",
        "| order, filter | first page ms | deep page ms |",
        "|---|---:|---:|",
    ]
    lines += [f"| {case} | {first:.2f} | {deep:.2f} |" for case, first, deep in queries]
    if views:
        lines += [
            "",
            "The same listing as JSON through the whole app (WebTest, an admin "
            "signed in; session, security, rendering included):",
            "",
            "| request | ms |",
            "|---|---:|",
        ]
        lines += [f"| `{path}` | {ms:.2f} |" for path, ms in views]
    lines += [
        "",
        f"Import of {imported['rows']:,} rows into an empty database (a process "
        f"of its own, 1000 rows a transaction): {imported['seconds']:.1f} s "
        f"({imported['rows'] / imported['seconds']:,.0f} rows/s); peak resident "
        f"memory {imported['peak_mb']:.0f} MiB, of which "
        f"{imported['baseline_mb']:.0f} MiB was the open app before the import; "
        f"file {imported['file_mb']:.0f} MiB.",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--output", type=Path, default=HERE.parent / "BENCHMARKS.md")
    parser.add_argument("--measure-import", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_import:
        print(json.dumps(measure_import(args.measure_import)))
        return
    child = subprocess.run(
        [sys.executable, __file__, "--measure-import", str(args.import_rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"import of {args.import_rows:,} rows: {imported}")
    with tempfile.TemporaryDirectory(prefix="wingapp-1m-") as work:
        print(f"building {args.users:,} accounts in {work}")
        site, build_s, size_mb = build(Path(work), args.users)
        queries = time_queries(site, args.users, args.runs)
        views = time_json_view(site, args.runs)
        site.close()
    lines = report(args, build_s, size_mb, queries, views, imported)
    print("\n".join(lines))
    replace_section(args.output, HEADING, lines)


if __name__ == "__main__":
    main()
