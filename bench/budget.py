"""How close the signed-in page can come to the toy page: in-process.

Calls three WSGI apps directly (no server, no sockets) and measures the
CPU time of a request to each: the bare hello app, the toy page on our
stack, and a signed-in user's own page (``/users/bench/``). Then it
measures the templates alone: each page's templates rendered again with
the very values its request gave them (the view's dict, and every answer
the layout's helpers gave), with no request around them. The replayed
page must come out byte for byte as the request's did.

From these, the page's floor: the toy's request with the toy's template
swapped for the page's. Nothing the page does besides rendering (session,
sign-in, permissions, decrypting, the view, headers) can bring it below
that floor. ``bench/run.py`` puts these figures under its waitress table,
and serves the floor itself (``replayed_page``) to measure it with wrk.

    .venv/bin/python bench/budget.py [--requests 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import hello_app  # noqa: E402
import toy_app  # noqa: E402

BIN = Path(sys.executable).parent
USER = "bench"
PASSWORD = "violet harbour lantern seventeen"
PAGE = f"/users/{USER}/"
WARM_UP = 200
REQUESTS, RUNS = 1000, 5
"""What each figure is the median of: ``RUNS`` runs of ``REQUESTS`` calls."""


def make_site(directory: Path) -> Path:
    """An ini for a throwaway site on a FileStorage in ``directory``, with
    the user ``bench`` (two-step sign-in off, so one form signs in)."""
    ini = directory / "bench.ini"
    ini.write_text(
        "[app:main]\nuse = egg:wingapp\n"
        f"zodbconn.uri = file://{directory}/Data.fs\n"
        f"wingapp.session_secret_file = {directory}/secrets/session\n"
        f"wingapp.encryption_keys_file = {directory}/secrets/keys\n"
        f"wingapp.index_key_file = {directory}/secrets/index\n"
        "session.secure_cookie = false\n"
        "auth.two_step = never\n"
        "wingapp.public_url = http://127.0.0.1\n"
        f"mail.maildir = {directory}/mail\n"
    )
    wingapp = BIN / "wingapp"
    subprocess.run([wingapp, ini, "init"], check=True, capture_output=True)
    subprocess.run(
        [wingapp, ini, "add-user", USER, "--email", f"{USER}@example.org"],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    return ini


def signed_in_cookie(app: Callable) -> str:
    """Sign ``bench`` in through the form; the Cookie header a browser
    sends afterwards."""
    import webtest

    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "127.0.0.1"})
    form = client.get("/login").forms["login-form"]
    form["login"], form["password"] = USER, PASSWORD
    # Follow the redirect, as a browser does: the first page after signing
    # in gives the session its CSRF token, and the cookie the browser keeps
    # from then on carries it.
    form.submit().follow()
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def environ(path: str, cookie: str = "", accept: str | None = None) -> dict:
    """A GET of ``path`` as a server would hand it to the app."""
    made = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if cookie:
        made["HTTP_COOKIE"] = cookie
    if accept:
        made["HTTP_ACCEPT"] = accept
    return made


class Caller:
    """Asks ``app`` for ``env`` once a call, and checks the answer's status
    line starts with one of ``expected``; ``status`` is the last one."""

    def __init__(self, app: Callable, env: dict, expected: tuple[str, ...] = ("200",)):
        self.app, self.env, self.expected = app, env, expected
        self.status = ""

    def start_response(self, line: str, headers: list, exc_info: Any = None) -> None:
        self.status = line

    def __call__(self) -> bytes:
        body = b"".join(self.app(dict(self.env), self.start_response))
        if not self.status.startswith(self.expected):
            raise AssertionError(f"{self.env['PATH_INFO']} answered {self.status}")
        return body


def cpu_ms(work: Callable[[], object], requests: int, runs: int) -> float:
    """Median over ``runs`` of the CPU milliseconds ``work`` takes a call.

    CPU time, not the wall clock: on a shared machine the wall clock also
    counts the time other processes had the CPU."""
    for _ in range(WARM_UP):
        work()
    figures = []
    for _ in range(runs):
        started = time.process_time()
        for _ in range(requests):
            work()
        figures.append((time.process_time() - started) / requests * 1000)
    return statistics.median(figures)


class Replay:
    """Stands in for a template helper: each call is answered as the real
    helper answered it the first time, and what it answers with (another
    helper) is replayed the same way."""

    PLAIN = (str, bytes, int, float, bool, type(None), list, tuple, dict)

    def __init__(self, real: Any) -> None:
        self._real = real
        self._answers: dict[Any, Any] = {}

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._real, name)
        if not callable(value):
            return value

        def answer(*args: Any, **kw: Any) -> Any:
            try:
                key = (name, args, tuple(sorted(kw.items())))
                hash(key)
            except TypeError:  # unhashable arguments: nothing to remember
                return value(*args, **kw)
            if key not in self._answers:
                found = value(*args, **kw)
                self._answers[key] = (
                    found if isinstance(found, self.PLAIN) else Replay(found)
                )
            return self._answers[key]

        self.__dict__[name] = answer
        return answer


def templates_alone(once: Callable[[], bytes]) -> Callable[[], str]:
    """Ask once through ``once`` while recording what its renderer was
    given; a function that renders exactly that again, without a request.

    The layout's helper (``site``) is replayed, so the function costs what
    the templates cost given every value, and nothing else."""
    from pyramid_chameleon.zpt import ZPTTemplateRenderer

    real = ZPTTemplateRenderer.__call__
    given: list[tuple[Any, dict, dict, str]] = []

    def record(self: Any, value: dict, system: dict) -> str:
        system = dict(system)
        if "site" in system:
            system["site"] = Replay(system["site"])
        html = real(self, dict(value), dict(system))
        given.append((self, dict(value), system, html))
        return html

    ZPTTemplateRenderer.__call__ = record
    try:
        once()
    finally:
        ZPTTemplateRenderer.__call__ = real
    renderer, value, system, html = given[-1]

    def render() -> str:
        return real(renderer, dict(value), dict(system))

    if render() != html:
        raise AssertionError("the replayed render differs from the request's")
    return render


def replayed_page(directory: Path) -> Callable[[], str]:
    """The signed-in page's templates alone, as ``templates_alone`` gives
    them, from a site made in ``directory``. The site's database stays
    open: the replayed values include its objects."""
    from pyramid.paster import get_app

    app = get_app(str(make_site(directory)))
    return templates_alone(Caller(app, environ(PAGE, signed_in_cookie(app))))


@dataclass
class Budget:
    hello_ms: float
    toy_ms: float
    toy_templates_ms: float
    page_ms: float
    page_templates_ms: float

    @property
    def floor_ms(self) -> float:
        """The toy's request with the page's templates for the toy's."""
        return self.toy_ms - self.toy_templates_ms + self.page_templates_ms

    @property
    def own_ms(self) -> float:
        """What the page costs beyond its floor: wingapp's own work."""
        return self.page_ms - self.floor_ms

    def lines(self) -> list[str]:
        def row(what: str, ms: float) -> str:
            return f"| {what} | {ms:.3f} | {ms / self.toy_ms:.2f}x |"

        return [
            "| in-process, per request | CPU ms | vs. toy |",
            "|---|---:|---:|",
            row("bare Pyramid hello", self.hello_ms),
            row("toy page on our stack", self.toy_ms),
            row("the toy's template alone", self.toy_templates_ms),
            row(f"a user's own page, signed in (`{PAGE}`)", self.page_ms),
            row("its templates alone, every value given", self.page_templates_ms),
            row("its floor: the toy with the page's templates", self.floor_ms),
            row("beyond the floor: wingapp's own work", self.own_ms),
        ]


def measure(requests: int = REQUESTS, runs: int = RUNS) -> Budget:
    from pyramid.paster import get_app

    with tempfile.TemporaryDirectory(prefix="wingapp-budget-") as tmp:
        hello = Caller(hello_app.make_app(), environ("/"))
        toy_wsgi = toy_app.make_app(f"file://{tmp}/toy.fs")
        toy = Caller(toy_wsgi, environ("/page/"))
        app = get_app(str(make_site(Path(tmp))))
        try:
            page = Caller(app, environ(PAGE, signed_in_cookie(app)))
            if f"<h1>{USER}</h1>".encode() not in page():
                raise AssertionError(f"{PAGE} is not the signed-in user's page")
            return Budget(
                hello_ms=cpu_ms(hello, requests, runs),
                toy_ms=cpu_ms(toy, requests, runs),
                toy_templates_ms=cpu_ms(templates_alone(toy), requests, runs),
                page_ms=cpu_ms(page, requests, runs),
                page_templates_ms=cpu_ms(templates_alone(page), requests, runs),
            )
        finally:
            for wsgi in (toy_wsgi, app):
                for db in wsgi.registry._zodb_databases.values():
                    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    print("\n".join(measure(args.requests, args.runs).lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
