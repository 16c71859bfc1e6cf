"""Fixtures shared by every test: a throwaway database and secrets."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import transaction
import webtest
from pyramid import testing
from pyramid.config import Configurator

from tests.ini import LOGGING
from wingapp import main
from wingapp.interfaces import IClock
from wingapp.keys import KeyPaths, ensure_keys, load_keyring

# OWASP's minimum argon2id parameters: the lower bound SECURITY.md allows,
# and quick enough to hash a few hundred times in a test run.
FAST_HASHING = {
    "passwords.argon2_time_cost": "2",
    "passwords.argon2_memory_cost": "19456",
    "passwords.argon2_parallelism": "1",
}


@pytest.fixture(autouse=True)
def keep_umask() -> Iterator[None]:
    """main() gives the process umask 077, as a server should; a test must
    not leave it to the tests after it, whose files Apache (another user)
    must read."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield
    os.umask(saved)


@pytest.fixture
def key_paths(tmp_path: Path) -> KeyPaths:
    paths = KeyPaths(
        session_secret=tmp_path / "secrets" / "session_secret",
        encryption_keys=tmp_path / "secrets" / "encryption_keys",
        index_key=tmp_path / "secrets" / "index_key",
    )
    ensure_keys(paths)
    return paths


@pytest.fixture
def keyring(key_paths: KeyPaths) -> Any:
    return load_keyring(key_paths)


@pytest.fixture
def zodb_uri() -> str:
    return "memory://"


@pytest.fixture
def settings(tmp_path: Path, key_paths: KeyPaths, zodb_uri: str) -> dict[str, str]:
    return {
        "zodbconn.uri": zodb_uri,
        "wingapp.session_secret_file": str(key_paths.session_secret),
        "wingapp.encryption_keys_file": str(key_paths.encryption_keys),
        "wingapp.index_key_file": str(key_paths.index_key),
        "session.secure_cookie": "false",
        # The host the test client names (WebTest's own default is localhost).
        "wingapp.public_url": "http://example.com",
        "wingapp.allowed_hosts": "example.com localhost",
        "mail.transport": "maildir",
        "mail.maildir": str(tmp_path / "mail"),
        "mail.default_sender": "wingapp <wingapp@example.org>",
        **FAST_HASHING,
    }


@pytest.fixture
def app(settings: dict[str, str]) -> Iterator[Any]:
    wsgi_app = main({}, **settings)
    yield wsgi_app
    for db in wsgi_app.registry._zodb_databases.values():
        db.close()


@pytest.fixture
def testapp(app: Any) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})


@pytest.fixture
def db(app: Any) -> Any:
    return app.registry._zodb_databases[""]


@pytest.fixture
def tm() -> transaction.TransactionManager:
    return transaction.TransactionManager(explicit=True)


@pytest.fixture
def dbroot(db: Any, tm: Any) -> Iterator[Any]:
    """The application root, in a connection of the test's own.

    Tests begin and commit with ``tm`` around whatever they change.
    """
    conn = db.open(transaction_manager=tm)
    yield lambda: conn.root()["wingapp"]
    with contextlib.suppress(transaction.interfaces.NoTransaction):
        tm.abort()
    conn.close()


@pytest.fixture
def clock(app: Any) -> Any:
    """The app's clock, moved by hand (``clock.advance(minutes=10)``)."""
    from tests.accounts import Clock

    clock = Clock()
    use_service(app.registry, clock, IClock)
    return clock


def use_service(registry: Any, service: Any, iface: Any) -> None:
    """Put ``service`` in the app's place for ``iface``, as a test double."""
    config = Configurator(registry=registry)
    config.register_service(service, iface)
    config.commit()


@pytest.fixture
def maildir(settings: dict[str, str]) -> Path:
    """Where the development mail transport writes each message."""
    return Path(settings["mail.maildir"])


@pytest.fixture
def config(app: Any) -> Iterator[Any]:
    """A configurator over the real app's registry, for unit tests of views."""
    with testing.testConfig(registry=app.registry) as cfg:
        yield cfg


def write_ini(path: Path, settings: dict[str, str], port: int = 6543) -> Path:
    """An ini file like development.ini, with the test's own settings."""
    lines = ["[app:main]", "use = egg:wingapp"]
    # Served for real: mail links lead to this server, asked for by address.
    settings = {
        **settings,
        "wingapp.public_url": f"http://127.0.0.1:{port}",
        "wingapp.allowed_hosts": "127.0.0.1 localhost example.com",
    }
    lines += [f"{k} = {v}" for k, v in settings.items()]
    lines += [
        "",
        "[server:main]",
        "use = egg:waitress#main",
        f"listen = 127.0.0.1:{port}",
    ]
    path.write_text("\n".join(lines) + "\n" + LOGGING)
    return path


@pytest.fixture
def quiet_settings(settings: dict[str, str]) -> dict[str, str]:
    """Settings whose retries do not wait: for tests that make conflicts."""
    return {**settings, "retry.jitter_ms": "0"}


@pytest.fixture
def file_settings(settings: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Settings with a FileStorage, for tests that need a second process or
    the bytes of the database file."""
    return {**settings, "zodbconn.uri": f"file://{tmp_path}/Data.fs"}


@pytest.fixture
def ini_file(tmp_path: Path, file_settings: dict[str, str]) -> Path:
    return write_ini(tmp_path / "test.ini", file_settings)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger back after a test that loads an ini's logging
    configuration (every command and the WSGI entry point do)."""
    import logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers[:], root.level = saved
