"""Opening the application from a console script."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyramid.paster import get_app, setup_logging
from pyramid.scripting import prepare
from pyramid_zodbconn import get_connection

from ..interfaces import IClock
from ..resources import ROOT_KEY


@dataclass
class ScriptEnv:
    registry: Any
    db: Any
    conn: Any
    tm: Any
    request: Any

    @property
    def root(self) -> Any:
        return self.conn.root()[ROOT_KEY]

    def now(self) -> datetime:
        return self.service(IClock)()

    def service(self, iface: Any) -> Any:
        """The app's service for ``iface``, as a request would find it."""
        return self.request.find_service(iface)


@contextmanager
def open_app(config_uri: str) -> Iterator[ScriptEnv]:
    setup_logging(config_uri)
    app = get_app(config_uri)
    registry = app.registry
    db = registry._zodb_databases[""]
    env = prepare(registry=registry)
    request = env["request"]
    # Services built per request (codes, accounts) find the tree here.
    request.root = env["root"]
    # prepare() found the root in a transaction of the request's own manager
    # (see root_factory); the command begins its own transactions on it.
    tm = request.tm
    tm.abort()
    conn = get_connection(request)
    try:
        yield ScriptEnv(registry=registry, db=db, conn=conn, tm=tm, request=request)
    finally:
        env["closer"]()
        db.close()
