"""A database server that goes away: the request is tried again on a new
connection, a 503 (never a 500) if the server stays away for every
attempt, and the next request after it is back is served as usual."""

from __future__ import annotations

import logging
from typing import Any

import psycopg2
import pytest
import webtest
from pyramid.config import Configurator
from pyramid_zodbconn import get_connection
from relstorage.adapters.interfaces import ReplicaClosedException
from relstorage.storage.interfaces import StorageDisconnectedDuringCommit
from ZEO.Exceptions import ClientDisconnected

from tests.unit.test_concurrency import app_with
from wingapp.interfaces import IRoot
from wingapp.retry import UNAVAILABLE

RESTARTING = "terminating connection due to administrator command\nSSL SYSCALL"


class Outage:
    """The storage under the app's database fails every read, as when
    the server behind it has gone, until it is back."""

    def __init__(self, app: Any) -> None:
        self.storage = app.registry._zodb_databases[""].storage
        self.reads = 0

    def begin(self) -> None:
        def gone(*args: Any) -> Any:
            self.reads += 1
            raise psycopg2.OperationalError(RESTARTING)

        self.storage.loadBefore = gone
        self.storage.load = gone

    def end(self) -> None:
        del self.storage.loadBefore
        del self.storage.load


def test_the_server_gone_for_every_attempt_is_a_503_outside_the_layout(
    quiet_settings, caplog
):
    app = app_with(quiet_settings)
    outage = Outage(app)
    attempts = []

    def restart(context: Any, request: Any) -> str:
        attempts.append(request.environ["retry.attempt"])
        outage.begin()
        # Nothing of the tree is left in memory: the error page would have
        # to read the database to draw the layout (who is signed in, the
        # navigation), and cannot.
        get_connection(request).cacheMinimize()
        raise psycopg2.OperationalError(RESTARTING)

    config = Configurator(registry=app.registry)
    config.add_view(restart, context=IRoot, name="restart", renderer="string")
    config.commit()
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    client.get("/")  # the tree as the first page reads it
    caplog.set_level(logging.INFO)

    page = client.get("/restart", status=503)
    # The first attempt failed in the view; the seven after it could not
    # even read the root.
    assert attempts == [0]
    assert outage.reads >= 7
    assert page.headers["Retry-After"] == "5"
    assert page.content_type == "text/html"
    assert '<h1 id="error-title">Service unavailable</h1>' in page.text
    assert "The database is not answering right now" in page.text
    assert 'href="http://example.com/static/css/wingapp.css' in page.text
    assert "Traceback" not in page.text and "administrator" not in page.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage() == (
        "OperationalError on GET /restart in each of 8 attempts; answered 503: "
        "terminating connection due to administrator command"
    )
    retries = [r.getMessage() for r in caplog.records if r.name == "wingapp.retry"]
    assert len(retries) == 7
    assert retries[0].startswith("OperationalError on GET /restart, attempt 1 of 8")

    data = client.get("/", headers={"Accept": "application/json"}, status=503)
    assert data.json["status"] == 503
    assert data.json["error"] == "Service unavailable"
    assert data.headers["Retry-After"] == "5"

    # The server is back: the very next request is served, by the same app.
    outage.end()
    home = client.get("/")
    assert home.status_int == 200
    assert "<h1>wingapp</h1>" in home.text
    app.registry._zodb_databases[""].close()


def test_a_connection_lost_in_flight_is_tried_again_and_served(quiet_settings, caplog):
    attempts = []

    def flaky(context: Any, request: Any) -> str:
        attempts.append(request.environ["retry.attempt"])
        if len(attempts) == 1:
            raise psycopg2.InterfaceError("connection already closed")
        return f"served by attempt {request.environ['retry.attempt'] + 1}"

    app = app_with(quiet_settings, flaky=flaky)
    caplog.set_level(logging.INFO)
    page = webtest.TestApp(app).get("/flaky")
    assert page.text == "served by attempt 2"
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    (retry,) = [r for r in caplog.records if r.name == "wingapp.retry"]
    assert retry.getMessage().startswith("InterfaceError on GET /flaky, attempt 1")
    app.registry._zodb_databases[""].close()


@pytest.mark.parametrize(
    "error",
    [
        psycopg2.OperationalError("could not connect to server: Connection refused"),
        psycopg2.InterfaceError("connection already closed"),
        ReplicaClosedException("replica closed"),
        StorageDisconnectedDuringCommit("disconnected during commit"),
        ClientDisconnected("ZEO server gone"),
        # What psycopg2 raises while the server shuts down: an
        # OperationalError of its own class.
        psycopg2.errors.AdminShutdown(),
    ],
    ids=type,
)
def test_each_storage_disconnection_is_a_503_never_a_500(quiet_settings, error):
    assert isinstance(error, UNAVAILABLE)

    def gone(context: Any, request: Any) -> str:
        raise error

    app = app_with(quiet_settings, gone=gone)
    page = webtest.TestApp(app).get("/gone", status=503)
    # The database's answer, not the "busy" one of a conflict.
    assert "Service unavailable" in page.text
    assert "Server busy" not in page.text
    assert page.headers["Retry-After"] == "5"
    app.registry._zodb_databases[""].close()


def test_other_database_errors_are_still_server_errors(quiet_settings, caplog):
    """A mistake in a query is a bug to fix, not an outage to wait out:
    no retry, and the error log has it."""
    attempts = []

    def wrong(context: Any, request: Any) -> str:
        attempts.append(request.environ["retry.attempt"])
        raise psycopg2.ProgrammingError("syntax error at or near SELEC")

    app = app_with(quiet_settings, wrong=wrong)
    webtest.TestApp(app).get("/wrong", status=500)
    assert attempts == [0]
    assert any(r.levelno == logging.ERROR for r in caplog.records)
    app.registry._zodb_databases[""].close()


def test_connections_that_could_not_open_are_not_left_open(quiet_settings, caplog):
    """While the server is gone even opening a connection fails (it syncs
    with the storage): none is left counted as open, so none is warned
    about afterwards and the database still closes."""
    app = app_with(quiet_settings)
    db = app.registry._zodb_databases[""]
    client = webtest.TestApp(app)
    client.get("/")
    storage = db.storage

    def gone() -> bytes:
        raise psycopg2.OperationalError("the database system is starting up")

    storage.lastTransaction = gone
    for _ in range(4):
        client.get("/", status=503)
    del storage.lastTransaction
    assert [c for c in db.pool.all if c.opened] == []
    assert client.get("/").status_int == 200
    assert not [r for r in caplog.records if "open connections" in r.getMessage()]
    db.close()
