"""Requests that collide: wait a little, try again, and say so quietly.

pyramid_retry runs a request again when it fails with a retryable error,
such as a ZODB ConflictError: two requests changed the same object at
once. Before each new attempt the request waits a random time that doubles
with each attempt (``retry.jitter_ms`` at most the first time), so that
requests which collided do not collide again in step. A retry is routine:
it is logged at INFO, without a traceback. A conflict that outlasts the
retries is answered 503 (see :mod:`wingapp.views.errors`).

A database server that went away for a moment (PostgreSQL restarted, a
failover, ZEO's server restarted) is treated the same way: the request that
was using the old connection fails, and its next attempt starts on a new
one, since RelStorage and ZEO reconnect at the start of a transaction. If
the server is still gone when the attempts run out, the answer is a 503.

No wait is longer than ``retry.max_wait_ms``: under a crowd a request may
need several attempts, and waits that went on doubling would keep it
longer than the conflicts do; eight attempts at most 2 s of waits in all
also outlast a database server's restart.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import psycopg2
from pyramid.events import ApplicationCreated
from pyramid_retry import IBeforeRetry, mark_error_retryable
from relstorage.adapters.interfaces import ReplicaClosedException
from relstorage.storage.interfaces import StorageDisconnectedDuringCommit
from ZEO.Exceptions import ClientDisconnected
from ZODB.Connection import Connection

from .settings import group, whole_number

log = logging.getLogger(__name__)

RETRY = group(
    "retry",
    # Long enough to let the request that won commit; short enough that
    # the waits of five attempts (at most 50 + 100 + 200 + 400 ms) stay
    # under a second.
    whole_number("retry.jitter_ms", 50, 0, 1000),
    whole_number("retry.max_wait_ms", 400, 0, 5000),
)


UNAVAILABLE: tuple[type[Exception], ...] = (
    # The server closed the connection (a restart, pg_terminate_backend),
    # refused a new one (starting up, shutting down, too many clients), or
    # the network dropped it. RelStorage counts the same errors as a
    # disconnection.
    psycopg2.OperationalError,
    # A connection closed earlier in this transaction was used again.
    psycopg2.InterfaceError,
    ReplicaClosedException,
    # These two are transient errors already; listed so that they get the
    # "database unavailable" answer rather than the "busy" one.
    StorageDisconnectedDuringCommit,
    ClientDisconnected,
)
"""What the storages raise when their database server is not there."""


class PauseBeforeRetry:
    """The ``IBeforeRetry`` subscriber: log the retry, then wait."""

    def __init__(
        self,
        jitter: float,
        longest: float,
        sleep: Callable[[float], None] = time.sleep,
        uniform: Callable[[float, float], float] | None = None,
    ) -> None:
        self.jitter = jitter
        """The longest wait before the second attempt, in seconds."""
        self.longest = longest
        """The longest wait before any attempt, in seconds."""
        self.sleep = sleep
        self.uniform = uniform or secrets.SystemRandom().uniform

    def __call__(self, event: Any) -> None:
        request = event.request
        attempt = request.environ["retry.attempt"] + 1
        log.info(
            "%s on %s %s, attempt %d of %d; trying again: %s",
            type(event.exception).__name__,
            request.method,
            request.path,
            attempt,
            request.environ["retry.attempts"],
            event.exception,
        )
        if self.jitter:
            bound = min(self.longest, self.jitter * 2 ** (attempt - 1))
            self.sleep(self.uniform(0, bound))


class ClosedIfOpeningFails(Connection):
    """A ZODB connection that closes itself again when opening it fails.

    Opening a connection inside a transaction syncs it with the storage,
    which fails while the database server is gone. By then the database
    counts the connection as open, yet nobody holds it to close it (the
    request never got it): each failed attempt of an outage would leave one
    behind, the database would warn of them at every later open, and it
    could not be closed at shutdown.
    """

    def open(self, transaction_manager: Any = None, delegate: bool = True) -> None:
        try:
            super().open(transaction_manager, delegate)
        except Exception:
            self.close()
            raise


def close_failed_openings(event: Any) -> None:
    """At start-up: every database of the app opens such connections."""
    databases = getattr(event.app.registry, "_zodb_databases", {})
    for db in databases.values():
        db.klass = ClosedIfOpeningFails
        # The database made one while it was created (to find its root);
        # it waits in the pool to be opened again.
        for conn in list(db.pool.all):
            conn.__class__ = ClosedIfOpeningFails


def includeme(config: Any) -> None:
    values = config.add_settings_schema(RETRY)
    pause = PauseBeforeRetry(
        values["retry.jitter_ms"] / 1000, values["retry.max_wait_ms"] / 1000
    )
    config.add_subscriber(pause, IBeforeRetry)
    for error in UNAVAILABLE:
        # pyramid_retry runs a request again only for the errors marked so
        # (pyramid_tm marks every TransientError); a lost connection is
        # as worth another attempt as a conflict.
        mark_error_retryable(error)
    config.add_subscriber(close_failed_openings, ApplicationCreated)
