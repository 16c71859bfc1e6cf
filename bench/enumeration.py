"""How long the answers take that must not tell whether an account exists.

Each pair of cases does the same steps for an account and for a name or
address without one (or an account that may not take the step); the runs
of a pair alternate, and the medians go to BENCHMARKS.md. In process, on a
FileStorage, with the production password hashing (argon2id, t=3, 64 MiB,
p=4), so that the sign-in figures show the hash that every branch computes.

    .venv/bin/python bench/enumeration.py [--runs 30]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import webtest
from pyramid.config import Configurator
from report import replace_section, revision

HERE = Path(__file__).resolve().parent
PASSWORD = "violet harbour lantern seventeen"
NEW_PASSWORD = "a different violet harbour lantern"


class Clock:
    """The app's clock, moved on between runs so no cool-down or back-off
    carries from one run into the next."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def make_app(directory: Path, clock: Clock):
    from wingapp import main
    from wingapp.interfaces import IClock
    from wingapp.keys import KeyPaths, ensure_keys

    secrets = directory / "secrets"
    keys = KeyPaths(
        session_secret=secrets / "session",
        encryption_keys=secrets / "keys",
        index_key=secrets / "index",
    )
    ensure_keys(keys)
    app = main(
        {},
        **{
            "zodbconn.uri": f"file://{directory}/Data.fs",
            "wingapp.session_secret_file": str(keys.session_secret),
            "wingapp.encryption_keys_file": str(keys.encryption_keys),
            "wingapp.index_key_file": str(keys.index_key),
            "wingapp.public_url": "http://example.com",
            "session.secure_cookie": "false",
            "auth.two_step": "never",
            "mail.transport": "maildir",
            "mail.maildir": str(directory / "mail"),
            "mail.default_sender": "bench <bench@example.org>",
        },
    )
    config = Configurator(registry=app.registry)
    config.register_service(clock, IClock)
    config.commit()
    return app


def client(app):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})


def timed(step) -> float:
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1000


def submit(browser, path: str, form_id: str, status="*", **fields):
    form = browser.get(path).forms[form_id]
    for name, value in fields.items():
        form[name] = value
    return lambda: form.submit(status=status)


def register(app, login: str, email: str) -> None:
    step = submit(
        client(app),
        "/register",
        "register-form",
        login=login,
        email=email,
        password=PASSWORD,
        password_confirm=PASSWORD,
    )
    step()


def confirm(app, maildir: Path, login: str) -> None:
    import re

    browser = client(app)
    submit(browser, "/login", "login-form", login=login, password=PASSWORD)()
    text = sorted((maildir / "new").iterdir(), key=lambda p: p.stat().st_mtime_ns)
    code = re.search(r"Code:\s+(\d+)", text[-1].read_text()).group(1)
    submit(browser, "/confirm-email", "code-form", code=code)()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        app = make_app(directory, clock)
        register(app, "ada", "ada@example.org")
        confirm(app, directory / "mail", "ada")
        register(app, "locked", "locked@example.org")
        confirm(app, directory / "mail", "locked")

        def reset(name: str):
            return submit(client(app), "/reset-password", "reset-form", login=name)

        def wrong_code(name: str):
            browser = client(app)
            submit(browser, "/reset-password", "reset-form", login=name)()
            return submit(
                browser,
                "/new-password",
                "new-password-form",
                code="000000",
                password=NEW_PASSWORD,
                password_confirm=NEW_PASSWORD,
            )

        def sign_in(name: str, password: str = PASSWORD):
            return submit(
                client(app), "/login", "login-form", login=name, password=password
            )

        serial = iter(range(10**6))

        def registration(email: str):
            n = next(serial)
            return submit(
                client(app),
                "/register",
                "register-form",
                login=f"bench{n}",
                email=email.format(n=n),
                password=PASSWORD,
                password_confirm=PASSWORD,
            )

        def lock(name: str) -> None:
            for _ in range(5):
                sign_in(name, "wrong password entirely")()

        # Each case makes a fresh step (a page fetched, a form filled) and
        # only the step's submission is timed.
        pairs = [
            ("Reset asked", lambda: reset("ada"), lambda: reset("nobody")),
            (
                "Wrong reset code",
                lambda: wrong_code("ada"),
                lambda: wrong_code("nobody"),
            ),
            (
                "Sign-in, locked account vs unknown name",
                lambda: sign_in("locked"),
                lambda: sign_in("nobody"),
            ),
            (
                "Registration, taken vs new address",
                lambda: registration("ada@example.org"),
                lambda: registration("new{n}@example.org"),
            ),
        ]
        rows = []
        for title, account, nobody in pairs:
            times: dict[str, list[float]] = {"account": [], "nobody": []}
            locking = title.startswith("Sign-in")
            if locking:
                lock("locked")
            for _ in range(args.runs):
                if not locking:
                    # Past every cool-down; a locked account stays locked.
                    clock.now += timedelta(minutes=2)
                for which, make in (("account", account), ("nobody", nobody)):
                    times[which].append(timed(make()))
            a = statistics.median(times["account"])
            b = statistics.median(times["nobody"])
            rows.append(f"| {title} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
            print(rows[-1], flush=True)
        app.registry._zodb_databases[""].close()
    replace_section(
        HERE.parent / "BENCHMARKS.md",
        "Answers that must not tell whether an account exists",
        [
            "Written by `.venv/bin/python bench/enumeration.py` (in process, "
            "FileStorage, production password hashing: argon2id t=3, 64 MiB, "
            f"p=4). Medians of {args.runs} alternating runs, ms. Run "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC at {revision()}; "
            f"{platform.machine()}, Python "
            f"{platform.python_version()}, a machine shared with other work.",
            "",
            "| steps | an account | nobody | ratio |",
            "|---|---:|---:|---:|",
            *rows,
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
