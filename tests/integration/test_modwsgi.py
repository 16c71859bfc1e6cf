"""wingapp under Apache mod_wsgi, on RelStorage: mod_wsgi-express with two
daemon processes of four threads, reloading and restarting under a steady
stream of requests, and the example virtual host deploy/apache/wingapp.conf
over TLS, at the root and under a sub-path.

Apache runs the app as www-data, which cannot read root's home where
pyenv's Python lives: the app runs in a virtualenv made with the system
Python. That virtualenv (mod_wsgi and wingapp's dependencies) is cached
outside the repository, keyed by setup.py, and built when missing; wingapp
itself is installed afresh for each run into a directory of its own.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import pwd
import re
import shutil
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import FAST_HASHING, write_ini

from .postgres import HOST as PGHOST
from .postgres import PORT as PGPORT
from .postgres import execute, fresh_database, uri
from .servers import (
    BIN,
    DAEMON_USER,
    SYSTEM_PYTHON,
    Client,
    Express,
    copy_source_tree,
    daemon_pids,
    free_port,
    give_to_daemon,
    install_app,
    modwsgi_venv,
    production_ini,
    readable_by_daemon,
    require,
    run,
    start_express,
    stop_apache,
)

pytestmark = pytest.mark.integration

APACHE_MODULES = Path("/usr/lib/apache2/modules")
PASSWORD = "violet harbour lantern seventeen"


def apache2() -> str | None:
    return shutil.which("apache2", path=os.environ.get("PATH", "") + ":/usr/sbin")


def require_apache() -> None:
    require(
        os.geteuid() == 0, "Apache tests run as root (Apache then runs as www-data)"
    )
    require(SYSTEM_PYTHON.exists(), f"{SYSTEM_PYTHON} is missing")
    require(apache2() is not None, "apache2 is missing (tools/system-packages.sh)")
    require(shutil.which("apxs") is not None, "apxs is missing (apache2-dev)")
    try:
        pwd.getpwnam(DAEMON_USER)
    except KeyError:
        require(False, f"there is no {DAEMON_USER} user")


# --- The system-Python virtualenv (cached) and this run's wingapp -------


@pytest.fixture(scope="session")
def apache_root() -> Iterator[Path]:
    """A directory www-data can read, for everything Apache needs."""
    require_apache()
    root = readable_by_daemon(Path(tempfile.mkdtemp(prefix="wingapp-apache-")))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def source(apache_root: Path) -> Path:
    return copy_source_tree(apache_root / "source")


@pytest.fixture(scope="session")
def venv(source: Path) -> Path:
    return modwsgi_venv(source)


@pytest.fixture(scope="session")
def installed_app(venv: Path, source: Path, apache_root: Path) -> Path:
    """wingapp as it is in the working tree, for mod_wsgi's python-path."""
    return install_app(venv, source, apache_root / "app")


# --- A site: database, secrets, ini, one user ----------------------------


def make_site(root: Path, database: str) -> Path:
    site = root / "site"
    site.mkdir(parents=True)
    readable_by_daemon(site)
    settings = {
        "zodbconn.uri": uri(database),
        "wingapp.session_secret_file": f"{site}/secrets/session_secret",
        "wingapp.encryption_keys_file": f"{site}/secrets/encryption_keys",
        "wingapp.index_key_file": f"{site}/secrets/index_key",
        "session.secure_cookie": "false",
        "auth.two_step": "never",
        "mail.transport": "maildir",
        "mail.maildir": f"{site}/mail",
        "mail.default_sender": "wingapp <wingapp@example.org>",
        **FAST_HASHING,
    }
    ini = write_ini(site / "site.ini", settings)
    setup_users(ini)
    give_to_daemon(site / "secrets", site / "mail")
    return ini


def setup_users(ini: Path) -> None:
    run([BIN / "wingapp", ini, "init"])
    run(
        [BIN / "wingapp", ini, "add-user", "alice", "--email", "alice@example.org"],
        input=PASSWORD + "\n",
    )


# --- mod_wsgi-express ------------------------------------------------------


@pytest.fixture(scope="module")
def express_site(apache_root) -> Iterator[Path]:
    with fresh_database() as database:
        root = apache_root / f"express-{database}"
        yield make_site(root, database)


@pytest.fixture(scope="module")
def daemon_mode(express_site, installed_app, venv) -> Iterator[Express]:
    yield from start_express(venv, express_site, installed_app)


@pytest.fixture(scope="module")
def embedded_mode(express_site, installed_app, venv) -> Iterator[Express]:
    # Apache's own children run the app: a graceful restart lets each old
    # child finish its requests, with no daemon socket in between.
    yield from start_express(venv, express_site, installed_app, "--embedded-mode")


def test_daemon_processes_serve_sign_in_and_user_pages(daemon_mode):
    conf = (daemon_mode.root / "httpd.conf").read_text()
    assert re.search(r"WSGIDaemonProcess .*processes=2 \\\n.*threads=4", conf, re.S)
    assert len(daemon_mode.daemon_pids()) == 2

    client = Client(daemon_mode.base)
    action, fields = client.form("/login", "login-form")
    assert action == f"{daemon_mode.base}/login"
    assert {"csrf_token", "next", "login", "password"} <= set(fields)
    response = client.sign_in("alice", PASSWORD)
    assert response.status == 303
    assert response.location == f"{daemon_mode.base}/users/alice/"
    page = client.get(response.location)
    assert page.status == 200
    assert "<h1>alice</h1>" in page.text

    css = client.get("/static/css/wingapp.css")
    assert css.status == 200
    # Apache answered from disk: the app would have added its CSP header.
    assert "Content-Security-Policy" not in css.headers

    # Eight requests at once: both processes, all threads.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: Client(daemon_mode.base).get("/"), range(16)))
    assert [a.status for a in answers] == [200] * 16, explain(daemon_mode, answers)


def explain(server: Express, answers: list) -> str:
    """What a failed burst needs to be understood afterwards (the server's
    directory is gone by then): each odd answer, and Apache's error_log,
    where mod_wsgi and the app's stderr write."""
    odd = [f"{a.status}: {a.text[:1500]}" for a in answers if a.status >= 400]
    return "\n".join([*odd, "--- error_log", server.error_log()[-6000:]])


# mod_wsgi's own complaints (a daemon that died or could not load the
# script) and the app's tracebacks, which reach the error_log through stderr.
LOGGED_ERROR = re.compile(r"\[wsgi:(error|crit|alert|emerg)\]|Traceback|\bERROR\b")

FIRST_PAGES = [("/", 200), ("/login", 200), ("/register", 200), ("/no-such-page", 404)]


def crowd_of_first_pages(server: Express) -> list:
    """Each of the first pages six times at once: each answers as it
    always does, and nothing is logged as an error."""
    pages = FIRST_PAGES * 6
    with ThreadPoolExecutor(len(pages)) as pool:
        answers = list(pool.map(lambda page: Client(server.base).get(page[0]), pages))
    assert [a.status for a in answers] == [code for _, code in pages], explain(
        server, answers
    )
    assert not LOGGED_ERROR.search(server.error_log()), explain(server, answers)
    return answers


def connected_to_postgres() -> set[int]:
    """The processes holding a connection to the PostgreSQL server."""
    listing = run(["ss", "-Htnp", "state", "established", "dst", f"{PGHOST}:{PGPORT}"])
    return {int(pid) for pid in re.findall(r"pid=(\d+)", listing.stdout)}


def wait_for_daemons_on_the_database(pids) -> None:
    """Until both daemon processes (``pids()``) hold a connection to
    PostgreSQL: each has loaded the app, which opens the database."""
    wait_until(
        lambda: len(pids()) == 2 and pids() <= connected_to_postgres(),
        what="both daemons to open the database before any request",
    )


def test_daemons_load_the_app_as_they_start(express_site, installed_app, venv):
    """Each daemon process loads the app as it starts, not at the first
    request it gets: no request waits for a load or meets a process that
    is half-way through one, and every process runs the ini as it was when
    the group started, even if the file changes or goes afterwards."""
    ini = express_site.parent / "started.ini"
    shutil.copy2(express_site, ini)
    express = contextlib.contextmanager(start_express)
    with express(venv, ini, installed_app) as server:
        # Loading opens the database. Only the start-up check (one GET
        # /login) has reached a daemon, and only one of them.
        wait_for_daemons_on_the_database(server.daemon_pids)
        # A daemon still to load would now answer 503 (no ini to load).
        ini.unlink()
        crowd_of_first_pages(server)


def test_daemons_that_cannot_load_at_start_answer_503_until_they_can(
    express_site, installed_app, venv
):
    """The database may come up after Apache (at boot, say): each daemon's
    load at start fails and the error log says why, the pages answer 503
    with Retry-After, never 500, and once the database is there the next
    requests load the app and the pages answer."""
    site_uri = re.search(r"^zodbconn\.uri = (.+)$", express_site.read_text(), re.M)
    later = f"{site_uri[1].rsplit('/', 1)[1]}_later"
    ini = express_site.parent / "later.ini"
    ini.write_text(express_site.read_text().replace(site_uri[1], uri(later)))
    express = contextlib.contextmanager(start_express)
    try:
        with express(venv, ini, installed_app) as server:
            with ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(lambda _: Client(server.base).get("/"), range(8))
                )
            assert [a.status for a in answers] == [503] * 8, explain(server, answers)
            assert {a.headers["Retry-After"] for a in answers} == {"5"}
            assert "cannot load the application as the process starts" in (
                server.error_log()
            )
            execute(f'CREATE DATABASE "{later}"')
            wait_until(
                lambda: Client(server.base).get("/").status == 200,
                what="the app to load once its database is there",
            )
            with ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(lambda _: Client(server.base).get("/"), range(16))
                )
            assert [a.status for a in answers] == [200] * 16, explain(server, answers)
    finally:
        execute(f'DROP DATABASE IF EXISTS "{later}" WITH (FORCE)')


def test_first_requests_to_new_daemons_all_answer(express_site, installed_app, venv):
    """Daemons just started get a crowd at once: the threads of each
    process race through their first requests together (loading the app,
    compiling templates, opening database connections), on however loaded
    a machine. Each page answers as it always does; nothing is logged as
    an error."""
    express = contextlib.contextmanager(start_express)
    # Only the start-up check (one GET /login) reached a daemon before.
    with express(venv, express_site, installed_app) as server:
        answers = crowd_of_first_pages(server)
        assert "<h1>wingapp</h1>" in answers[0].text


class Stream:
    """GET one URL over and over from a thread, counting what comes back,
    until told to stop (or a bound is reached)."""

    def __init__(self, url: str, bound: int = 5000) -> None:
        self.url = url
        self.bound = bound
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for _ in range(self.bound):
            if self._stop.is_set():
                return
            try:
                with urllib.request.urlopen(self.url, timeout=60) as response:
                    response.read()
                    self.ok += 1
            except (urllib.error.URLError, OSError) as e:
                self.failures.append(repr(e))

    def __enter__(self) -> Stream:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def wait_for(self, more: int, timeout: float = 60) -> None:
        goal = self.ok + more
        deadline = time.monotonic() + timeout
        while (
            self.ok < goal and time.monotonic() < deadline and self._thread.is_alive()
        ):
            time.sleep(0.02)
        assert self.ok >= goal, f"only {self.ok} of {goal} requests came back"


def wait_until(condition, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_touching_the_script_reloads_daemons_without_losing_a_request(daemon_mode):
    script = daemon_mode.root / "handler.wsgi"
    with Stream(daemon_mode.base + "/login") as stream:
        stream.wait_for(20)
        for _ in range(2):
            before = daemon_mode.daemon_pids()
            script.touch()
            wait_until(
                lambda before=before: (
                    not (daemon_mode.daemon_pids() & before)
                    and len(daemon_mode.daemon_pids()) == 2
                ),
                what="new daemon processes",
            )
            stream.wait_for(50)
    assert stream.failures == []
    assert stream.ok >= 120


def test_graceful_restart_in_embedded_mode_loses_no_request(embedded_mode):
    resumed = "resuming normal operations"
    with Stream(embedded_mode.base + "/login") as stream:
        stream.wait_for(20)
        for _ in range(2):
            count = embedded_mode.error_log().count(resumed)
            embedded_mode.apachectl("graceful")
            wait_until(
                lambda count=count: embedded_mode.error_log().count(resumed) > count,
                what="the graceful restart",
            )
            stream.wait_for(50)
    assert stream.failures == []
    assert stream.ok >= 120


# --- The example virtual host -----------------------------------------------

MODULES = (
    "mpm_event",
    "authz_core",
    "alias",
    "mime",
    "env",
    "headers",
    "socache_shmcb",
    "ssl",
)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "site.pem", directory / "site.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def example_vhost(
    source: Path,
    venv: Path,
    app: Path,
    root: Path,
    ports: tuple[int, int],
    cert: tuple[Path, Path],
    sub_path: bool,
) -> str:
    """deploy/apache/wingapp.conf with this machine's paths and ports."""
    text = (source / "deploy" / "apache" / "wingapp.conf").read_text()
    https_port, http_port = ports
    replacements = [
        ("/var/run/apache2/wsgi", f"{root}/wsgi"),
        ("<VirtualHost *:443>", f"<VirtualHost 127.0.0.1:{https_port}>"),
        ("<VirtualHost *:80>", f"<VirtualHost 127.0.0.1:{http_port}>"),
        ("/etc/ssl/certs/wingapp.example.org.pem", str(cert[0])),
        ("/etc/ssl/private/wingapp.example.org.key", str(cert[1])),
        ("python-home=/srv/wingapp/venv", f"python-home={venv} python-path={app}"),
        ("/srv/wingapp", str(source)),
    ]
    for old, new in replacements:
        assert old in text, f"the example no longer has {old!r}"
        text = text.replace(old, new)
    if sub_path:
        root_mount = [
            f"    Alias /static/ {source}/src/wingapp/static/",
            f"    WSGIScriptAlias / {source}/deploy/apache/wingapp.wsgi",
        ]
        for line in root_mount:
            assert line in text
            text = text.replace(line, "#" + line.lstrip())
        text = re.sub(
            r"^    #(Alias /wing/|WSGIScriptAlias /wing )", r"    \1", text, flags=re.M
        )
        assert "\n    WSGIScriptAlias /wing " in text
    return text


@pytest.fixture(scope="module")
def vhost_site(apache_root) -> Iterator[Path]:
    with fresh_database() as database:
        site = apache_root / f"vhost-{database}"
        site.mkdir()
        readable_by_daemon(site)
        ini = production_ini(
            site,
            **{
                "zodbconn.uri": uri(database),
                "auth.two_step": "never",
                "mail.transport": "maildir",
                "mail.maildir": str(site / "var" / "mail"),
                **FAST_HASHING,
            },
        )
        setup_users(ini)
        give_to_daemon(site / "var")
        yield ini


@contextlib.contextmanager
def serve_example(
    apache_root: Path, source: Path, venv: Path, app: Path, ini: Path, sub_path: bool
) -> Iterator[tuple[str, str, ssl.SSLContext]]:
    root = Path(tempfile.mkdtemp(prefix="httpd-", dir=apache_root))
    readable_by_daemon(root)
    ports = free_port(), free_port()
    cert = self_signed_certificate(root)
    module_config = run([venv / "bin" / "mod_wsgi-express", "module-config"]).stdout
    vhost = example_vhost(source, venv, app, root, ports, cert, sub_path)
    (root / "wingapp.conf").write_text(vhost)
    loads = "\n".join(
        f"LoadModule {name}_module {APACHE_MODULES}/mod_{name}.so" for name in MODULES
    )
    (root / "httpd.conf").write_text(
        f"""ServerRoot "{root}"
ServerName 127.0.0.1
PidFile {root}/httpd.pid
DefaultRuntimeDir {root}
Mutex file:{root} default
User {DAEMON_USER}
Group {DAEMON_USER}
ErrorLog {root}/error.log
LogLevel warn
{loads}
{module_config}
TypesConfig /etc/mime.types
SSLSessionCache shmcb:{root}/ssl_scache(512000)
Listen 127.0.0.1:{ports[0]} https
Listen 127.0.0.1:{ports[1]}
Define APACHE_LOG_DIR {root}
Include {root}/wingapp.conf
"""
    )
    conf = root / "httpd.conf"
    run([apache2(), "-f", conf, "-t"])
    # The ini named in Apache's environment, as /etc/apache2/envvars does.
    run(
        [apache2(), "-f", conf, "-k", "start"],
        env={**os.environ, "WINGAPP_INI": str(ini)},
    )
    context = ssl.create_default_context(cafile=str(cert[0]))
    https = f"https://127.0.0.1:{ports[0]}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(https + "/", context=context)
                break
            except urllib.error.HTTPError:
                break  # Apache answers (the app is not at / under a sub-path)
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, (root / "error.log").read_text()
                time.sleep(0.2)
        yield https, f"http://127.0.0.1:{ports[1]}", context
    finally:
        stop_apache(root / "httpd.pid", [apache2(), "-f", conf, "-k", "stop"])


def test_example_vhost_over_tls(apache_root, source, venv, installed_app, vhost_site):
    with serve_example(
        apache_root, source, venv, installed_app, vhost_site, sub_path=False
    ) as (https, http, context):
        # Both daemons loaded the app as they started (WSGIImportScript),
        # though only the start-up check has reached one of them.
        wait_for_daemons_on_the_database(lambda: daemon_pids("(wsgi:wingapp)"))
        client = Client(https, context=context)
        home = client.get("/")
        assert home.status == 200
        assert f'href="{https}/static/css/wingapp.css"' in home.text
        assert home.headers["Strict-Transport-Security"].startswith("max-age=")

        css = client.get("/static/css/wingapp.css")
        assert css.status == 200
        assert "Content-Security-Policy" not in css.headers
        assert css.headers["X-Content-Type-Options"] == "nosniff"

        response = client.sign_in("alice", PASSWORD)
        assert response.status == 303
        assert response.location == f"{https}/users/alice/"
        assert any(
            c.startswith("wingapp_session=") and "secure" in c.lower()
            for c in response.cookies()
        )
        assert "<h1>alice</h1>" in client.get(response.location).text

        plain = Client(http).get("/users/alice/")
        assert plain.status == 301
        assert plain.location == "https://wingapp.example.org/users/alice/"


def test_example_vhost_under_a_sub_path(
    apache_root, source, venv, installed_app, vhost_site
):
    with serve_example(
        apache_root, source, venv, installed_app, vhost_site, sub_path=True
    ) as (https, _, context):
        client = Client(https, context=context)
        home = client.get("/wing/")
        assert home.status == 200
        assert f'href="{https}/wing/static/css/wingapp.css"' in home.text
        assert f'href="{https}/wing/login"' in home.text
        css = client.get("/wing/static/css/wingapp.css")
        assert css.status == 200
        assert "Content-Security-Policy" not in css.headers
        assert client.get("/").status == 404

        response = client.sign_in("alice", PASSWORD, mount="/wing")
        assert response.location == f"{https}/wing/users/alice/"
        assert "<h1>alice</h1>" in client.get(response.location).text
