"""Helpers for tests that go through the account flows."""

from __future__ import annotations

import email.policy
import re
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import transaction
from pyramid.threadlocal import manager
from pyramid_services import find_service_factory

from wingapp.interfaces import IClock, IKeyring
from wingapp.users.interfaces import IPasswordHasher
from wingapp.users.services import create_user

PASSWORD = "violet harbour lantern seventeen"
NEW_PASSWORD = "copper meadow whistle ninety-one"
CODE_LINE = re.compile(r"^Code: (\d{6,12})$", re.MULTILINE)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def service(registry: Any, iface: Any) -> Any:
    """One of the app's services that needs no request (keyring, hasher,
    clock, mailer), found as a request would find it."""
    return find_service_factory(SimpleNamespace(registry=registry), iface)(None, None)


def add_user(
    app: Any,
    login: str,
    email_address: str | None = None,
    password: str = PASSWORD,
    roles: tuple[str, ...] = ("user",),
    confirmed: bool = True,
    registered: bool = False,
) -> None:
    """An account; ``registered``, one that registered itself and has a day
    to confirm its address (until then, not the address's holder)."""
    registry = app.registry
    db = registry._zodb_databases[""]
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    # The folder's ObjectAdded goes to the current registry, as in a
    # request or a console script: the users catalog hears of the account.
    manager.push({"registry": registry, "request": None})
    try:
        with tm:
            create_user(
                conn.root()["wingapp"]["users"],
                login,
                email_address or f"{login}@example.org",
                password,
                hasher=service(registry, IPasswordHasher),
                keyring=service(registry, IKeyring),
                now=service(registry, IClock),
                roles=roles,
                email_confirmed=confirmed and not registered,
                unconfirmed_for=timedelta(hours=24) if registered else None,
            )
    finally:
        manager.pop()
    conn.close()


def browser(app: Any, ip: str = "192.0.2.10", agent: str = "TestBrowser/42") -> Any:
    """A WebTest client that comes from ``ip`` with the browser ``agent``."""
    import webtest

    return webtest.TestApp(
        app,
        extra_environ={
            "HTTP_HOST": "example.com",
            "REMOTE_ADDR": ip,
            "HTTP_USER_AGENT": agent,
        },
    )


def with_root(app: Any, work: Any, commit: bool = False) -> Any:
    """Run ``work(root)`` in a transaction of its own."""
    db = app.registry._zodb_databases[""]
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    try:
        tm.begin()
        result = work(conn.root()["wingapp"])
        if commit:
            tm.commit()
        else:
            tm.abort()
        return result
    finally:
        conn.close()


def messages(maildir: Path) -> list[Message]:
    files = sorted(
        (p for sub in ("new", "cur") for p in (maildir / sub).glob("*") if p.is_file()),
        key=lambda p: p.stat().st_mtime_ns,
    )
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in files
    ]


def body(message: Message) -> str:
    part = message.get_body(("plain",)) if hasattr(message, "get_body") else None
    payload = (part or message).get_payload(decode=True)
    return payload.decode()


def last_code(maildir: Path) -> str:
    found = messages(maildir)
    assert found, "no mail was sent"
    match = CODE_LINE.search(body(found[-1]))
    assert match, "the last mail carries no code"
    return match.group(1)


def sign_in(
    testapp: Any, login: str, password: str = PASSWORD, status: Any = None
) -> Any:
    form = testapp.get("/login").forms["login-form"]
    form["login"] = login
    form["password"] = password
    return form.submit(status=status)


def not_me_link(maildir: Path) -> str:
    """The path of the "this wasn't me" link in the last mail."""
    match = re.search(r"http://example\.com(/not-me\?\S+)", body(messages(maildir)[-1]))
    assert match, "the last mail has no 'this wasn't me' link"
    return match.group(1)


def admin_browser(app: Any, login: str = "root", **client: Any) -> Any:
    """A browser signed in as a new admin ``login`` (with two-step sign-in
    off, as the admin tests set it)."""
    add_user(app, login, roles=("user", "admin"))
    admin = browser(app, **client)
    sign_in(admin, login, status=303)
    return admin
