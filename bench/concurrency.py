"""Accounts under a crowd: registrations, sign-ins and wrong passwords at once.

Two real servers, one after the other, each from production.ini with a
maildir for mail and plain-HTTP cookies:

- ``pserve`` (waitress, 8 threads) on a FileStorage;
- ``mod_wsgi-express`` (2 daemon processes of 4 threads, as www-data) on
  RelStorage in a throwaway PostgreSQL database.

For ``--seconds`` per server, 16 clients register and confirm accounts
(GET /register, POST /register, the code read from the maildir, POST
/confirm-email), 4 send wrong passwords for ``admin``, and 4 sign in to
``walker`` and out again. Sign-in from a new device asks for a code, so
before the clock starts one client signs in with the mailed code; the four
then share that trusted device cookie, as four tabs of one browser would.

Every response is counted; afterwards the app's log (var/log/wingapp.log)
is searched for records at ERROR or worse. Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import email.utils
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The servers' helpers live with the integration tests.
sys.path.insert(0, str(ROOT))

from report import replace_section, revision  # noqa: E402
from tests.conftest import FAST_HASHING  # noqa: E402
from tests.integration import servers  # noqa: E402
from tests.integration.postgres import fresh_database, uri  # noqa: E402

PASSWORD = "violet harbour lantern seventeen"
WRONG_PASSWORD = "not the password at all, sorry"
WALKER = "walker"
TARGET = "admin"  # `wingapp init` creates it
CODE_LINE = re.compile(r"^Code: (\d{6,12})$", re.MULTILINE)
# production.ini's format: "2024-05-01 12:00:00,123 ERROR [name:line][thread] …"
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (\w+)")
# "package.module.SomeError: message" (RelStorage adds lines that are not)
EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Conflict|InProgress)\b")
APACHE_ERROR = re.compile(r"\[[\w.]+:(error|crit|alert|emerg)\]")
REGISTERING, WRONG, SIGNING_IN = 16, 4, 4
POPULATION = 5000
"""Accounts the site holds before the crowd comes."""


class Tally:
    """What the clients saw, added to from every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.outcomes: Counter[str] = Counter()

    def status(self, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1

    def outcome(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1


class CountingClient(servers.Client):
    """servers.Client that counts each response (a dropped connection
    counts as status 0)."""

    def __init__(self, base: str, tally: Tally) -> None:
        super().__init__(base)
        self.tally = tally

    def request(
        self, method: str, url: str, data: dict[str, str] | None = None
    ) -> servers.Response:
        try:
            response = super().request(method, url, data)
        except OSError:
            self.tally.status(0)
            raise
        self.tally.status(response.status)
        return response


class MailCodes:
    """The codes in the development maildir, by recipient; each message is
    read once, however many clients wait."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        self.codes: dict[str, str] = {}

    def _read_new(self) -> None:
        for folder in (self.maildir / "new", self.maildir / "cur"):
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                if entry.name in self.seen:
                    continue
                self.seen.add(entry.name)
                message = email.message_from_bytes(
                    Path(entry.path).read_bytes(), policy=email.policy.default
                )
                part = message.get_body(("plain",))
                found = CODE_LINE.search(part.get_content() if part else "")
                if found:
                    address = email.utils.parseaddr(str(message["To"]))[1]
                    self.codes[address.lower()] = found.group(1)

    def take(self, address: str, timeout: float = 15.0) -> str:
        """The newest code mailed to ``address``, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                self._read_new()
                code = self.codes.pop(address.lower(), None)
            if code is not None:
                return code
            if time.monotonic() > deadline:
                raise TimeoutError(f"no code for {address} in {self.maildir}")
            time.sleep(0.05)


@dataclass
class Site:
    name: str
    storage: str
    base: str
    maildir: Path
    log: Path
    apache_log: Path | None = None


@dataclass
class Figures:
    seconds: float
    tally: Tally
    app_errors: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)
    apache_errors: Counter[str] = field(default_factory=Counter)

    @property
    def log_errors(self) -> int:
        return sum(self.app_errors.values()) + sum(self.apache_errors.values())

    @property
    def requests(self) -> int:
        return sum(self.tally.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.tally.statuses.items() if status >= 500)

    @property
    def registered(self) -> int:
        return self.tally.outcomes["registered"]


# --- The sites -------------------------------------------------------------


def make_site(
    site: Path,
    zodb_uri: str,
    logins: tuple[str, ...] = (WALKER,),
    population: int = 0,
    **settings: str,
) -> Path:
    """production.ini in ``site`` with a database, mail to a maildir, plain
    HTTP, OWASP's minimum argon2id (so that the database, not the hash, is
    what the crowd contends for), ``settings`` on top; an admin, an
    account for each of ``logins`` (the sign-in account by default) and
    ``population`` more, imported."""
    (site / "var").mkdir(parents=True, exist_ok=True)
    ini = servers.production_ini(
        site,
        **{
            "zodbconn.uri": zodb_uri,
            "session.secure_cookie": "false",
            "mail.transport": "maildir",
            "mail.maildir": str(site / "var" / "mail"),
            **FAST_HASHING,
            **settings,
        },
    )
    wingapp = servers.BIN / "wingapp"
    servers.run([wingapp, ini, "init"])
    for login in logins:
        address = f"{login}@example.org"
        servers.run(
            [wingapp, ini, "add-user", login, "--email", address], input=PASSWORD
        )
    if population:
        # Accounts already there, as on a live site: its trees are then
        # several buckets deep, and a split of one is what two requests
        # adding to it at once conflict over. An empty site's trees stay
        # one bucket for a whole run.
        rows = [f"p{n:06d},p{n:06d}@example.org,user,,true" for n in range(population)]
        csv = site / "population.csv"
        csv.write_text("login,email,roles,password_hash,confirmed\n" + "\n".join(rows))
        servers.run([wingapp, ini, "import-users", csv])
    return ini


def site_of(name: str, storage: str, base: str, ini: Path, **kw: Path) -> Site:
    var = ini.parent / "var"
    return Site(name, storage, base, var / "mail", var / "log" / "wingapp.log", **kw)


@contextlib.contextmanager
def pserve_site(work: Path) -> Iterator[Site]:
    ini = make_site(
        work / "pserve", f"file://{work}/pserve/var/Data.fs", population=POPULATION
    )
    port = servers.free_port()
    base = f"http://127.0.0.1:{port}"
    with (ini.parent / "pserve.out").open("w") as output:
        process = subprocess.Popen(
            [servers.BIN / "pserve", ini, f"http_listen=127.0.0.1:{port}"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            servers.wait_for_http(base + "/login", process=process)
            yield site_of("pserve (waitress, 8 threads)", "FileStorage", base, ini)
        finally:
            servers.stop(process)


@contextlib.contextmanager
def modwsgi_site(work: Path) -> Iterator[Site]:
    # Apache's www-data must reach everything under here.
    root = servers.readable_by_daemon(work)
    source = servers.copy_source_tree(root / "source")
    venv = servers.modwsgi_venv(source)
    app = servers.install_app(venv, source, root / "app")
    with fresh_database("wingapp_bench") as database:
        site = root / "modwsgi"
        site.mkdir()
        servers.readable_by_daemon(site)
        relstorage = uri(database, keep_history="true", cache_local_mb="64")
        ini = make_site(site, relstorage, population=POPULATION)
        servers.give_to_daemon(site / "var")
        express = contextlib.contextmanager(servers.start_express)
        # Apache's default (1.5 connections a daemon thread) would queue the
        # crowd and say so at level error; spare workers keep it quiet, so
        # what the error_log holds is about the app.
        clients = str(3 * (REGISTERING + WRONG + SIGNING_IN))
        with express(venv, ini, app, "--max-clients", clients) as server:
            yield site_of(
                "mod_wsgi-express (2 processes, 4 threads each)",
                "RelStorage (PostgreSQL)",
                server.base,
                ini,
                apache_log=server.root / "error_log",
            )


# --- The clients -------------------------------------------------------------


def trusted_device(site: Site, mail: MailCodes) -> dict[str, str]:
    """Sign ``walker`` in once with the mailed code; the device cookie that
    this leaves lets later sign-ins from this machine skip the code."""
    visitor = servers.Client(site.base)
    visitor.get("/login")  # the cookies any visitor gets: not the device's
    client = servers.Client(site.base)
    home = f"{site.base}/users/{WALKER}/"
    response = client.sign_in(WALKER, PASSWORD)
    if response.location != home:
        action, fields = client.form(response.location, "code-form")
        code = mail.take(f"{WALKER}@example.org")
        response = client.post(action, {**fields, "code": code})
    device = {k: v for k, v in client.jar.items() if k not in visitor.jar}
    if response.location != home or not device:
        raise RuntimeError(f"the first sign-in of {WALKER} answered {response.status}")
    return device


def register(site: Site, tally: Tally, mail: MailCodes, login: str) -> str:
    client = CountingClient(site.base, tally)
    address = f"{login}@example.org"
    action, fields = client.form("/register", "register-form")
    answer = client.post(
        action,
        {
            **fields,
            "login": login,
            "email": address,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    if answer.status != 303:
        return f"register answered {answer.status}"
    form = {"csrf_token": fields["csrf_token"], "code": mail.take(address)}
    answer = client.post(f"{site.base}/confirm-email", form)
    if answer.location != f"{site.base}/users/{login}/":
        return f"confirm-email answered {answer.status}"
    return "registered"


def sign_in_and_out(site: Site, tally: Tally, device: dict[str, str]) -> str:
    client = CountingClient(site.base, tally)
    client.jar.update(device)
    answer = client.sign_in(WALKER, PASSWORD)
    if answer.location != f"{site.base}/users/{WALKER}/":
        return f"sign-in answered {answer.status}"
    action, fields = client.form(answer.location, "signout-form")
    answer = client.post(action, fields)
    return "signed in and out" if answer.status == 303 else f"sign-out {answer.status}"


def wrong_passwords(site: Site, tally: Tally) -> Callable[[], str]:
    """One visitor's session trying wrong passwords for TARGET, again and
    again, with the login form's token."""
    client = CountingClient(site.base, tally)
    form: dict[str, str] = {}

    def attempt() -> str:
        if not form:
            action, fields = client.form("/login", "login-form")
            form.update(fields, action=action)
        fields = {k: v for k, v in form.items() if k != "action"}
        fields.update(login=TARGET, password=WRONG_PASSWORD)
        answer = client.post(form["action"], fields)
        refused = answer.status == 400
        return "wrong password refused" if refused else f"login {answer.status}"

    return attempt


def keep_going(
    work: Callable[[int], str], tally: Tally, deadline: float, bound: int
) -> None:
    for n in range(bound):
        if time.monotonic() >= deadline:
            return
        try:
            outcome = work(n)
        except Exception as e:  # an error page where a form was due, a timeout
            outcome = f"failed: {type(e).__name__}"
            time.sleep(0.05)  # a server that refuses connections is not hammered
        tally.outcome(outcome)


def crowd(site: Site, seconds: float, bound: int) -> Figures:
    tally = Tally()
    mail = MailCodes(site.maildir)
    device = trusted_device(site, mail)
    run_id = f"{time.time_ns() % 10**8:x}"
    work: list[Callable[[int], str]] = []
    for i in range(REGISTERING):
        work.append(lambda n, i=i: register(site, tally, mail, f"u{run_id}-{i}-{n}"))
    for _ in range(WRONG):
        attempt = wrong_passwords(site, tally)
        work.append(lambda n, attempt=attempt: attempt())
    for _ in range(SIGNING_IN):
        work.append(lambda n: sign_in_and_out(site, tally, device))
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(target=keep_going, args=(w, tally, deadline, bound))
        for w in work
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Figures(time.monotonic() - started, tally)


# --- What the logs say -------------------------------------------------------


def cause(line: str) -> str:
    """A line that names an error, without what differs between conflicts
    on objects of one class."""
    line = re.sub(r"\(oid 0x[0-9a-f]+, (class [\w.]+).*", r"(\1)", line.strip())
    return line[:120]


def error_records(log: Path) -> Counter[str]:
    """Records at ERROR or worse in the app's log, by the exception that
    ends each traceback (or the message, when there is none)."""
    causes: Counter[str] = Counter()
    record: list[str] | None = None
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    for line in [*lines, "0000-00-00 00:00:00,000 END"]:
        header = LOG_RECORD.match(line)
        if header is None:
            if record is not None and EXCEPTION_LINE.match(line):
                record.append(line)
            continue
        if record is not None:
            causes[
                cause(record[-1] if record[1:] else record[0].split("] ", 1)[-1])
            ] += 1
        record = [line] if header.group(1) in ("ERROR", "CRITI") else None
    return causes


def answered_503(log: Path) -> Counter[str]:
    """What the conflicts that outlasted their retries were on."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return Counter(
        cause(line.split("answered 503: ", 1)[1])
        for line in lines
        if "answered 503: " in line
    )


def apache_errors(log: Path | None) -> Counter[str]:
    """Apache's own lines at level error or worse (what the app writes to
    stderr lands there too)."""
    if log is None or not log.exists():
        return Counter()
    return Counter(
        cause(line.rsplit("] ", 1)[-1])
        for line in log.read_text(errors="replace").splitlines()
        if APACHE_ERROR.search(line)
    )


def read_logs(site: Site, figures: Figures) -> None:
    figures.app_errors = error_records(site.log)
    figures.conflicts = answered_503(site.log)
    figures.apache_errors = apache_errors(site.apache_log)


def show(site: Site, f: Figures) -> None:
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(f.tally.statuses.items()))
    print(f"\n{site.name} on {site.storage}, {f.seconds:.0f} s")
    print(f"  requests {f.requests}; >= 500: {f.server_errors}; 503: ", end="")
    print(f"{f.tally.statuses[503]}; ERROR entries in the log: {f.log_errors}")
    print(f"  registrations/s: {f.registered / f.seconds:.2f}")
    print(f"  statuses: {statuses}")
    for outcome, n in f.tally.outcomes.most_common():
        print(f"  {n:6d}  {outcome}")
    for line, n in f.conflicts.most_common(8):
        print(f"  503 after retries: {n:5d}  {line}")
    for log, causes in (("app log", f.app_errors), ("error_log", f.apache_errors)):
        for line, n in causes.most_common(8):
            print(f"  {log}: {n:5d}  {line}")


def section(results: list[tuple[Site, Figures]], seconds: float) -> list[str]:
    lines = [
        "Written by `make bench` (bench/concurrency.py). Each server serves",
        "production.ini (mail to a maildir, plain-HTTP cookies, argon2id at",
        "OWASP's minimum so that the database, not the hash, is contended for),",
        f"on a site that holds {POPULATION:,} imported accounts before it starts.",
        f"For {seconds:g} s, {REGISTERING} clients register and confirm accounts",
        f"(code read from the maildir), {WRONG} send wrong passwords for `admin`,",
        f"and {SIGNING_IN} sign in to one confirmed account and out again (their",
        "device was trusted by one sign-in with a code before the clock started).",
        "Goals: no response >= 500 and no ERROR entry in the app's log (for",
        "Apache, also its error_log); a conflict that outlasts the retries is a",
        "503.",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at {revision()};",
        f"{os.cpu_count()} cores, clients on the same machine.",
        "",
        "| server | storage | requests | >= 500 | 503 | ERROR in log "
        "| registrations/s | sign-ins | wrong passwords refused |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for site, f in results:
        lines.append(
            f"| {site.name} | {site.storage} | {f.requests} | {f.server_errors} "
            f"| {f.tally.statuses[503]} | {f.log_errors} "
            f"| {f.registered / f.seconds:.2f} "
            f"| {f.tally.outcomes['signed in and out']} "
            f"| {f.tally.outcomes['wrong password refused']} |"
        )
    return lines


SERVERS = {"pserve": pserve_site, "modwsgi": modwsgi_site}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--bound", type=int, default=5000, help="at most this many flows a client"
    )
    parser.add_argument(
        "--only",
        choices=sorted(SERVERS),
        action="append",
        help="this server only (repeatable); the section then shows only these",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()

    results = []
    for name in args.only or list(SERVERS):
        print(f"{name}: setting up, then {args.seconds:g} s of crowd", flush=True)
        with tempfile.TemporaryDirectory(prefix="wingapp-bench-") as tmp:
            with SERVERS[name](Path(tmp)) as site:
                figures = crowd(site, args.seconds, args.bound)
            # After the server stopped: what it logged on the way out counts.
            read_logs(site, figures)
            show(site, figures)
            sys.stdout.flush()
            results.append((site, figures))
    title = "Accounts under a crowd, on pserve and mod_wsgi"
    replace_section(args.output, title, section(results, args.seconds))
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
