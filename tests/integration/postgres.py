"""A throwaway PostgreSQL database for each test that needs one.

The server is the one tools/system-packages.sh installs and starts
(127.0.0.1:5432, trust authentication for the postgres user). Each test
gets a database named wingapp_test_<random> and drops it afterwards, so
runs never see each other's data and can run side by side.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from urllib.parse import urlencode

from .servers import require

HOST = os.environ.get("WINGAPP_TEST_PGHOST", "127.0.0.1")
PORT = os.environ.get("WINGAPP_TEST_PGPORT", "5432")
USER = os.environ.get("WINGAPP_TEST_PGUSER", "postgres")
TOOLS = ("psql", "pg_dump", "pg_restore")


def connect(dbname: str = "postgres"):
    import psycopg2

    conn = psycopg2.connect(dbname=dbname, user=USER, host=HOST, port=PORT)
    conn.autocommit = True  # CREATE/DROP DATABASE refuse to run in a transaction
    return conn


def require_postgres() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    require(not missing, f"PostgreSQL client tools missing: {', '.join(missing)}")
    try:
        connect().close()
    except Exception as e:
        require(False, f"PostgreSQL does not answer at {HOST}:{PORT}: {e}")


def execute(sql: str) -> None:
    conn = connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


@contextlib.contextmanager
def fresh_database(prefix: str = "wingapp_test") -> Iterator[str]:
    """An empty database for the block; dropped afterwards even if servers
    still hold connections to it."""
    require_postgres()
    name = f"{prefix}_{secrets.token_hex(5)}"
    execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def uri(name: str, **options: str) -> str:
    """The zodburi URI of RelStorage in database ``name``."""
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{USER}@{HOST}:{PORT}/{name}{query}"


def dsn(name: str) -> str:
    """The libpq connection string, as a ZConfig <postgresql> section takes it."""
    return f"dbname='{name}' user='{USER}' host='{HOST}' port='{PORT}'"


def client_args(name: str) -> list[str]:
    """Connection arguments for psql, pg_dump and pg_restore."""
    return ["-h", HOST, "-p", PORT, "-U", USER, "-d", name]
