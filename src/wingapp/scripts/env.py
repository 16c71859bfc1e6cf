"""Opening the application from a console script."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyramid.paster import get_app, setup_logging
from pyramid.scripting import prepare
from pyramid_zodbconn import get_connection
from zc.lockfile import LockError
from ZEO.Exceptions import ClientDisconnected

from .. import resources
from ..interfaces import IClock
from ..resources import DATA_BEHIND, ROOT_KEY
from .errors import CommandError


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


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` as the operator would type it: relative when it is below the
    working directory (``var/Data.fs`` for ``make run``), else absolute."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def locked_database(error: LockError) -> CommandError:
    """The one line a command gives when a server holds the FileStorage."""
    # zc.lockfile names the lock file, "Couldn't lock '/srv/var/Data.fs.lock'".
    found = re.search(r"lock '(.+)\.lock'", str(error))
    path = shown_path(found.group(1)) if found else "It"
    return CommandError(
        f"The database file is locked: a server has it open. {path} belongs to "
        "one process at a time: stop the server, or share the database "
        'through ZEO or RelStorage (README, "ZEO for development").'
    )


def not_behind(record: logging.LogRecord) -> bool:
    """A log filter: False for the start-up's "data is behind" warning."""
    return not getattr(record, DATA_BEHIND, False)


@contextmanager
def open_app(config_uri: str, evolving: bool = False) -> Iterator[ScriptEnv]:
    """The application of ``config_uri``, for one command. ``evolving``:
    the command brings the data forward, so the start-up's advice to do
    that is not shown."""
    setup_logging(config_uri)
    resources_log = logging.getLogger(resources.__name__)
    if evolving:
        resources_log.addFilter(not_behind)
    try:
        app = get_app(config_uri)
    except LockError as e:
        raise locked_database(e) from None
    except ClientDisconnected:
        raise CommandError(
            f"No ZEO server answers at the zodbconn.uri of {config_uri}: "
            "start it (`make zeo`) and try again."
        ) from None
    finally:
        resources_log.removeFilter(not_behind)
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
