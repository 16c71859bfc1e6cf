"""``wingapp CONFIG pack [--days N]``: drop old revisions and garbage.

ZODB appends; nothing is removed until the storage is packed. A pack keeps
the current state of every object reachable from the root plus, in a
history-preserving storage, the revisions of the last N days (what undo
and point-in-time reads can use). Rotating the encryption keys needs a
pack afterwards so that no old revision keeps data under a retired key.

The storage is opened from the ini's ``zodbconn.uri`` (and any named
``zodbconn.uri.NAME``) exactly as the app opens it, but without loading the
app: a nightly cron job needs no secrets. A FileStorage is locked by the
one process that has it open, so it is packed while the server is stopped;
through ZEO or on RelStorage it is packed while the site runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from pyramid.paster import get_appsettings, setup_logging
from pyramid_zodbconn import db_from_uri, get_uris
from zc.lockfile import LockError

from .env import locked_database
from .errors import CommandError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "pack",
        help="remove old object revisions and unreachable objects",
        description="Packs every database the ini names. RelStorage can be "
        "packed while the site runs; a FileStorage only while it is stopped.",
    )
    p.add_argument(
        "--days",
        type=days_of_history,
        default=0.0,
        help="days of history to keep (default 0: only the current state)",
    )
    p.set_defaults(run=run_pack)


def days_of_history(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not 0 <= days < 100_000:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of days (0 or more)"
        )
    return days


def open_databases(config_uri: str) -> dict[str, Any]:
    """Every database of the ini, by name ('' for the main one)."""
    uris = list(get_uris(get_appsettings(config_uri)))
    if not uris:
        raise CommandError(
            f"{config_uri} sets no zodbconn.uri: there is nothing to pack."
        )
    databases: dict[str, Any] = {}
    try:
        for name, uri in uris:
            # db_from_uri adds each database to the shared map itself.
            db_from_uri(uri, name, databases)
    except LockError as e:
        close_all(databases)
        raise locked_database(e) from None
    return databases


def close_all(databases: dict[str, Any]) -> None:
    for db in databases.values():
        db.close()


def run_pack(args: Any, stdin: Any, stdout: Any) -> int:
    setup_logging(args.config_uri)
    databases = open_databases(args.config_uri)
    try:
        for name, db in databases.items():
            db.pack(days=args.days)
            kept = (
                f"kept {args.days:g} days of history"
                if getattr(db.storage, "keep_history", True)
                else "history-free: removed unreachable objects"
            )
            print(
                f"Packed the {name or 'main'} database "
                f"({type(db.storage).__name__}): {kept}.",
                file=stdout,
            )
    finally:
        close_all(databases)
    return 0
