"""The operator's account commands, run in-process against a FileStorage:
import-users, export-users, set-password, set-roles, disable, enable."""

from __future__ import annotations

import contextlib
import getpass
import io

import bcrypt
import pytest
import transaction
from pyramid.paster import get_app

from tests.accounts import NEW_PASSWORD, PASSWORD, add_user, service
from wingapp.interfaces import IKeyring
from wingapp.scripts import admin as admin_script
from wingapp.scripts import cli
from wingapp.users.interfaces import IPasswordHasher

HEADER = "login,email,roles,password_hash,confirmed\n"
ACTOR = "os:" + getpass.getuser()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*argv, stdin=None, stdout=None):
    out, err = stdout or io.StringIO(), io.StringIO()
    code = cli.main(
        [str(a) for a in argv], stdin=stdin or io.StringIO(""), stdout=out, stderr=err
    )
    return code, out.getvalue(), err.getvalue()


class Site:
    """The database behind an ini file, opened after a command has run."""

    def __init__(self, ini_file):
        self.app = get_app(str(ini_file))
        self.db = self.app.registry._zodb_databases[""]
        self.tm = transaction.TransactionManager(explicit=True)
        self.conn = self.db.open(transaction_manager=self.tm)
        self.tm.begin()
        self.root = self.conn.root()["wingapp"]
        self.users = self.root["users"]

    def service(self, iface):
        return service(self.app.registry, iface)

    def events(self, kind):
        return [e for e in self.root.audit.newest(1000) if e.kind == kind]

    def close(self):
        """Let go of the file, so that the next command can open it."""
        if self.conn.opened:
            with contextlib.suppress(transaction.interfaces.NoTransaction):
                self.tm.abort()
            self.conn.close()
            self.db.close()


@pytest.fixture
def site(ini_file, restore_logging):
    opened = []

    def open_site():
        found = Site(ini_file)
        opened.append(found)
        return found

    yield open_site
    for found in opened:
        found.close()


@pytest.fixture
def with_admin(ini_file):
    """The ini's database with an admin in it, made through the app."""
    app = get_app(str(ini_file))
    add_user(app, "root", roles=("user", "admin"))
    add_user(app, "bob")
    app.registry._zodb_databases[""].close()
    return ini_file


def write(tmp_path, text, name="users.csv"):
    path = tmp_path / name
    path.write_text(HEADER + text, encoding="utf-8")
    return path


# -- import-users ---------------------------------------------------------------


def test_import_creates_accounts_and_records_the_os_user(
    tmp_path, ini_file, site, restore_logging
):
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    csv = write(
        tmp_path, f"alice,alice@example.org,user admin,{hashed},true\nbob,b@ex.org,,,\n"
    )
    code, out, err = run(ini_file, "import-users", csv)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "Created: 2.",
        "Updated: 0.",
        "Unchanged: 0.",
        "Rejected: 0.",
    ]
    found = site()
    assert found.users["alice"].roles == ("user", "admin")
    assert found.users["bob"].must_reset
    (first, *_) = found.events("admin-import")
    assert first.actor == ACTOR
    assert first.detail["reason"] == "import users.csv"


def test_rejected_rows_are_listed_and_exit_1(tmp_path, ini_file, restore_logging):
    csv = write(
        tmp_path,
        "alice,alice@example.org,,,\nx,x@example.org,,,\nbob,bob@example.org,root,,\n",
    )
    code, out, _ = run(ini_file, "import-users", csv, "--reason", "the old site")
    assert code == 1
    assert "Created: 1." in out
    assert "Rejected: 2." in out
    assert "  line 3 (x): A login name has 3 to 32" in out
    assert "  line 4 (bob): Unknown role: root." in out


def test_dry_run_changes_nothing(tmp_path, ini_file, site, restore_logging):
    csv = write(tmp_path, "alice,alice@example.org,,,\n")
    code, out, _ = run(ini_file, "import-users", csv, "--dry-run")
    assert code == 0
    assert out.startswith("Dry run: nothing was changed.\nCreated: 1.")
    assert "alice" not in site().users


def test_update_keeps_the_password_without_a_hash(
    tmp_path, with_admin, site, restore_logging
):
    before = site()
    old_hash = before.users["bob"].password_hash
    before.close()
    csv = write(tmp_path, "bob,bob@new.example.org,user admin,,true\n")
    code, out, _ = run(with_admin, "import-users", csv)
    assert code == 1
    assert "exists already" in out
    code, out, _ = run(with_admin, "import-users", csv, "--update")
    assert code == 0
    assert "Updated: 1." in out
    after = site()
    bob = after.users["bob"]
    assert bob.roles == ("user", "admin")
    assert bob.email(after.service(IKeyring)) == "bob@new.example.org"
    assert bob.password_hash == old_hash


def test_progress_bar_only_on_a_terminal(tmp_path, ini_file, restore_logging):
    csv = write(tmp_path, "alice,alice@example.org,,,\n")
    _, plain, _ = run(ini_file, "import-users", csv, "--dry-run")
    assert "Importing" not in plain
    _, shown, _ = run(ini_file, "import-users", csv, "--dry-run", stdout=Terminal())
    assert "Importing" in shown
    assert "100%" in shown


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, (), "cannot open"),
        (b"name,phone\n", (), "Unknown column 'name'"),
        (b"login,email\n", ("--reason", "x"), "Give a reason of 3 to 200"),
    ],
)
def test_import_refuses_a_wrong_file_or_reason(
    tmp_path, ini_file, restore_logging, content, args, message
):
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run(ini_file, "import-users", path, *args)
    assert code == 2
    assert message in err
    assert out == ""


def test_a_conflicting_batch_says_how_to_finish(
    tmp_path, ini_file, monkeypatch, restore_logging
):
    from ZODB.POSException import ConflictError

    def conflict(self, rows, commit, progress):
        raise ConflictError()

    monkeypatch.setattr(admin_script.UserImport, "run", conflict)
    csv = write(tmp_path, "alice,alice@example.org,,,\n")
    code, _, err = run(ini_file, "import-users", csv)
    assert code == 2
    assert "Run the same command again with --update to finish." in err


# -- export-users ---------------------------------------------------------------


def test_export_to_a_file_and_to_stdout(tmp_path, with_admin, restore_logging):
    target = tmp_path / "out.csv"
    code, out, _ = run(with_admin, "export-users", target)
    assert code == 0
    assert out == f"Exported 2 accounts to {target}.\n"
    text = target.read_bytes().decode("utf-8")
    assert (
        text.splitlines()[0] == "login,email,roles,state,confirmed,created,last_sign_in"
    )
    assert "bob,bob@example.org,user,active,true," in text
    assert "root,root@example.org,user admin,active,true," in text
    assert "$argon2" not in text
    code, out, _ = run(with_admin, "export-users", "-")
    assert code == 0
    assert out == text


def test_export_to_an_unwritable_place(tmp_path, ini_file, restore_logging):
    code, _, err = run(ini_file, "export-users", tmp_path / "no" / "such" / "dir.csv")
    assert code == 2
    assert "cannot open" in err


# -- changes to one account -----------------------------------------------------


def test_set_password_from_stdin_clears_a_forced_reset(
    with_admin, site, restore_logging
):
    before = site()
    before.users["bob"].must_reset = True
    before.tm.commit()
    before.close()
    code, out, err = run(
        with_admin, "set-password", "Bob", stdin=io.StringIO(NEW_PASSWORD + "\n")
    )
    assert (code, err) == (0, "")
    assert out == "Set the password of 'bob'.\n"
    assert NEW_PASSWORD not in out
    after = site()
    bob = after.users["bob"]
    assert after.service(IPasswordHasher).verify(bob.password_hash, NEW_PASSWORD)
    assert not bob.must_reset
    (event,) = after.events("admin-set-password")
    assert (event.login, event.actor) == ("bob", ACTOR)
    assert event.detail["reason"] == "from the console"
    assert NEW_PASSWORD not in repr(event.detail)


def test_set_password_on_a_terminal_asks_without_echo(
    with_admin, site, monkeypatch, restore_logging
):
    asked = []

    def fake_getpass(prompt, stream=None):
        asked.append(prompt)
        return NEW_PASSWORD

    monkeypatch.setattr(admin_script.getpass, "getpass", fake_getpass)
    code, _, _ = run(with_admin, "set-password", "bob", stdin=Terminal())
    assert code == 0
    assert asked == ["New password: "]


@pytest.mark.parametrize(
    ("login", "password", "message"),
    [
        ("bob", "", "no password given"),
        ("bob", "password", "at least 15"),
        ("nobody", NEW_PASSWORD, "no account named 'nobody'"),
    ],
)
def test_set_password_refusals_change_nothing(
    with_admin, site, restore_logging, login, password, message
):
    code, _, err = run(
        with_admin, "set-password", login, stdin=io.StringIO(password + "\n")
    )
    assert code == 2
    assert message in err
    found = site()
    assert found.service(IPasswordHasher).verify(
        found.users["bob"].password_hash, PASSWORD
    )
    assert found.events("admin-set-password") == []


def test_set_roles_disable_and_enable(with_admin, site, restore_logging):
    code, out, _ = run(
        with_admin, "set-roles", "bob", "user", "admin", "--reason", "new colleague"
    )
    assert (code, out) == (0, "Set roles user admin on 'bob'.\n")
    code, out, _ = run(with_admin, "disable", "bob")
    assert (code, out) == (0, "Disabled 'bob'.\n")
    found = site()
    bob = found.users["bob"]
    assert bob.roles == ("user", "admin")
    assert bob.disabled
    (roles,) = found.events("admin-roles")
    assert roles.detail["reason"] == "new colleague"
    assert roles.actor == ACTOR
    found.close()
    code, _, err = run(with_admin, "disable", "bob")
    assert code == 2
    assert "Already disabled." in err
    code, out, _ = run(with_admin, "enable", "bob")
    assert (code, out) == (0, "Enabled 'bob'.\n")
    code, _, err = run(with_admin, "set-roles", "bob", "wizard")
    assert code == 2
    assert "Unknown role: wizard" in err
    assert not site().users["bob"].disabled
