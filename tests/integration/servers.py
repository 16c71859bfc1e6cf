"""Starting real server processes for integration tests."""

from __future__ import annotations

import configparser
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

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
            verify = app.registry.password_hasher.verify
            return {
                login: login in users and verify(users[login].password_hash, password)
                for login, password in passwords.items()
            }
    finally:
        conn.close()
        for db in databases.values():
            db.close()
