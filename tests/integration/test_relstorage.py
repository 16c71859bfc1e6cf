"""wingapp on RelStorage and PostgreSQL: production.ini served by pserve,
several processes on one database, pack, a ZConfig file instead of the URI,
and moving a FileStorage over with zodbconvert."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FAST_HASHING, write_ini
from tests.unit.test_ops import churn

from .postgres import connect, dsn, fresh_database, uri
from .servers import (
    BIN,
    REPO,
    Client,
    admin_password,
    free_port,
    production_ini,
    run,
    stop,
    verified_users,
    wait_for_http,
)

pytestmark = pytest.mark.integration

ALICE = "violet harbour lantern seventeen"
BOB = "copper meadow whistle ninety-one"
CAROL = "amber lighthouse pebble forty-two"


@pytest.fixture
def database():
    with fresh_database() as name:
        yield name


def wingapp(ini: Path, *args: str, password: str | None = None) -> str:
    stdin = None if password is None else password + "\n"
    return run([BIN / "wingapp", ini, *args], input=stdin).stdout


def serve(ini: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [BIN / "pserve", ini, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def test_production_ini_on_postgresql(tmp_path, database):
    ini = production_ini(
        tmp_path,
        **{
            "zodbconn.uri": uri(database, keep_history="true"),
            "auth.two_step": "never",
            "mail.transport": "maildir",
            "mail.maildir": str(tmp_path / "var" / "mail"),
            **FAST_HASHING,
        },
    )
    admin = admin_password(wingapp(ini, "init"))
    wingapp(ini, "add-user", "alice", "--email", "alice@example.org", password=ALICE)
    port = free_port()
    # The listen address comes from the command line, not from the file.
    server = serve(ini, f"http_listen=127.0.0.1:{port}")
    base = f"http://127.0.0.1:{port}"
    site = f"https://127.0.0.1:{port}"
    # As a TLS proxy on this host would: waitress trusts 127.0.0.1.
    proxied = {"X-Forwarded-Proto": "https"}
    try:
        wait_for_http(base + "/", process=server)
        alice = Client(base, headers=proxied)
        home = alice.get("/")
        assert home.status == 200
        assert f'href="{site}/static/css/wingapp.css"' in home.text
        assert home.headers["Strict-Transport-Security"].startswith("max-age=")

        refused = alice.sign_in("alice", "not the password at all, no")
        assert 400 <= refused.status < 500
        signed_in = alice.sign_in("alice", ALICE)
        assert signed_in.status == 303
        assert signed_in.location == f"{site}/users/alice/"
        session = [c for c in signed_in.cookies() if c.startswith("wingapp_session=")]
        assert session
        assert all("secure" in c.lower() for c in session)
        page = alice.get("/users/alice/")
        assert page.status == 200
        assert "<h1>alice</h1>" in page.text

        # A visitor registers through the web and confirms with the code
        # the development mail transport saved.
        carol = Client(base, headers=proxied)
        action, fields = carol.form("/register", "register-form")
        registered = carol.post(
            action,
            {
                **fields,
                "login": "carol",
                "email": "carol@example.org",
                "password": CAROL,
                "password_confirm": CAROL,
            },
        )
        assert registered.status == 303
        assert registered.location == f"{site}/confirm-email"
        mail = max(
            (tmp_path / "var" / "mail" / "new").iterdir(),
            key=lambda p: p.stat().st_mtime,
        )
        code = re.search(r"^Code: (\d+)$", mail.read_text(), re.MULTILINE).group(1)
        action, fields = carol.form("/confirm-email", "code-form")
        confirmed = carol.post(action, {**fields, "code": code})
        assert confirmed.location == f"{site}/users/carol/"
        assert "<h1>carol</h1>" in carol.get("/users/carol/").text

        # Another process writes to the database the server has open.
        wingapp(ini, "add-user", "bob", "--email", "bob@example.org", password=BOB)
        bob = Client(base, headers=proxied)
        assert bob.sign_in("bob", BOB).location == f"{site}/users/bob/"

        root = Client(base, headers=proxied)
        assert root.sign_in("admin", admin).status == 303
        listing = root.get("/users/")
        assert listing.status == 200
        assert f'href="{site}/users/alice/@@admin"' in listing.text
        assert f'href="{site}/users/bob/@@admin"' in listing.text
        assert f'href="{site}/users/carol/@@admin"' in listing.text

        # RelStorage packs while the site runs.
        packed = wingapp(ini, "pack")
        assert packed.startswith("Packed the main database (RelStorage): kept 0 days")
        assert alice.get("/users/alice/").status == 200
    finally:
        stop(server)
    log = tmp_path / "var" / "log" / "wingapp.log"
    assert log.exists()
    assert ALICE not in log.read_text()


def root_revisions(database: str) -> int:
    # RelStorage's history() hides packed transactions; count the rows.
    conn = connect(database)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM object_state WHERE zoid = 0")
            return cursor.fetchone()[0]
    finally:
        conn.close()


def test_pack_keeps_days_of_history_on_postgresql(tmp_path, settings, database):
    db_uri = uri(database)
    churn(db_uri, times=10)
    ini = write_ini(tmp_path / "pack.ini", {**settings, "zodbconn.uri": db_uri})
    assert root_revisions(database) == 11

    assert "kept 1 days of history" in wingapp(ini, "pack", "--days", "1")
    assert root_revisions(database) == 11
    wingapp(ini, "pack")
    assert root_revisions(database) == 1


def test_zconfig_file_instead_of_the_uri(tmp_path, settings, database):
    example = (REPO / "deploy" / "zodb-relstorage.conf").read_text()
    conf = example.replace(
        "dbname='wingapp' user='wingapp' host='127.0.0.1' port='5432'", dsn(database)
    ).replace("keep-history true", "keep-history false")
    assert conf.count(database) == 1
    assert "keep-history false" in conf
    (tmp_path / "zodb.conf").write_text(conf)
    ini = write_ini(
        tmp_path / "zconfig.ini",
        {**settings, "zodbconn.uri": f"zconfig://{tmp_path}/zodb.conf"},
    )

    wingapp(ini, "init")
    wingapp(ini, "add-user", "alice", "--email", "alice@example.org", password=ALICE)

    assert verified_users(ini, {"alice": ALICE}) == {"alice": True}
    packed = wingapp(ini, "pack")
    assert packed.startswith("Packed the main database (RelStorage): history-free")
    assert verified_users(ini, {"alice": ALICE}) == {"alice": True}


def test_zodbconvert_moves_a_filestorage_to_postgresql(tmp_path, settings, database):
    settings = {**settings, "auth.two_step": "never"}
    data_fs = tmp_path / "Data.fs"
    fs_ini = write_ini(
        tmp_path / "filestorage.ini", {**settings, "zodbconn.uri": f"file://{data_fs}"}
    )
    wingapp(fs_ini, "init")
    wingapp(fs_ini, "add-user", "alice", "--email", "alice@example.org", password=ALICE)
    wingapp(fs_ini, "add-user", "bob", "--email", "bob@example.org", password=BOB)

    example = (REPO / "deploy" / "zodbconvert.conf").read_text()
    conf = example.replace("/srv/wingapp/var/Data.fs", str(data_fs)).replace(
        "dbname='wingapp' user='postgres' host='127.0.0.1' port='5432'", dsn(database)
    )
    assert str(data_fs) in conf
    assert database in conf
    (tmp_path / "zodbconvert.conf").write_text(conf)
    run([BIN / "zodbconvert", tmp_path / "zodbconvert.conf"])

    port = free_port()
    rs_ini = write_ini(
        tmp_path / "relstorage.ini", {**settings, "zodbconn.uri": uri(database)}, port
    )
    passwords = {"alice": ALICE, "bob": BOB}
    assert verified_users(rs_ini, passwords) == {"alice": True, "bob": True}

    server = serve(rs_ini)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/", process=server)
        for login, password in passwords.items():
            client = Client(base)
            response = client.sign_in(login, password)
            assert response.location == f"{base}/users/{login}/"
            assert f"<h1>{login}</h1>" in client.get(response.location).text
    finally:
        stop(server)
