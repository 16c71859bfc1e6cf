"""Backups that come back: repozo for a FileStorage (full, incremental,
point in time) and pg_dump/pg_restore for RelStorage on PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import write_ini

from .postgres import client_args, fresh_database, uri
from .servers import BIN, run, verified_users

pytestmark = pytest.mark.integration

ALICE = "violet harbour lantern seventeen"
BOB = "copper meadow whistle ninety-one"
BOTH = {"alice": ALICE, "bob": BOB}


def add_user(ini: Path, login: str, password: str) -> None:
    run(
        [BIN / "wingapp", ini, "add-user", login, "--email", f"{login}@example.org"],
        input=password + "\n",
    )


def with_database(settings: dict, tmp_path: Path, name: str, zodb_uri: str) -> Path:
    return write_ini(tmp_path / f"{name}.ini", {**settings, "zodbconn.uri": zodb_uri})


def test_repozo_full_incremental_and_point_in_time(tmp_path, settings):
    data_fs = tmp_path / "Data.fs"
    ini = with_database(settings, tmp_path, "site", f"file://{data_fs}")
    run([BIN / "wingapp", ini, "init"])
    add_user(ini, "alice", ALICE)
    backups = tmp_path / "backups"
    backups.mkdir()

    run([BIN / "repozo", "-B", "-F", "-z", "-r", backups, "-f", data_fs])
    (full,) = backups.glob("*.fsz")
    # repozo names backups by the second; the next one must be later.
    time.sleep(1.1)
    add_user(ini, "bob", BOB)
    run([BIN / "repozo", "-B", "-z", "-r", backups, "-f", data_fs])
    assert len(list(backups.glob("*.deltafsz"))) == 1
    run([BIN / "repozo", "-V", "-r", backups])

    restored = tmp_path / "restored" / "Data.fs"
    restored.parent.mkdir()
    run([BIN / "repozo", "-R", "-r", backups, "-o", restored])
    latest = with_database(settings, tmp_path, "restored", f"file://{restored}")
    assert verified_users(latest, BOTH) == {"alice": True, "bob": True}

    before_bob = tmp_path / "before-bob" / "Data.fs"
    before_bob.parent.mkdir()
    run([BIN / "repozo", "-R", "-r", backups, "-D", full.stem, "-o", before_bob])
    earlier = with_database(settings, tmp_path, "earlier", f"file://{before_bob}")
    assert verified_users(earlier, BOTH) == {"alice": True, "bob": False}


def test_pg_dump_and_restore_into_a_fresh_database(tmp_path, settings):
    dump = tmp_path / "wingapp.pgdump"
    with fresh_database() as original:
        ini = with_database(settings, tmp_path, "original", uri(original))
        run([BIN / "wingapp", ini, "init"])
        add_user(ini, "alice", ALICE)
        add_user(ini, "bob", BOB)
        run(["pg_dump", "--format=custom", "--file", dump, *client_args(original)])

    with fresh_database() as copy:
        run(["pg_restore", "--no-owner", "--exit-on-error", *client_args(copy), dump])
        ini = with_database(settings, tmp_path, "copy", uri(copy))
        assert verified_users(ini, BOTH) == {"alice": True, "bob": True}
