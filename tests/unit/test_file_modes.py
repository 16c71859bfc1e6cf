"""The database's files are this user's only: ``wingapp init`` makes the
folder 0700, and the app's umask makes Data.fs, its index, lock and blobs
0600 (issue 9, item 11)."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import transaction
from ZODB.blob import Blob

from tests.accounts import add_user
from tests.conftest import write_ini
from wingapp import main
from wingapp.scripts import cli, setup


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that leaves files readable by all, as a login shell's does;
    the process's own put back afterwards."""
    saved = os.umask(0o022)
    yield
    os.umask(saved)


@pytest.fixture
def var(tmp_path: Path) -> Path:
    return tmp_path / "site" / "var"


@pytest.fixture
def site_settings(settings: dict[str, str], var: Path) -> dict[str, str]:
    uri = f"file://{var}/Data.fs?blobstorage_dir={var}/blobs"
    return {**settings, "zodbconn.uri": uri, "mail.maildir": str(var / "mail")}


def init(ini: Path) -> str:
    out = io.StringIO()
    code = cli.main([str(ini), "init"], stdin=io.StringIO(), stdout=out)
    assert code == 0, out.getvalue()
    return out.getvalue()


def test_init_makes_the_database_folder_0700(
    tmp_path, site_settings, var, open_umask, restore_logging
):
    init(write_ini(tmp_path / "site.ini", site_settings))
    assert mode(var) == 0o700
    assert mode(var / "Data.fs") == 0o600
    assert mode(var / "Data.fs.index") == 0o600


def test_init_leaves_an_existing_folder_as_it_is(
    tmp_path, site_settings, var, open_umask, restore_logging
):
    var.mkdir(parents=True, mode=0o750)
    init(write_ini(tmp_path / "site.ini", site_settings))
    assert mode(var) == 0o750


def test_the_apps_database_files_are_0600(site_settings, var, open_umask):
    var.mkdir(parents=True, mode=0o700)
    app = main({}, **site_settings)
    db = app.registry._zodb_databases[""]
    try:
        assert mode(var / "Data.fs") == 0o600
        assert mode(var / "Data.fs.lock") == 0o600
        tm = transaction.TransactionManager(explicit=True)
        conn = db.open(transaction_manager=tm)
        with tm:
            blob = conn.root()["blob"] = Blob()
            with blob.open("w") as f:
                f.write(b"account data")
        with tm:
            committed = Path(blob.committed())
        conn.close()
    finally:
        db.close()
    assert mode(var / "Data.fs.index") == 0o600
    assert mode(committed) & 0o077 == 0
    assert all(mode(p) & 0o077 == 0 for p in (var / "blobs").rglob("*"))


def test_mail_still_works_under_that_umask(app, testapp, maildir, open_umask):
    # The app (created before open_umask) set its umask; put it back.
    os.umask(0o077)
    add_user(app, "ada")
    form = testapp.get("/reset-password").forms["reset-form"]
    form["login"] = "ada"
    form.submit(status=303)
    sent = list((maildir / "new").iterdir())
    assert sent and all(mode(p) == 0o600 for p in sent)
    assert "ada" in sent[0].read_text()


@pytest.mark.parametrize(
    ("uri", "folder"),
    [
        ("file:///srv/site/var/Data.fs?connection_cache_size=20000", "/srv/site/var"),
        ("memory://", None),
        ("zeo://localhost:8100", None),
    ],
)
def test_the_database_folder_comes_from_a_file_uri(uri, folder):
    found = setup.database_folder({"zodbconn.uri": uri})
    assert found == (None if folder is None else Path(folder))
