"""A million events into the weekly reports, and the report they make.

Builds a FileStorage database with ``--accounts`` accounts (default 1000,
made by the import as ``bench/users_1m.py`` makes them) and an admin, then
records ``--events`` events (default 1,000,000) in the current ISO week by
the app's clock, in transactions of ``--batch`` (default 10,000). Each
event is recorded as ``wingapp.audit.record`` does it (an ``Entry`` with
its address and user agent encrypted, appended to the event log), and the
log's ``EntryRecorded`` goes to the app's own subscribers, which count it
into the week's report and file it in the account's history. Times follow
a daily rhythm over the week's 168 hours; sources come from ~5000 networks
(IPv4 and IPv6), ~30 user agents and ~50,000 logins.

Then it measures the file as written and after packing, and serves the
week's report through the whole app (WebTest, the admin signed in): the
page and its JSON while the week is live, again once it is frozen, and
the PDF of each. Figures go to the "Events at a million" section of
BENCHMARKS.md. A quick check: ``python bench/events_1m.py --events 20000``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import itertools
import os
import platform
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import replace_section, revision  # noqa: E402
from users_1m import (  # noqa: E402
    ADMIN,
    PASSWORD,
    Site,
    admin_client,
    import_accounts,
    write_ini,
)

HEADING = "Events at a million"
GOAL_MS = 100.0
SEED = 20261130
LOGINS = 50_000
IPV4_NETWORKS = 4_500
IPV6_NETWORKS = 500
JSON = {"Accept": "application/json"}

BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/130.0.6723.107 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 "
    "Firefox/133.0",
    "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 "
    "(KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Safari/537.36 Brave/131",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Safari/537.36",
)
SCRIPTS = (
    "curl/8.5.0",
    "curl/7.81.0",
    "python-requests/2.32.3",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
)

# (kind, outcome, weight, detail): a week of an ordinary service; weights
# are relative.
SIGN_IN_FAILED = "sign-in failed"
MIX: tuple[tuple[str, str, float], ...] = (
    ("sign-in", "success", 30),
    (SIGN_IN_FAILED, "failure", 14),
    ("sign-out", "success", 8),
    ("code-sent", "success", 12),
    ("code-verified", "success", 10),
    ("code-failed", "failure", 2.5),
    ("code-expired", "failure", 1),
    ("registration", "success", 7),
    ("registration", "failure", 0.5),
    ("email-confirmed", "success", 6),
    ("lockout", "failure", 1),
    ("not-me", "success", 0.2),
    ("admin-disable", "success", 0.05),
    ("admin-enable", "success", 0.03),
    ("admin-roles", "success", 0.02),
    ("admin-force-reset", "success", 0.05),
    ("admin-end-sessions", "success", 0.05),
    ("admin-resend-confirmation", "success", 0.05),
)
PURPOSES = ("sign-in", "confirm-email", "reset-password", "change-email")
PURPOSE_WEIGHTS = (60, 25, 12, 3)
REASONS = ("password", "unknown", "locked", "disabled", "must reset")
REASON_WEIGHTS = (70, 20, 7, 2, 1)


def hour_weights() -> list[float]:
    """Events per hour of the week (UTC): quiet at night, busiest in the
    afternoon, weekends at 60%."""
    day = [
        0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 1.0, 1.2, 1.3, 1.35,
        1.3, 1.35, 1.4, 1.4, 1.3, 1.2, 1.1, 1.0, 0.9, 0.7, 0.45, 0.25,
    ]  # fmt: skip
    return [day[h % 24] * (0.6 if h >= 5 * 24 else 1.0) for h in range(168)]


def zipf_cumulative(n: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1 / (rank + 1) ** exponent for rank in range(n)))


@dataclass
class Population:
    """Who sends the events: logins, networks and agents, each with how
    often it appears (a few of each are busy, most are seldom seen)."""

    rng: random.Random
    logins: list[str] = field(default_factory=list)
    networks: list[Callable[[random.Random], str]] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = self.rng
        # Accounts are user0000000 up; shuffled, so they are neither the
        # busiest logins nor the quietest.
        self.logins = [f"user{i:07d}" for i in range(LOGINS)]
        rng.shuffle(self.logins)
        self.login_weights = zipf_cumulative(LOGINS, 0.7)
        firsts = [n for n in range(11, 224) if n not in (100, 127, 172)]
        seen: dict[tuple[int, int, int], None] = {}
        while len(seen) < IPV4_NETWORKS:
            seen[rng.choice(firsts), rng.randrange(256), rng.randrange(256)] = None
        for a, b, c in seen:
            self.networks.append(
                lambda r, p=f"{a}.{b}.{c}": f"{p}.{r.randrange(1, 255)}"
            )
        for i in range(IPV6_NETWORKS):
            # 2001:db8::/32 is documentation space: /48s under it differ in
            # their third group.
            self.networks.append(
                lambda r, p=f"2001:db8:{i + 1:x}": (
                    f"{p}:{r.randrange(65536):x}::{r.randrange(1, 65536):x}"
                )
            )
        rng.shuffle(self.networks)
        self.network_weights = zipf_cumulative(len(self.networks), 0.9)
        self.agents = [*BROWSERS, *SCRIPTS]
        self.agent_weights = list(
            itertools.accumulate(
                [*(1 / (i + 1) ** 0.6 for i in range(len(BROWSERS))), *[0.05] * 6]
            )
        )

    def batch(self, count: int) -> Iterator[tuple[str | None, str, str, Any]]:
        """``count`` events: (login, ip, agent, kind spec)."""
        rng = self.rng
        logins = rng.choices(self.logins, cum_weights=self.login_weights, k=count)
        networks = rng.choices(self.networks, cum_weights=self.network_weights, k=count)
        agents = rng.choices(self.agents, cum_weights=self.agent_weights, k=count)
        kinds = rng.choices(MIX, weights=[w for _, _, w in MIX], k=count)
        for login, network, agent, kind in zip(
            logins, networks, agents, kinds, strict=True
        ):
            yield login, network(rng), agent, kind


def event_fields(
    rng: random.Random, login: str, agent: str, spec: tuple[str, str, float]
) -> tuple[str, str, str | None, str | None, dict[str, Any], str]:
    """(kind, outcome, login, actor, detail, agent) as the app's services
    record them for ``spec``."""
    kind, outcome, _ = spec
    actor = None
    detail: dict[str, Any] = {}
    if kind == SIGN_IN_FAILED:
        kind = "sign-in"
        (reason,) = rng.choices(REASONS, REASON_WEIGHTS)
        detail = {"reason": reason}
        if reason == "unknown":
            login = None  # type: ignore[assignment]
        if rng.random() < 0.3:
            # Password guessing is mostly scripted.
            agent = rng.choice(SCRIPTS)
    elif kind == "sign-in":
        detail = {"device": "new" if rng.random() < 0.15 else "returning"}
    elif kind.startswith("code-"):
        (purpose,) = rng.choices(PURPOSES, PURPOSE_WEIGHTS)
        detail = {"purpose": purpose}
        if outcome == "failure":
            detail["reason"] = kind.removeprefix("code-")
    elif kind == "registration" and outcome == "failure":
        login = None  # type: ignore[assignment]
        detail = {"reason": "email already registered"}
    elif kind == "not-me":
        detail = {"sessions_ended": rng.randrange(1, 4)}
    elif kind.startswith("admin-"):
        actor = ADMIN
        detail = {"reason": "benchmark"}
    return kind, outcome, login, actor, detail, agent


def week_times(rng: random.Random, start: datetime, count: int) -> list[datetime]:
    """``count`` moments in the week from ``start``, in order, following
    the hours' weights."""
    hours = rng.choices(range(168), weights=hour_weights(), k=count)
    offsets = sorted(h * 3_600_000_000 + rng.randrange(3_600_000_000) for h in hours)
    return [start + timedelta(microseconds=us) for us in offsets]


@dataclass
class Recorded:
    events: int
    seconds: float
    commit_seconds: float
    kinds: Counter


def record_events(site: Site, week: str, count: int, batch: int) -> Recorded:
    """Record ``count`` events in ``week`` as the app does, ``batch`` to a
    transaction."""
    from wingapp.audit import Entry
    from wingapp.events import EntryRecorded
    from wingapp.interfaces import IKeyring
    from wingapp.reports.weeks import start_of

    rng = random.Random(SEED)
    people = Population(rng)
    times = week_times(rng, start_of(week), count)
    keyring = site.service(IKeyring)
    request = site.request
    environ = request.environ
    environ.pop("HTTP_X_FORWARDED_FOR", None)
    notify = site.app.registry.notify
    tm = site.tm
    kinds: Counter = Counter()
    commit_s = 0.0
    started = time.perf_counter()
    done = 0
    while done < count:
        size = min(batch, count - done)
        batch_started = time.perf_counter()
        tm.begin()
        log = site.root.audit
        for when, (login, ip, agent, spec) in zip(
            times[done : done + size], people.batch(size), strict=True
        ):
            kind, outcome, login, actor, detail, agent = event_fields(
                rng, login, agent, spec
            )
            kinds[kind, outcome] += 1
            entry = Entry(
                time=when,
                kind=kind,
                outcome=outcome,
                login=login,
                actor=actor,
                ip_token=keyring.encrypt(ip),
                ua_token=keyring.encrypt(agent),
                detail=detail,
            )
            key = log.append(entry)
            # What the subscribers read of the request that recorded it.
            environ["REMOTE_ADDR"] = ip
            environ["HTTP_USER_AGENT"] = agent
            notify(EntryRecorded(entry, key, request))
        committing = time.perf_counter()
        tm.get().note(f"bench: {size} events")
        tm.commit()
        site.conn.cacheGC()
        now = time.perf_counter()
        commit_s += now - committing
        done += size
        elapsed = now - started
        print(
            f"  {done:>9,} events  batch {now - batch_started:5.2f} s "
            f"(commit {now - committing:4.2f} s)  {done / elapsed:7,.0f}/s overall  "
            f"{elapsed / 60:5.1f} min",
            flush=True,
        )
    return Recorded(count, time.perf_counter() - started, commit_s, kinds)


@dataclass
class Timing:
    first_ms: float
    median_ms: float
    p95_ms: float
    runs: int
    size: int


def timed(work: Callable[[], Any], runs: int) -> Timing:
    """The first call alone, then ``runs`` more: median and 95th percentile."""
    started = time.perf_counter()
    answer = work()
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = work()
        times.append((time.perf_counter() - started) * 1000)
    p95 = (
        statistics.quantiles(times, n=20, method="inclusive")[-1]
        if runs > 1
        else times[0]
    )
    return Timing(first, statistics.median(times), p95, runs, len(answer.body))


def profile_top(work: Callable[[], Any], runs: int = 5, lines: int = 25) -> str:
    """Where ``runs`` calls of ``work`` spend their time, by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        work()
    profiler.disable()
    out = Path(tempfile.mkstemp(suffix=".txt")[1])
    with out.open("w") as stream:
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(
            lines
        )
    text = out.read_text()
    out.unlink()
    return text


@dataclass
class Served:
    html: Timing
    json: Timing
    pdf: Timing
    data: dict


def serve(client: Any, week: str, runs: int, pdf_runs: int, live: bool) -> Served:
    path = f"/reports/{week}"
    data = client.get(path, headers=JSON).json
    if data["live"] != live:
        raise SystemExit(f"{path} is {'live' if data['live'] else 'not live'}")
    html = timed(lambda: client.get(path), runs)
    as_json = timed(lambda: client.get(path, headers=JSON), runs)
    pdf = timed(lambda: client.get(f"{path}/report.pdf"), pdf_runs)
    state = "live" if live else "frozen"
    print(f"  {state} page {html}\n  {state} JSON {as_json}\n  {state} PDF {pdf}")
    if html.median_ms >= GOAL_MS or as_json.median_ms >= GOAL_MS:
        print(f"  {state} page over {GOAL_MS:.0f} ms; profile:")
        print(profile_top(lambda: client.get(path)))
    return Served(html, as_json, pdf, data)


def freeze(site: Site, week: str) -> None:
    """Freeze the week as the app does once it has ended."""
    from wingapp.interfaces import IClock

    site.tm.begin()
    site.root["reports"][week].freeze(site.service(IClock)())
    site.tm.get().note(f"bench: freeze {week}")
    site.tm.commit()


def check(data: dict, recorded: Recorded) -> None:
    """The page counted every event recorded (and a few the setup made)."""
    counted = sum(map(sum, data["hours"]))
    sign_ins = next(r["value"] for r in data["summary"] if r["key"] == "sign_ins")
    assert counted >= recorded.events, (counted, recorded.events)
    assert sign_ins >= recorded.kinds["sign-in", "success"], sign_ins


def mib(path: Path) -> float:
    return path.stat().st_size / 2**20


def row(label: str, t: Timing) -> str:
    # A 95th percentile of a handful of runs would only be their slowest.
    p95 = f"{t.p95_ms:,.1f}" if t.runs >= 10 else "–"
    return (
        f"| {label} | {t.median_ms:,.1f} | {p95} | {t.first_ms:,.1f} "
        f"| {t.runs} | {t.size:,} |"
    )


def report(
    args: Any,
    week: str,
    recorded: Recorded,
    sizes: dict[str, float],
    live: Served,
    frozen: Served,
) -> list[str]:
    worst = max(live.html.median_ms, frozen.html.median_ms)
    worst_p95 = max(live.html.p95_ms, frozen.html.p95_ms)
    verdict = "met" if worst < GOAL_MS else "NOT MET"
    rate = recorded.events / recorded.seconds
    counted = sum(map(sum, live.data["hours"]))
    networks = len(live.data["networks"]["failures"])
    kinds = ", ".join(
        f"{kind} {outcome} {n / recorded.events:.2%}"
        for (kind, outcome), n in recorded.kinds.most_common()
    )
    return [
        "Written by `python bench/events_1m.py` "
        f"(`--events {args.events} --batch {args.batch} --accounts {args.accounts} "
        f"--runs {args.runs}`). Run {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} "
        f"at {revision()}; "
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}.",
        "",
        f"{recorded.events:,} events in week {week} (the current week by the "
        "app's clock, so its report is live), in transactions of "
        f"{args.batch:,}, each recorded as `wingapp.audit.record` records one: "
        "an `Entry` with its address and user agent encrypted, appended to the "
        "event log, its `EntryRecorded` sent to the app's subscribers (the "
        "week's report counts it, the account's history files it). "
        f"{args.accounts:,} of the ~{LOGINS:,} logins are accounts; "
        f"{IPV4_NETWORKS + IPV6_NETWORKS:,} source networks "
        f"({IPV4_NETWORKS:,} IPv4 /24, {IPV6_NETWORKS} IPv6 /48), "
        f"{len(BROWSERS) + len(SCRIPTS)} user agents ({len(SCRIPTS)} scripts); "
        "times over the week's 168 hours with a daily rhythm, weekends at 60%. "
        f"Mix: {kinds}.",
        "",
        f"Recording: {recorded.seconds / 60:.1f} min, {rate:,.0f} events/s "
        f"({recorded.commit_seconds / recorded.seconds:.0%} of it in commits). "
        f"Data.fs as written {sizes['written']:,.0f} MiB, after `db.pack()` "
        f"{sizes['packed']:,.0f} MiB (pack {sizes['pack_s']:.0f} s); "
        f"{sizes['packed'] * 2**20 / recorded.events:,.0f} bytes an event "
        "after packing.",
        "",
        "The report at `/reports/"
        f"{week}` through the whole app (WebTest, an admin signed in; session, "
        "security, rendering included): the first request apart (for the page, "
        "the first to compile its template), then "
        f"{args.runs} runs (the PDF {args.pdf_runs}). The live week adds up its "
        f"counters at every request ({counted:,} events counted, top "
        f"{networks} networks of each column read from their encrypted "
        "addresses); the frozen one reads the figures stored when it was "
        f"frozen. Goal: the page under {GOAL_MS:.0f} ms; slowest median here "
        f"{worst:.1f} ms, p95 {worst_p95:.1f} ms ({verdict}).",
        "",
        "| request | median ms | p95 ms | first ms | runs | bytes |",
        "|---|---:|---:|---:|---:|---:|",
        row("live page (HTML)", live.html),
        row("live JSON", live.json),
        row("live PDF", live.pdf),
        row("frozen page (HTML)", frozen.html),
        row("frozen JSON", frozen.json),
        row("frozen PDF", frozen.pdf),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pdf-runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=HERE.parent / "BENCHMARKS.md")
    parser.add_argument(
        "--work", type=Path, help="build here and keep it (default: a temporary one)"
    )
    args = parser.parse_args()
    from wingapp.interfaces import IClock
    from wingapp.reports.weeks import week_of
    from wingapp.users.passwords import PasswordHasher

    keep = args.work
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    holder = (
        contextlib.nullcontext(str(keep))
        if keep
        else tempfile.TemporaryDirectory(prefix="wingapp-events-")
    )
    with holder as name:
        work = Path(name).resolve()
        site = Site(write_ini(work))
        week = week_of(site.service(IClock)())
        print(f"{args.accounts:,} accounts in {work}", flush=True)
        shared = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(
            PASSWORD
        )
        if args.accounts:
            import_accounts(site, args.accounts, shared)
        print(f"recording {args.events:,} events in {week}", flush=True)
        recorded = record_events(site, week, args.events, args.batch)
        data_fs = work / "Data.fs"
        sizes = {"written": mib(data_fs)}
        started = time.perf_counter()
        site.db.pack()
        sizes["pack_s"] = time.perf_counter() - started
        sizes["packed"] = mib(data_fs)
        print(f"  Data.fs {sizes}", flush=True)
        client = admin_client(site)
        live = serve(client, week, args.runs, args.pdf_runs, live=True)
        check(live.data, recorded)
        freeze(site, week)
        frozen = serve(client, week, args.runs, args.pdf_runs, live=False)
        check(frozen.data, recorded)
        site.close()
    lines = report(args, week, recorded, sizes, live, frozen)
    print("\n".join(lines))
    replace_section(args.output, HEADING, lines)


if __name__ == "__main__":
    main()
