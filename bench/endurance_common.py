"""What the endurance scripts share: clients that note the time and status
of every request, pserve started and killed, the app's log read for
errors, and the lines of a BENCHMARKS.md section that say when, where and
how a figure was made.

The endurance scripts (bench/endurance_*.py) reuse the crowd's site
(bench/concurrency.py: production.ini, mail to a maildir, plain-HTTP
cookies, OWASP's minimum argon2id) and the integration tests' servers.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from concurrency import PASSWORD, WALKER, error_records  # noqa: E402
from concurrency import make_site as make_crowd_site  # noqa: E402
from report import revision  # noqa: E402
from tests.integration import servers  # noqa: E402


@dataclass(frozen=True)
class Answer:
    """One request as the client saw it; status 0: no answer (refused,
    reset, timed out)."""

    started: float
    ended: float
    status: int
    what: str


@dataclass
class Log:
    """Every answer from every client thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: list[Answer] = field(default_factory=list)

    def add(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def statuses(self, keep: Callable[[Answer], bool] = lambda a: True) -> Counter:
        with self.lock:
            return Counter(a.status for a in self.answers if keep(a))


class TimedClient(servers.Client):
    """servers.Client that logs each answer with its time."""

    def __init__(self, base: str, log: Log) -> None:
        super().__init__(base)
        self.log = log

    def request(
        self, method: str, url: str, data: dict[str, str] | None = None
    ) -> servers.Response:
        started = time.monotonic()
        what = f"{method} {url.removeprefix(self.base)}"
        try:
            response = super().request(method, url, data)
        except OSError:
            self.log.add(Answer(started, time.monotonic(), 0, what))
            raise
        if response.status == 503:
            # Two different 503s: a conflict that outlasted its retries
            # (wingapp.views.errors.too_busy) or the database away.
            busy = "Server busy" in response.text
            what += " (busy)" if busy else " (unavailable)"
        self.log.add(Answer(started, time.monotonic(), response.status, what))
        return response


def busy(answer: Answer) -> bool:
    """A 503 for a conflict that outlasted its retries, not for an outage."""
    return answer.status == 503 and answer.what.endswith("(busy)")


def failed(answer: Answer) -> bool:
    """Not what a working site answers: no answer at all, or 5xx."""
    return answer.status == 0 or answer.status >= 500


# --- What the clients do -----------------------------------------------------


def register(client: TimedClient, login: str) -> bool:
    """Register ``login``; True when the server said it was done (303 to
    the confirmation page)."""
    action, fields = client.form("/register", "register-form")
    answer = client.post(
        action,
        {
            **fields,
            "login": login,
            "email": f"{login}@example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    return answer.status == 303


def browse(client: TimedClient) -> None:
    """What an anonymous visitor reads: the home page and the sign-in form."""
    client.get("/")
    client.get("/login")


def sign_in_and_out(client: TimedClient, login: str) -> None:
    """Sign in (two-step off in these sites), read the account page, sign
    out: a session written and ended."""
    answer = client.sign_in(login, PASSWORD)
    if answer.status != 303 or not answer.location:
        return
    page = client.get(answer.location)
    if page.status == 200:
        action, fields = client.form(answer.location, "signout-form")
        client.post(action, fields)


def keep_going(work: Callable[[int], object], stop: threading.Event) -> None:
    """Run ``work(n)`` for n = 0, 1, ... until told to stop; a request that
    fails (an error page where a form was due, no answer) is in the log
    already, so the client simply goes on, after a short pause so that a
    server that is down is not hammered."""
    n = 0
    while not stop.is_set():
        try:
            work(n)
        except Exception:
            time.sleep(0.05)
        n += 1


def add_mix_arguments(parser: argparse.ArgumentParser) -> None:
    """How many clients of each kind a mixed crowd (:func:`mixed_works`) has."""
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--signers", type=int, default=4)
    parser.add_argument("--registrants", type=int, default=4)


def mixed_works(base: str, log: Log, args: argparse.Namespace) -> list[Callable]:
    """Readers of the home page and sign-in form, people signing in and out
    of their own accounts (``make_site(signers=...)`` made them), and
    registrants of new accounts: the crowd the endurance runs serve."""
    works = [lambda n: browse(TimedClient(base, log))] * args.readers
    works += [
        lambda n, c=c: sign_in_and_out(TimedClient(base, log), signer(c))
        for c in range(args.signers)
    ]
    works += [
        lambda n, c=c: register(TimedClient(base, log), f"r{c}n{n}")
        for c in range(args.registrants)
    ]
    return works


@contextmanager
def crowd(works: list[Callable[[int], object]]) -> Iterator[threading.Event]:
    """One thread per work, from the block's start until its end."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=keep_going, args=(w, stop), daemon=True) for w in works
    ]
    for thread in threads:
        thread.start()
    try:
        yield stop
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)


# --- Servers and logs ---------------------------------------------------------


def make_site(site: Path, zodb_uri: str, signers: int = 0, **settings: str) -> Path:
    """production.ini in ``site`` as the crowd has it (bench/concurrency.py),
    with sign-in in one step, an admin, the account ``walker`` and one
    account for each of ``signers`` clients (``walker0``, ...): people
    signing in and out of their own accounts, which do not contend."""
    logins = (WALKER, *(signer(n) for n in range(signers)))
    return make_crowd_site(
        site, zodb_uri, logins, **{"auth.two_step": "never", **settings}
    )


def signer(n: int) -> str:
    return f"{WALKER}{n}"


def start_pserve(ini: Path, port: int, output: Path) -> subprocess.Popen:
    with output.open("a") as out:
        process = subprocess.Popen(
            [servers.BIN / "pserve", ini, f"http_listen=127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    servers.wait_for_http(f"http://127.0.0.1:{port}/login", 120, process)
    return process


def app_errors(log: Path) -> Counter[str]:
    """Records at ERROR or worse in the app's log (production.ini's
    var/log/wingapp.log), by cause."""
    return error_records(log)


ANSWERED_503 = re.compile(r"\b(\w+) on (?:GET|POST) \S+ (outlasted|in each of)")


def causes_of_503(log: Path) -> Counter[str]:
    """What the app answered 503 for, by exception class: a conflict that
    outlasted its retries ("outlasted") or the database away ("in each of")."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return Counter(m.group(1) for m in ANSWERED_503.finditer(text))


def rss_mib(pid: int) -> float:
    """The resident memory of a process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


# --- The section's header ----------------------------------------------------


def machine() -> str:
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kib = int(meminfo.read_text().split()[1])
        memory = f", {total_kib / 2**20:.0f} GiB RAM"
    # The machine is shared: how busy it was says how to read the figures.
    load = os.getloadavg()[0]
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{memory}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"load average {load:.1f} as the run ended"
    )


def header(script: str, argv: list[str]) -> list[str]:
    command = shlex.join([".venv/bin/python", f"bench/{script}", *argv])
    return [
        f"Written by `{command}`. Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at "
        f"{revision()}; {machine()}; clients on the same machine.",
        "",
    ]
