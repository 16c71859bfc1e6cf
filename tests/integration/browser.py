"""A real Chromium, driven by Playwright, against a real `pserve`.

Chromium is Debian's (``tools/system-packages.sh`` installs it), never a
browser Playwright downloads. In CI a missing browser fails the test; on a
workstation it skips with the reason.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import write_ini

from .servers import BIN, free_port, in_ci, stop, wait_for_http

CHROMIUM = Path("/usr/bin/chromium")
# Headless in a container: no sandbox (no user namespaces), no GPU, and no
# background requests to Google; only 127.0.0.1 is reachable here anyway.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Generous, for a loaded two-core machine.
ACTION_TIMEOUT_MS = 15_000


def unavailable(reason: str) -> None:
    """A missing browser: a failure in CI, a skip with the reason elsewhere."""
    if in_ci():
        pytest.fail(f"{reason} (CI must run the browser tests)", pytrace=False)
    pytest.skip(reason)


def chromium_executable() -> str | None:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    # Module scope: the sync API runs an event loop of its own in this
    # thread, so it must be gone before other modules' tests run.
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable(
            "the playwright package is not installed (pip install -e '.[test]')"
        )
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def chromium(playwright: Any) -> Iterator[Any]:
    executable = chromium_executable()
    if executable is None:
        unavailable("no Chromium at /usr/bin/chromium: run `make system`")
    browser = playwright.chromium.launch(
        executable_path=executable,
        args=CHROMIUM_ARGS,
        headless=True,
        # Playwright turns the back/forward cache off; people's browsers
        # have it on, and session.js must cope with pages it brings back.
        ignore_default_args=["--disable-back-forward-cache"],
    )
    yield browser
    browser.close()


@pytest.fixture
def context(chromium: Any) -> Iterator[Any]:
    """A fresh browser profile: its own cookies and local storage."""
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(ACTION_TIMEOUT_MS)
    ctx.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
    yield ctx
    ctx.close()


@dataclass
class Site:
    base: str
    ini: Path

    def url(self, path: str) -> str:
        return self.base + path


@contextlib.contextmanager
def served_site(
    tmp_path: Path,
    settings: dict[str, str],
    users: dict[str, str],
    admins: tuple[str, ...] = (),
) -> Iterator[Site]:
    """`pserve` on a free port with a fresh database holding ``users``
    (login -> password; those named in ``admins`` get the admin role), as
    `make run` would serve it."""
    port = free_port()
    ini = write_ini(tmp_path / "browser.ini", settings, port=port)
    subprocess.run(
        [BIN / "wingapp", ini, "init"], capture_output=True, text=True, check=True
    )
    for login, password in users.items():
        subprocess.run(
            [
                BIN / "wingapp",
                ini,
                "add-user",
                login,
                "--email",
                f"{login}@example.org",
                *(["--admin"] if login in admins else []),
            ],
            input=password + "\n",
            capture_output=True,
            text=True,
            check=True,
        )
    process = subprocess.Popen(
        [BIN / "pserve", ini], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/", process=process)
        yield Site(base, ini)
    finally:
        stop(process)
        if process.stdout is not None:
            process.stdout.close()


def path_of(url: str) -> str:
    return urlsplit(url).path


def sign_in(page: Any, site: Site, login: str, password: str) -> None:
    """Through the real form, as a person would: type, then press the button."""
    page.goto(site.url("/login"))
    form = page.locator("form#login-form")
    form.locator("[name=login]").fill(login)
    form.locator("[name=password]").fill(password)
    form.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.url(f"/users/{login}/"))


@dataclass
class PingLog:
    """Every POST to /ping a page sends, with when it was sent."""

    page: Any
    sent: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("request", self._seen)

    def _seen(self, request: Any) -> None:
        if request.method == "POST" and path_of(request.url) == "/ping":
            self.sent.append(time.monotonic())

    def __len__(self) -> int:
        return len(self.sent)

    def since(self, moment: float) -> int:
        return sum(1 for t in self.sent if t >= moment)
