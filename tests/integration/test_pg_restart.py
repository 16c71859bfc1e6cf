"""PostgreSQL going away under the app, on the real server: the app's
connections are ended from a second connection (as a restart ends them),
and the database refuses new ones for a while (as while it starts up).
Requests in flight are tried again on a new connection; while the database
refuses, the answer is 503, never 500; once it accepts again, the same app
serves the next request without being restarted. (bench/endurance_pg_restart.py
restarts a whole PostgreSQL server under a crowd.)"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import webtest
from pyramid.config import Configurator
from pyramid_zodbconn import get_connection

from wingapp import main
from wingapp.interfaces import IRoot

from .postgres import connect, fresh_database, uri

pytestmark = pytest.mark.integration


def end_connections(database: str) -> int:
    """End every connection to ``database`` but this one, as
    ``pg_ctl restart`` or an administrator's pg_terminate_backend does."""
    conn = connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
            return cursor.rowcount
    finally:
        conn.close()


@contextlib.contextmanager
def refusing(database: str) -> Iterator[None]:
    """The database refuses every new connection (superusers included) and
    has none open, until the block ends."""
    conn = connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        end_connections(database)
        yield
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        conn.close()


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_database() as name:
        yield name


@pytest.fixture
def app(quiet_settings: dict[str, str], database: str) -> Iterator[Any]:
    wsgi_app = main(
        {},
        **{
            **quiet_settings,
            # Without RelStorage's cache every read reaches PostgreSQL, so
            # a request holds its connection from its first read on.
            "zodbconn.uri": uri(database, cache_local_mb="0"),
        },
    )
    yield wsgi_app
    for db in wsgi_app.registry._zodb_databases.values():
        # A ZODB connection whose opening failed (PostgreSQL refused it)
        # was never handed to its request, which would have closed it.
        for conn in list(db.pool.all):
            if conn.opened:
                conn.close()
        db.close()


def app_errors(caplog: Any) -> list[str]:
    """What the app logged at ERROR or worse (RelStorage logs its own
    failed reconnections at ERROR, and ZODB counts the connections that
    failed to open)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith("wingapp")
    ]


def add_view(app: Any, name: str, view: Any) -> None:
    config = Configurator(registry=app.registry)
    config.add_view(view, context=IRoot, name=name, renderer="string")
    config.commit()


def test_a_request_whose_connection_is_ended_in_flight_is_served(app, database, caplog):
    attempts = []

    def in_flight(context: Any, request: Any) -> str:
        attempts.append(request.environ["retry.attempt"])
        if len(attempts) == 1:
            # The request has read the root from PostgreSQL; its connection
            # now goes, and what it reads next is not in memory.
            assert end_connections(database) >= 1
            get_connection(request).cacheMinimize()
        return f"{context.title} after {len(attempts)} attempts"

    add_view(app, "in-flight", in_flight)
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    assert client.get("/").status_int == 200
    caplog.set_level(logging.INFO)
    assert client.get("/in-flight").text == "wingapp after 2 attempts"
    assert attempts == [0, 1]
    assert app_errors(caplog) == []
    retries = [r.getMessage() for r in caplog.records if r.name == "wingapp.retry"]
    assert len(retries) == 1
    assert retries[0].startswith("OperationalError on GET /in-flight, attempt 1 of 8")


def test_while_the_database_refuses_503_then_served_without_a_restart(
    app, database, caplog
):
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    assert client.get("/").status_int == 200
    with refusing(database):
        for path in ("/", "/login", "/users/alice/"):
            page = client.get(path, status=503)
            assert "Service unavailable" in page.text
            assert page.headers["Retry-After"] == "5"
        data = client.get("/", headers={"Accept": "application/json"}, status=503)
        assert data.json["error"] == "Service unavailable"
    assert app_errors(caplog) == []
    home = client.get("/")
    assert home.status_int == 200
    assert "<h1>wingapp</h1>" in home.text
    assert client.get("/login").status_int == 200
