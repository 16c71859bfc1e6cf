"""``wingapp CONFIG pack``: FileStorage, and RelStorage (on SQLite here;
on PostgreSQL in tests/integration/test_relstorage.py)."""

from __future__ import annotations

import io

import pytest
import transaction
import zodburi
from ZODB import DB

from tests.conftest import write_ini
from wingapp.scripts import cli


@pytest.fixture(autouse=True)
def _logging(restore_logging):
    # pack applies the ini's logging configuration, as every command does.
    return restore_logging


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def churn(uri: str, times: int = 20) -> None:
    """Write the same object over and over: revisions for pack to drop."""
    factory, dbkw = zodburi.resolve_uri(uri)
    db = DB(factory(), **dbkw)
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    for i in range(times):
        with tm:
            conn.root()["churn"] = "x" * 2000 + str(i)
    conn.close()
    db.close()


def revisions(uri: str) -> int:
    factory, dbkw = zodburi.resolve_uri(uri)
    db = DB(factory(), **dbkw)
    try:
        # The storage's own method: DB.history passes size positionally,
        # which RelStorage takes for the (long gone) version argument.
        return len(db.storage.history(b"\0" * 8, size=1000))
    finally:
        db.close()


def test_pack_keeps_only_current_state_by_default(tmp_path, file_settings):
    ini = write_ini(tmp_path / "pack.ini", file_settings)
    uri = file_settings["zodbconn.uri"]
    churn(uri)
    assert revisions(uri) == 21
    size = (tmp_path / "Data.fs").stat().st_size

    code, out, _ = run(str(ini), "pack")

    assert code == 0
    assert out == "Packed the main database (FileStorage): kept 0 days of history.\n"
    assert revisions(uri) == 1
    assert (tmp_path / "Data.fs").stat().st_size < size / 5


def test_pack_keeps_the_days_asked_for(tmp_path, file_settings):
    ini = write_ini(tmp_path / "pack.ini", file_settings)
    uri = file_settings["zodbconn.uri"]
    churn(uri)

    code, out, _ = run(str(ini), "pack", "--days", "1.5")

    assert code == 0
    assert "kept 1.5 days of history" in out
    assert revisions(uri) == 21


def test_pack_history_free_relstorage_and_every_named_database(tmp_path, settings):
    uri = f"sqlite://?data_dir={tmp_path / 'sqlite'}&keep_history=false"
    settings = {
        **settings,
        "zodbconn.uri": uri,
        "zodbconn.uri.archive": f"file://{tmp_path}/Archive.fs",
    }
    churn(uri)
    ini = write_ini(tmp_path / "pack.ini", settings)

    code, out, _ = run(str(ini), "pack")

    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(
        "Packed the main database (RelStorage): history-free: removed unreachable"
    )
    assert lines[1].startswith("Packed the archive database (FileStorage): kept 0 days")


def test_pack_refuses_a_filestorage_a_server_has_open(tmp_path, file_settings):
    ini = write_ini(tmp_path / "pack.ini", file_settings)
    factory, dbkw = zodburi.resolve_uri(file_settings["zodbconn.uri"])
    db = DB(factory(), **dbkw)
    try:
        code, out, err = run(str(ini), "pack")
    finally:
        db.close()
    assert code == 2
    assert out == ""
    assert "The database file is locked: a server has it open." in err


def test_pack_needs_a_database(tmp_path, settings):
    del settings["zodbconn.uri"]
    ini = write_ini(tmp_path / "pack.ini", settings)
    code, _, err = run(str(ini), "pack")
    assert code == 2
    assert "sets no zodbconn.uri: there is nothing to pack" in err


@pytest.mark.parametrize("days", ["-1", "soon", "nan", "inf"])
def test_pack_days_must_be_a_number_of_days(tmp_path, ini_file, days, capsys):
    with pytest.raises(SystemExit) as exit_:
        run(str(ini_file), "pack", "--days", days)
    assert exit_.value.code == 2
    assert "is not a number of days" in capsys.readouterr().err
