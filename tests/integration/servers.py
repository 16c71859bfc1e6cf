"""Starting real server processes for integration tests."""

from __future__ import annotations

import configparser
import fcntl
import hashlib
import http.client
import os
import pwd
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.accounts import service
from wingapp.users.interfaces import IPasswordHasher

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def wait_for_http(
    url: str, timeout: float = 30.0, process: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode} before {url} answered"
            )
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (
                response.status,
                response.headers["Content-Type"],
                response.read().decode(),
            )
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- Helpers for the deployment tests (RelStorage, mod_wsgi, buildout) ---

REPO = Path(__file__).resolve().parents[2]


def require(ok: bool, reason: str) -> None:
    """A missing prerequisite fails the test in CI and skips it elsewhere."""
    if ok:
        return
    import pytest

    if in_ci():
        pytest.fail(f"{reason} (CI must run this test)", pytrace=False)
    pytest.skip(reason)


def run(
    args: list, *, input: str | None = None, timeout: float = 300, **kw
) -> subprocess.CompletedProcess:
    """Run a command; if it fails, the assertion shows what it printed."""
    args = [str(a) for a in args]
    result = subprocess.run(
        args, input=input, capture_output=True, text=True, timeout=timeout, **kw
    )
    assert result.returncode == 0, (
        f"{' '.join(args)} exited with {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


def admin_password(init_output: str) -> str:
    """The password `wingapp INI init` printed for the first admin."""
    return init_output.split("with password:")[1].split()[0]


def copy_source_tree(dest: Path) -> Path:
    """What a fresh clone of the working tree holds: committed files plus
    new ones not ignored, as they are now (no .venv, var, bin, eggs)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # listed but deleted in the working tree
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def production_ini(dest: Path, **settings: str) -> Path:
    """production.ini copied to ``dest`` with some [app:main] settings
    changed (its %(here)s then points into ``dest``)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep the keys as written
    parser.read(REPO / "production.ini")
    # Served for real on this machine, and asked for by address.
    settings = {
        "wingapp.public_url": "http://127.0.0.1",
        "wingapp.allowed_hosts": "127.0.0.1 localhost",
        **settings,
    }
    for key, value in settings.items():
        parser["app:main"][key] = value
    path = dest / "production.ini"
    with path.open("w") as f:
        parser.write(f)
    return path


class Form(HTMLParser):
    """The fields of one form (by id) of a page."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self._inside = attributes.get("id") == self.form_id
            if self._inside:
                self.action = attributes.get("action")
        elif tag == "input" and self._inside and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    def cookies(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []


class Client:
    """A small HTTP client that keeps cookies (whatever their Secure flag:
    tests speak plain HTTP or trust a test certificate) and never follows
    redirects, so a test sees each 303 and where it points."""

    def __init__(
        self,
        base: str,
        headers: dict[str, str] | None = None,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.base = base.rstrip("/")
        self.headers = headers or {}
        self.context = context
        self.jar: dict[str, str] = {}

    def request(
        self, method: str, url: str, data: dict[str, str] | None = None
    ) -> Response:
        # Absolute URLs go to the same server, as through a proxy: the app
        # may say https://... while the test speaks plain HTTP to it.
        parts = urlsplit(url)
        server = urlsplit(self.base)
        if server.scheme == "https":
            conn = http.client.HTTPSConnection(
                server.netloc, timeout=30, context=self.context
            )
        else:
            conn = http.client.HTTPConnection(server.netloc, timeout=30)
        headers = dict(self.headers)
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # As a browser does; Pyramid checks it on HTTPS form posts.
            origin = parts if parts.netloc else server
            headers.setdefault("Origin", f"{origin.scheme}://{origin.netloc}")
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request(method, target or "/", body=body, headers=headers)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read().decode())
        finally:
            conn.close()
        for cookie in response.cookies():
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in cookie.lower():
                self.jar[name] = value
            else:
                self.jar.pop(name, None)
        return response

    def get(self, url: str) -> Response:
        return self.request("GET", url)

    def post(self, url: str, data: dict[str, str]) -> Response:
        return self.request("POST", url, data)

    def form(self, url: str, form_id: str) -> tuple[str, dict[str, str]]:
        page = self.get(url)
        assert page.status == 200, f"GET {url}: {page.status}"
        form = Form(form_id)
        form.feed(page.text)
        assert form.action, f"no form {form_id!r} on {url}"
        return form.action, form.fields

    def sign_in(self, login: str, password: str, mount: str = "") -> Response:
        action, fields = self.form(f"{mount}/login", "login-form")
        return self.post(action, {**fields, "login": login, "password": password})


def verified_users(ini: Path, passwords: dict[str, str]) -> dict[str, bool]:
    """Open the app from ``ini`` in this process and say, for each login,
    whether the account is there and its password still verifies."""
    import transaction
    from pyramid.paster import get_app

    app = get_app(str(ini))
    databases = app.registry._zodb_databases
    tm = transaction.TransactionManager(explicit=True)
    conn = databases[""].open(transaction_manager=tm)
    try:
        with tm:
            users = conn.root()["wingapp"]["users"]
            verify = service(app.registry, IPasswordHasher).verify
            return {
                login: login in users and verify(users[login].password_hash, password)
                for login, password in passwords.items()
            }
    finally:
        conn.close()
        for db in databases.values():
            db.close()


# --- Apache mod_wsgi: a system-Python virtualenv and mod_wsgi-express ---
# Apache runs the app as www-data, which cannot read root's home where
# pyenv's Python lives: the app runs in a virtualenv made with the system
# Python, cached outside the repository and keyed by setup.py.

SYSTEM_PYTHON = Path("/usr/bin/python3")
MOD_WSGI = "mod_wsgi==6.1.1"
CACHE = Path(os.environ.get("WINGAPP_TEST_CACHE", "/var/tmp/wingapp-test-cache"))
DAEMON_USER = "www-data"


def readable_by_daemon(path: Path) -> Path:
    path.chmod(0o755)
    return path


def give_to_daemon(*paths: Path) -> None:
    user = pwd.getpwnam(DAEMON_USER)
    for top in paths:
        top.mkdir(parents=True, exist_ok=True)
        for path in [top, *top.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)


def venv_key() -> str:
    version = subprocess.run(
        [SYSTEM_PYTHON, "--version"], capture_output=True, text=True, check=True
    ).stdout
    digest = hashlib.sha256((REPO / "setup.py").read_bytes())
    digest.update(f"{MOD_WSGI} {version}".encode())
    return digest.hexdigest()[:16]


def build_venv(venv: Path, source: Path) -> None:
    shutil.rmtree(venv, ignore_errors=True)
    run([SYSTEM_PYTHON, "-m", "venv", venv])
    pip = [
        venv / "bin" / "python",
        "-m",
        "pip",
        "--quiet",
        "--disable-pip-version-check",
    ]
    # wingapp's dependencies come with it; wingapp itself goes again, since
    # each run installs the code as it is now (see `install_app`).
    run([*pip, "install", "setuptools<82", "wheel", MOD_WSGI, source], timeout=900)
    run([*pip, "uninstall", "--yes", "wingapp"])
    (venv / ".complete").touch()


def modwsgi_venv(source: Path) -> Path:
    """The cached virtualenv with mod_wsgi and wingapp's dependencies,
    built from ``source`` (a copy of the tree) when missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    readable_by_daemon(CACHE)
    venv = CACHE / f"modwsgi-{venv_key()}"
    with (CACHE / ".lock").open("w") as lock:
        # Another test run may be building the same virtualenv.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").exists():
            build_venv(venv, source)
    return venv


def install_app(venv: Path, source: Path, target: Path) -> Path:
    """wingapp from ``source`` into ``target``, for mod_wsgi's python-path."""
    run(
        [
            *(venv / "bin" / "python", "-m", "pip", "--quiet"),
            *("install", "--no-deps", "--no-build-isolation", "--target", target),
            source,
        ]
    )
    return target


def daemon_pids(display_name: str) -> set[int]:
    """The mod_wsgi daemon processes of one group, by their display name."""
    listing = subprocess.run(
        ["ps", "-eo", "pid=,args="], capture_output=True, text=True, check=True
    ).stdout
    return {
        int(pid)
        for pid, _, args in (
            line.strip().partition(" ") for line in listing.splitlines()
        )
        # The daemons' command line starts with their display name.
        if args.split(" ", 1)[0] == display_name
    }


class Express:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    @property
    def display_name(self) -> str:
        return f"(wsgi:127.0.0.1:{self.port}:{os.geteuid()})"

    def apachectl(self, command: str) -> None:
        run([self.root / "apachectl", command])

    def daemon_pids(self) -> set[int]:
        return daemon_pids(self.display_name)

    def error_log(self) -> str:
        path = self.root / "error_log"
        return path.read_text() if path.exists() else ""


def stop_apache(pid_file: Path, stop: list) -> None:
    """Stop an Apache and wait until its parent has gone."""
    pid = int(pid_file.read_text()) if pid_file.exists() else None
    subprocess.run(stop, capture_output=True, timeout=60)
    deadline = time.monotonic() + 30
    while pid and time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def start_express(venv: Path, ini: Path, app: Path, *options: str) -> Iterator[Express]:
    """mod_wsgi-express serving ``ini`` with two daemon processes of four
    threads, its server root beside the ini's directory; a generator, so a
    fixture can ``yield from`` it (``contextlib.contextmanager`` makes it a
    ``with`` block).

    As deploy/apache/wingapp.conf has it: the daemons run the shipped
    script, deploy/apache/wingapp.wsgi, which mod_wsgi-express imports in
    each as it starts, and the ini is named in Apache's environment (the
    server root's ``envvars``, Debian's /etc/apache2/envvars), so each
    daemon loads the app before its first request."""
    port = free_port()
    server = Express(ini.parent.parent / f"httpd-{port}", port)
    script = ini.parent / "wingapp.wsgi"
    shutil.copy2(REPO / "deploy" / "apache" / "wingapp.wsgi", script)
    run(
        [
            venv / "bin" / "mod_wsgi-express",
            "setup-server",
            *("--application-type", "script", "--entry-point", script),
            *("--python-path", app),
            *("--processes", "2", "--threads", "4"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--user", DAEMON_USER, "--group", DAEMON_USER, "--locale", "C.UTF-8"),
            *("--server-root", server.root, "--working-directory", ini.parent),
            *("--url-alias", "/static", app / "wingapp" / "static"),
            *options,
        ]
    )
    # apachectl reads it before it starts Apache, whose processes inherit it.
    (server.root / "envvars").write_text(
        f"export WINGAPP_INI={shlex.quote(str(ini))}\n"
    )
    server.apachectl("start")
    try:
        wait_for_http(server.base + "/login", timeout=60)
        yield server
    finally:
        stop_apache(server.root / "httpd.pid", [server.root / "apachectl", "stop"])
