"""wingapp's pages against two yardsticks, measured with wrk.

The yardsticks: a bare Pyramid app answering one short HTML page
(bench/hello_app.py), and a toy page on exactly wingapp's stack
(bench/toy_app.py: pyramid_tm, pyramid_zodbconn, traversal to a persistent
object, one small Chameleon template). Whatever wingapp costs beyond the
toy page is wingapp's own code.

Two stacks, one after the other, each with its own servers of the same
shape:

- waitress, 4 threads, one process per app, on a FileStorage;
- mod_wsgi-express, 2 daemon processes of 4 threads (as www-data, from a
  virtualenv of the system Python), on RelStorage in a throwaway
  PostgreSQL database per app.

The cases run interleaved: each round runs wrk once on every case (hello,
toy, then each of our pages), and a figure is the median over the rounds.
A ratio is taken within a round (case / hello of that round) and its
median reported, so a neighbour that loads the machine for a while moves
both sides of a ratio alike. Signed-in pages are asked with the cookie of
a real sign-in through the form. Figures go to BENCHMARKS.md.

The waitress stack has one more case, the signed-in page's floor: the
toy's app serving that page's templates, replayed by bench/budget.py with
the values a real request gave them. After the rounds, budget.py's
in-process split of the page goes under the waitress table.

    .venv/bin/python bench/run.py [--rounds 5] [--seconds 5] [--only waitress|modwsgi]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# mod_wsgi's virtualenv, Apache and PostgreSQL: the integration tests'
# helpers, as bench/concurrency.py uses them.
sys.path.insert(0, str(ROOT))

import budget  # noqa: E402
import toy_app  # noqa: E402
from budget import PAGE, PASSWORD, USER  # noqa: E402
from report import replace_section, revision  # noqa: E402
from tests.integration import servers  # noqa: E402
from tests.integration.postgres import fresh_database, uri  # noqa: E402

BIN = Path(sys.executable).parent
SECTION = "Pages against a bare Pyramid app"
# As production.ini has it.
RELSTORAGE = {
    "keep_history": "true",
    "cache_local_mb": "64",
    "connection_cache_size": "20000",
}

# waitress warns on stderr whenever requests queue for a thread, which
# under wrk is all the time: its warnings are silenced in every server.
QUIET = "import logging; logging.getLogger('waitress').setLevel(logging.ERROR)"

SERVE_WINGAPP = f"""
{QUIET}
import sys
from pyramid.paster import get_app
from waitress import serve
serve(get_app(sys.argv[1]), listen=sys.argv[2], threads=4, _quiet=True)
"""

SERVE_HELLO = f"""
{QUIET}
import sys
sys.path.insert(0, sys.argv[1])
from hello_app import make_app
from waitress import serve
serve(make_app(), listen=sys.argv[2], threads=4, _quiet=True)
"""

SERVE_TOY = f"""
{QUIET}
import sys
sys.path.insert(0, sys.argv[1])
from toy_app import make_app
from waitress import serve
serve(make_app(sys.argv[3]), listen=sys.argv[2], threads=4, _quiet=True)
"""

# The toy, with wingapp's signed-in page templates in place of its own,
# replayed with the values a real request gave them (bench/budget.py).
SERVE_FLOOR = f"""
{QUIET}
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from budget import replayed_page
from toy_app import make_app
from waitress import serve
render = replayed_page(Path(sys.argv[4]))
serve(make_app(sys.argv[3], render), listen=sys.argv[2], threads=4, _quiet=True)
"""

# mod_wsgi imports the script once a daemon process, before its first
# request: the app (and its database) is made once a process.
WSGI_SCRIPT = """
import sys
sys.path.insert(0, {directory!r})
from {module} import make_app
application = make_app({args})
"""


@dataclass(frozen=True)
class Case:
    label: str
    server: str
    path: str
    status: int
    marker: str
    """Text the page must hold, checked before the load starts."""
    signed_in: str | None = None
    """Whose cookie the requests carry: "user", "admin" or nobody."""


CASES = [
    Case("bare Pyramid hello", "hello", "/", 200, "<h1>hello</h1>"),
    Case("toy page on our stack", "toy", "/page/", 200, "<h1>A page</h1>"),
    Case("sign-in page", "wingapp", "/login", 200, 'id="login-form"'),
    Case("home page", "wingapp", "/", 200, '<a class="brand"'),
    Case("404 page", "wingapp", "/no-such-page", 404, '<a class="brand"'),
    Case(
        "a user's own page, signed in",
        "wingapp",
        PAGE,
        200,
        f"<h1>{USER}</h1>",
        "user",
    ),
    Case("admin: the users listing", "wingapp", "/users/", 200, USER, "admin"),
    Case(
        "its floor: the toy serving the user page's templates",
        "floor",
        "/page/",
        200,
        f"<h1>{USER}</h1>",
    ),
]
BASELINE, TOY = CASES[0], CASES[1]
GOALS = (0.5, 0.9)
"""The signed-in user page against hello and against the toy page."""


@dataclass
class Run:
    """One wrk run's figures."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    socket_errors: int


@dataclass
class Stack:
    name: str
    storage: str
    bases: dict[str, str]
    """The base URL of each server: hello, toy, wingapp."""
    cookies: dict[str, str] = field(default_factory=dict)
    runs: dict[str, list[Run]] = field(default_factory=dict)
    ratios: dict[str, list[float]] = field(default_factory=dict)
    toy_ratios: dict[str, list[float]] = field(default_factory=dict)


# --- wrk -----------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def duration_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def wrk(url: str, cookie: str | None, args: argparse.Namespace) -> tuple[Run, int]:
    """wrk's figures for ``url``, and how many answers were not 2xx/3xx."""
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.seconds}s",
        "--latency",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))
    if len(latency) != 2:
        raise RuntimeError(f"wrk said what this script cannot read:\n{output}")
    # Apache closes a keep-alive connection after so many requests, which
    # wrk counts as a read error: counted and reported, not fatal.
    errors = re.search(r"Socket errors: (.*)", output)
    broken = sum(int(n) for n in re.findall(r"\d+", errors.group(1))) if errors else 0
    others = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Run(
        rps, duration_ms(latency["50"]), duration_ms(latency["99"]), requests, broken
    ), int(others.group(1)) if others else 0


def check(stack: Stack, case: Case) -> None:
    """One request: the page answers as a browser would see it."""
    parts = urllib.parse.urlsplit(stack.bases[case.server])
    conn = http.client.HTTPConnection(parts.netloc, timeout=30)
    headers = {}
    if case.signed_in:
        headers["Cookie"] = stack.cookies[case.signed_in]
    conn.request("GET", case.path, headers=headers)
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    if response.status != case.status or case.marker not in body:
        raise RuntimeError(
            f"{stack.name}: GET {case.path} answered {response.status} "
            f"without {case.marker!r}:\n{body[:2000]}"
        )


def measure(stack: Stack, case: Case, args: argparse.Namespace) -> Run:
    url = stack.bases[case.server] + case.path
    cookie = stack.cookies.get(case.signed_in) if case.signed_in else None
    run, others = wrk(url, cookie, args)
    # Every answer of a 2xx page must be that page: no 4xx/5xx slipped in.
    if case.status < 300 and others:
        raise RuntimeError(f"{stack.name}: {case.path}: {others} answers not 2xx")
    check(stack, case)
    return run


def cases(stack: Stack) -> list[Case]:
    """The cases this stack has servers for (the floor is waitress's)."""
    return [c for c in CASES if c.server in stack.bases]


def rounds(stack: Stack, args: argparse.Namespace) -> None:
    for case in cases(stack):
        check(stack, case)
    # Warm every server (templates compiled, caches full, connections made).
    warm = argparse.Namespace(**{**vars(args), "seconds": 2})
    for case in cases(stack):
        measure(stack, case, warm)
    for number in range(1, args.rounds + 1):
        this_round: dict[str, Run] = {}
        for case in cases(stack):
            this_round[case.label] = run = measure(stack, case, args)
            stack.runs.setdefault(case.label, []).append(run)
        hello = this_round[BASELINE.label].rps
        toy = this_round[TOY.label].rps
        for case in cases(stack):
            rps = this_round[case.label].rps
            stack.ratios.setdefault(case.label, []).append(rps / hello)
            stack.toy_ratios.setdefault(case.label, []).append(rps / toy)
        print(
            f"{stack.name}, round {number}: "
            + ", ".join(
                f"{c.label} {this_round[c.label].rps:.0f}/s "
                f"({this_round[c.label].rps / hello:.2f}x)"
                for c in cases(stack)
            ),
            flush=True,
        )


# --- Sites and sign-ins --------------------------------------------------


def site_settings(directory: Path, zodb_uri: str) -> dict[str, str]:
    return {
        "zodbconn.uri": zodb_uri,
        "wingapp.public_url": "http://127.0.0.1",
        "wingapp.allowed_hosts": "127.0.0.1",
        "session.secure_cookie": "false",
        # Each signed-in page is asked with one cookie, from this machine.
        "auth.two_step": "never",
        "mail.transport": "maildir",
        "mail.maildir": f"{directory}/var/mail",
        "mail.default_sender": "wingapp <wingapp@example.org>",
    }


def make_site(directory: Path, zodb_uri: str) -> tuple[Path, str]:
    """production.ini in ``directory`` with a database, an admin (whose
    password it returns) and the user ``bench``; secrets, mail and log
    under ``directory/var``."""
    (directory / "var" / "log").mkdir(parents=True)
    ini = servers.production_ini(directory, **site_settings(directory, zodb_uri))
    wingapp = BIN / "wingapp"
    made = servers.run([wingapp, ini, "init"])
    admin_password = servers.admin_password(made.stdout)
    servers.run(
        [wingapp, ini, "add-user", USER, "--email", f"{USER}@example.org"],
        input=PASSWORD + "\n",
    )
    return ini, admin_password


def signed_in_cookie(base: str, login: str, password: str) -> str:
    """Sign in through the real form; the Cookie header a browser would
    send afterwards."""
    client = servers.Client(base)
    response = client.sign_in(login, password)
    if response.status != 303:
        raise RuntimeError(f"sign-in of {login} answered {response.status}")
    # Follow the redirect, as a browser does: the first page after signing
    # in gives the session its CSRF token, and the cookie the browser keeps
    # from then on carries it (without, every page would make a new one).
    client.get(response.location)
    return "; ".join(f"{k}={v}" for k, v in client.jar.items())


# --- waitress on FileStorage ------------------------------------------------


@contextlib.contextmanager
def waitress_stack(work: Path) -> Iterator[Stack]:
    site = work / "waitress"
    site.mkdir()
    cache = "?connection_cache_size=20000"  # as development.ini has it
    ini, admin_password = make_site(site, f"file://{site}/var/Data.fs{cache}")
    toy_uri = f"file://{site}/toy.fs{cache}"
    floor = site / "floor"  # the floor's own site, whose page it replays
    floor.mkdir()
    scripts = {
        "hello": (SERVE_HELLO, []),
        "toy": (SERVE_TOY, [toy_uri]),
        "floor": (SERVE_FLOOR, [f"file://{site}/floor.fs{cache}", str(floor)]),
        "wingapp": (SERVE_WINGAPP, []),
    }
    with contextlib.ExitStack() as stack:
        bases = {}
        for name, (script, extra) in scripts.items():
            port = servers.free_port()
            first = str(ini) if name == "wingapp" else str(HERE)
            process = subprocess.Popen(
                [sys.executable, "-c", script, first, f"127.0.0.1:{port}", *extra]
            )
            stack.callback(servers.stop, process)
            bases[name] = f"http://127.0.0.1:{port}"
            servers.wait_for_http(bases[name] + "/", process=process, timeout=60)
        result = Stack("waitress (4 threads)", "FileStorage", bases)
        sign_in_both(result, admin_password)
        yield result


def sign_in_both(stack: Stack, admin_password: str) -> None:
    base = stack.bases["wingapp"]
    stack.cookies["user"] = signed_in_cookie(base, USER, PASSWORD)
    stack.cookies["admin"] = signed_in_cookie(base, "admin", admin_password)


# --- mod_wsgi-express on RelStorage -----------------------------------------


KEEP_ALIVE = ("--keep-alive-timeout", "5", "--max-clients", "64")
"""Keep-alive, as browsers and wrk use it; client slots for every wrk
connection, so none waits on Apache."""


def express_options(port: int, root: Path, *options: object) -> list[str]:
    """What every yardstick's mod_wsgi-express shares: two daemon
    processes of four threads, as www-data, and :data:`KEEP_ALIVE`."""
    return [
        str(option)
        for option in (
            *("--processes", "2", "--threads", "4"),
            *("--host", "127.0.0.1", "--port", port),
            *("--user", servers.DAEMON_USER, "--group", servers.DAEMON_USER),
            *("--locale", "C.UTF-8", "--server-root", root),
            *KEEP_ALIVE,
            *options,
        )
    ]


@contextlib.contextmanager
def express_script(venv: Path, directory: Path, script: Path) -> Iterator[str]:
    port = servers.free_port()
    server = servers.Express(directory / f"httpd-{port}", port)
    servers.run(
        [
            venv / "bin" / "mod_wsgi-express",
            "setup-server",
            script,
            *express_options(port, server.root, "--working-directory", directory),
        ]
    )
    server.apachectl("start")
    try:
        servers.wait_for_http(server.base + "/", timeout=60)
        yield server.base
    finally:
        servers.stop_apache(
            server.root / "httpd.pid", [server.root / "apachectl", "stop"]
        )


@contextlib.contextmanager
def express_wingapp(venv: Path, ini: Path, app: Path) -> Iterator[str]:
    """wingapp as deployed: the shipped WSGI script, the ini in Apache's
    environment, each daemon loading the app as it starts (the tests'
    servers.start_express), with the yardsticks' :data:`KEEP_ALIVE`."""
    serve = contextlib.contextmanager(servers.start_express)
    with serve(venv, ini, app, *KEEP_ALIVE) as server:
        yield server.base


def close(app) -> None:
    for db in app.registry._zodb_databases.values():
        db.close()


def wsgi_script(directory: Path, module: str, *args: str) -> Path:
    path = directory / f"{module}.wsgi"
    path.write_text(
        WSGI_SCRIPT.format(
            directory=str(directory),
            module=module,
            args=", ".join(repr(a) for a in args),
        )
    )
    return path


@contextlib.contextmanager
def modwsgi_stack(work: Path) -> Iterator[Stack]:
    # Apache's www-data must reach everything under here.
    servers.readable_by_daemon(work)
    root = work / "modwsgi"
    root.mkdir()
    servers.readable_by_daemon(root)
    source = servers.copy_source_tree(root / "source")
    venv = servers.modwsgi_venv(source)
    app = servers.install_app(venv, source, root / "app")
    yardsticks = root / "yardsticks"
    yardsticks.mkdir()
    servers.readable_by_daemon(yardsticks)
    for name in ("hello_app.py", "toy_app.py", "toy_page.pt"):
        shutil.copy(HERE / name, yardsticks / name)
    with (
        fresh_database("wingapp_bench") as database,
        fresh_database("wingapp_bench_toy") as toy_database,
        contextlib.ExitStack() as stack,
    ):
        site = root / "site"
        site.mkdir()
        servers.readable_by_daemon(site)
        ini, admin_password = make_site(site, uri(database, **RELSTORAGE))
        # The toy's tree is made here, once: two daemon processes making it
        # at their first start would conflict.
        close(toy_app.make_app(uri(toy_database, **RELSTORAGE)))
        servers.give_to_daemon(site / "var")
        bases = {
            "hello": stack.enter_context(
                express_script(venv, yardsticks, wsgi_script(yardsticks, "hello_app"))
            ),
            "toy": stack.enter_context(
                express_script(
                    venv,
                    yardsticks,
                    wsgi_script(yardsticks, "toy_app", uri(toy_database, **RELSTORAGE)),
                )
            ),
            "wingapp": stack.enter_context(express_wingapp(venv, ini, app)),
        }
        result = Stack(
            "mod_wsgi-express (2 processes x 4 threads)",
            "RelStorage (PostgreSQL)",
            bases,
        )
        sign_in_both(result, admin_password)
        yield result


# --- The report ---------------------------------------------------------------


def wrk_version() -> str:
    found = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return (found.stdout + found.stderr).split("[", 1)[0].strip()


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}"


def section(
    stacks: list[Stack],
    args: argparse.Namespace,
    command: str,
    after: dict[str, list[str]],
) -> list[str]:
    """The section's lines; ``after`` holds lines to follow a stack's table."""
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Written by `make bench` (`{command}`), run {started} at {revision()}.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python "
        f"{platform.python_version()} (waitress) and the system Python "
        "(mod_wsgi); the load generator on the same machine. The machine is "
        "shared (other people's test runs come and go), so the cases run "
        "interleaved and every figure is a median over the rounds; a ratio is "
        "taken within each round and its median given, with the range "
        "across rounds.",
        "",
        f"Load: {wrk_version()}, `wrk -t{args.threads} -c{args.connections} "
        f"-d{args.seconds}s` per case per round, {args.rounds} rounds after a "
        "2 s warm-up of every case. Signed-in pages carry the cookie of a "
        "sign-in through the form (`auth.two_step = never`).",
        "",
        "Yardsticks in each stack, served the same way as wingapp: a bare "
        "Pyramid app answering one short page (`bench/hello_app.py`), and a "
        "toy page on exactly our stack (`bench/toy_app.py`: pyramid_tm, "
        "pyramid_zodbconn, traversal to a persistent object, one small "
        "Chameleon template) on a storage like wingapp's. Goals for the "
        "signed-in user page: at least 0.5x hello, and 0.9x the toy page.",
    ]
    for stack in stacks:
        lines += [
            "",
            f"### {stack.name}, {stack.storage}",
            "",
            "| case | requests/s | vs. hello | range | vs. toy | p50 ms | p99 ms |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for case in cases(stack):
            runs = stack.runs[case.label]
            ratios = stack.ratios[case.label]
            lines.append(
                f"| {case.label} (`{case.path}`) "
                f"| {statistics.median(r.rps for r in runs):.0f} "
                f"| {statistics.median(ratios):.2f}x | {spread(ratios)} "
                f"| {statistics.median(stack.toy_ratios[case.label]):.2f}x "
                f"| {statistics.median(r.p50_ms for r in runs):.2f} "
                f"| {statistics.median(r.p99_ms for r in runs):.2f} |"
            )
        broken = sum(r.socket_errors for runs in stack.runs.values() for r in runs)
        measured = sum(r.requests for runs in stack.runs.values() for r in runs)
        if broken:
            lines += [
                "",
                f"wrk counted {broken} socket errors in {measured} requests "
                "(connections the server closed).",
            ]
        mine = next(c.label for c in CASES if c.signed_in == "user")
        hello = statistics.median(stack.ratios[mine])
        toy = statistics.median(stack.toy_ratios[mine])
        lines += [
            "",
            f"The signed-in user page: {hello:.2f}x hello (goal 0.5: "
            f"{'met' if hello >= GOALS[0] else 'not met'}), {toy:.2f}x the toy "
            f"page (goal 0.9: {'met' if toy >= GOALS[1] else 'not met'}).",
            *after.get(stack.name, []),
        ]
    return lines


FLOOR = CASES[-1]


def floor_lines(stack: Stack, found: budget.Budget) -> list[str]:
    """The in-process split of the signed-in page, and what its floor
    served under wrk in the rounds above."""
    lines = [
        "",
        "#### How far this page can go (`bench/budget.py`)",
        "",
        "The last case above is the page's floor: the toy's app, with the "
        "toy's template replaced by the signed-in page's templates, replayed "
        "with the very values a real request gave them (the view's, and "
        "every answer of the layout's helpers), byte for byte that page. It "
        "is what the page would serve if everything wingapp does besides "
        "rendering (session, sign-in, permissions, decrypting, the view, "
        "headers) cost nothing.",
        "",
        "In-process, the same Python minutes later, no server: CPU time per "
        f"request, median of {budget.RUNS} runs of {budget.REQUESTS:,}.",
        "",
        *found.lines(),
    ]
    if FLOOR.label in stack.toy_ratios:
        toy = statistics.median(stack.toy_ratios[FLOOR.label])
        hello = statistics.median(stack.ratios[FLOOR.label])
        lines += [
            "",
            f"**At its floor the page serves {toy:.2f}x the toy and "
            f"{hello:.2f}x hello under wrk**, against the goals of "
            f"{GOALS[1]}x and {GOALS[0]}x.",
        ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", choices=("waitress", "modwsgi"))
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument(
        "--no-budget", action="store_true", help="skip bench/budget.py's measure"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: wrk is missing (tools/system-packages.sh)", file=sys.stderr)
        return 1
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    makers = {"waitress": waitress_stack, "modwsgi": modwsgi_stack}
    stacks = []
    with tempfile.TemporaryDirectory(prefix="wingapp-bench-") as tmp:
        for name, maker in makers.items():
            if args.only not in (None, name):
                continue
            started = time.monotonic()
            with maker(Path(tmp)) as stack:
                rounds(stack, args)
            stacks.append(stack)
            print(f"{stack.name}: {time.monotonic() - started:.0f} s", flush=True)
    after: dict[str, list[str]] = {}
    for stack in stacks:
        # Under the waitress table only: the in-process measure runs in the
        # Python that waitress ran, on a FileStorage as it did.
        if stack.storage == "FileStorage" and not args.no_budget:
            found = budget.measure()
            print("\n".join(found.lines()), flush=True)
            after[stack.name] = floor_lines(stack, found)
    lines = section(stacks, args, command.strip(), after)
    replace_section(Path(args.output), SECTION, lines)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
