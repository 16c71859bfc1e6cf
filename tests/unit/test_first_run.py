"""The first run of a fresh clone: `make run` says in a few lines where the
site is, the admin's password and where mail goes; a command refused
because the server holds the database says why in one line; the wheel and
sdist carry every template and static file without setuptools' warnings."""

from __future__ import annotations

import io
import os
import queue
import shutil
import signal
import subprocess
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import pytest
import zodburi
from zc.lockfile import LockError
from ZODB import DB

from tests.conftest import write_ini
from tests.integration.servers import (
    BIN,
    Client,
    copy_source_tree,
    free_port,
    require,
)
from wingapp.scripts import cli
from wingapp.scripts.env import locked_database

PASSWORD = "correct horse battery staple 42"
# Sanity bound: the figure, far above what `make run` prints now.
MAX_LINES_BEFORE_SERVING = 40


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        list(argv), stdin=io.StringIO(PASSWORD + "\n"), stdout=out, stderr=err
    )
    return code, out.getvalue(), err.getvalue()


# --- A command while a server has the FileStorage open ---


@pytest.fixture
def held_database(file_settings):
    """The FileStorage open in this process, as a running pserve holds it."""
    factory, dbkw = zodburi.resolve_uri(file_settings["zodbconn.uri"])
    db = DB(factory(), **dbkw)
    yield
    db.close()


def test_a_command_refused_by_the_lock_says_why_in_one_line(
    tmp_path, ini_file, held_database, monkeypatch, capsys, restore_logging
):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(str(ini_file), "add-user", "bob", "--email", "b@example.org")
    assert (code, out) == (2, "")
    assert err == (
        "wingapp: The database file is locked: a server has it open. Data.fs "
        "belongs to one process at a time: stop the server, or share the "
        'database through ZEO or RelStorage (README, "ZEO for development").\n'
    )
    # Nothing else reached the terminal: no traceback, no log lines.
    assert capsys.readouterr().err == ""


def test_outside_the_working_directory_the_path_is_absolute(
    tmp_path, ini_file, held_database, monkeypatch, restore_logging
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = run(str(ini_file), "sweep-sessions")
    assert code == 2
    assert f"a server has it open. {tmp_path}/Data.fs belongs to one process" in err


def test_a_lock_error_without_a_path_still_reads():
    message = str(locked_database(LockError("no lock today")))
    assert message.startswith("The database file is locked: a server has it open.")
    assert "It belongs to one process at a time" in message


def test_no_zeo_server_is_one_line_too(tmp_path, settings, restore_logging):
    uri = f"zeo://127.0.0.1:{free_port()}?wait_timeout=1"
    ini = write_ini(tmp_path / "zeo.ini", {**settings, "zodbconn.uri": uri})
    code, out, err = run(str(ini), "sweep-sessions")
    assert (code, out) == (2, "")
    assert err == (
        f"wingapp: No ZEO server answers at the zodbconn.uri of {ini}: "
        "start it (`make zeo`) and try again.\n"
    )


# --- What init says ---


def test_init_says_where_to_sign_in_and_where_the_code_goes(
    tmp_path, file_settings, monkeypatch, restore_logging
):
    monkeypatch.chdir(tmp_path)
    ini = write_ini(tmp_path / "site.ini", file_settings, port=6600)
    code, out, _ = run("site.ini", "init")
    assert code == 0
    password = out.split("with password:")[1].split()[0]
    assert out.splitlines() == [
        "Created the admin account 'admin' with password:",
        "",
        f"    {password}",
        "",
        "It is shown only this once. Sign in at http://127.0.0.1:6600/login "
        "as 'admin'.",
        "The first sign-in asks for a code mailed to admin@example.invalid.",
        "Mail is not sent in development: each message, sign-in codes too, "
        "is a file in mail/new/.",
        "Your own address instead: wingapp site.ini init --admin-email "
        "you@example.org, on an empty database.",
    ]

    code, again, _ = run(str(ini), "init")
    assert code == 0
    assert password not in again
    assert again.splitlines() == [
        "The database has accounts already; nothing to do.",
        "Sign in at http://127.0.0.1:6600/login.",
        "Mail is not sent in development: each message, sign-in codes too, "
        "is a file in mail/new/.",
    ]
    code, late, _ = run(str(ini), "init", "--admin-email", "me@example.org")
    assert code == 0
    assert "(--admin-email counts only when init creates the admin.)" in late


def test_init_with_the_admins_own_address(tmp_path, ini_file, restore_logging):
    code, out, _ = run(
        str(ini_file), "init", "--admin-login", "root", "--admin-email", "me@x.org"
    )
    assert code == 0
    assert "Created the admin account 'root' with password:" in out
    assert "as 'root'." in out
    assert "The first sign-in asks for a code mailed to me@x.org." in out
    # Not below the working directory: the maildir's full path.
    assert f"is a file in {tmp_path}/mail/new/." in out
    assert "--admin-email" not in out


def test_with_smtp_init_says_nothing_of_a_maildir(
    tmp_path, file_settings, restore_logging
):
    settings = {
        **file_settings,
        "mail.transport": "smtp",
        "mail.queue_dir": str(tmp_path / "queue"),
    }
    ini = write_ini(tmp_path / "smtp.ini", settings)
    code, out, _ = run(str(ini), "init", "--admin-email", "ops@example.org")
    assert code == 0
    assert out.splitlines()[-1] == (
        "The first sign-in asks for a code mailed to ops@example.org."
    )


def test_init_names_the_address_pserve_listens_on(
    tmp_path, file_settings, restore_logging
):
    ini = write_ini(tmp_path / "any.ini", file_settings)
    ini.write_text(
        ini.read_text().replace("listen = 127.0.0.1:6543", "listen = *:8080 [::]:8080")
    )
    code, out, _ = run(str(ini), "init")
    assert code == 0
    assert "Sign in at http://localhost:8080/login as 'admin'." in out

    # An ini without a server (mod_wsgi serves it): the path alone.
    bare = tmp_path / "bare.ini"
    bare.write_text(ini.read_text().split("[server:main]")[0])
    code, out, _ = run(str(bare), "init")
    assert (code, out.splitlines()[1]) == (0, "Sign in at /login.")


# --- Packaging ---


def names_below(top: Path, *folders: str) -> set[str]:
    return {
        path.relative_to(top).as_posix()
        for folder in folders
        for path in (top / folder).rglob("*")
        if path.is_file()
    }


def test_wheel_and_sdist_carry_every_template_without_warnings(tmp_path):
    source = copy_source_tree(tmp_path / "source")
    data = names_below(source / "src", "wingapp/templates", "wingapp/static")
    assert any(name.endswith(".pt") for name in data)
    assert any(name.endswith(".css") for name in data)

    wheel = subprocess.run(
        [
            *(BIN / "pip", "wheel", "--no-deps", "--no-build-isolation"),
            *("--wheel-dir", tmp_path / "dist", source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert wheel.returncode == 0, wheel.stderr
    assert "absent from the `packages` configuration" not in wheel.stdout + wheel.stderr
    (built,) = (tmp_path / "dist").glob("wingapp-*.whl")
    in_wheel = set(zipfile.ZipFile(built).namelist())
    assert data <= in_wheel
    assert not [name for name in in_wheel if "__pycache__" in name]

    sdist = subprocess.run(
        [BIN / "python", "setup.py", "-q", "sdist", "--dist-dir", tmp_path / "dist"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert sdist.returncode == 0, sdist.stderr
    assert "absent from the `packages` configuration" not in sdist.stderr
    (archive,) = (tmp_path / "dist").glob("wingapp-*.tar.gz")
    with tarfile.open(archive) as tar:
        in_sdist = {name.split("/", 2)[2] for name in tar.getnames() if "/src/" in name}
    assert data <= in_sdist


# --- `make run` from a fresh copy ---


def lines_of(process: subprocess.Popen) -> queue.Queue:
    """The process's output, a line at a time, read in a thread so that the
    test can give up waiting."""
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def until_serving(lines: queue.Queue, timeout: float = 60.0) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        if "Serving on" in line:
            return seen
        seen.append(line)
    raise AssertionError("make run did not serve:\n" + "\n".join(seen))


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """The tree as a clone has it, with this virtualenv in place of the one
    `make run` would build (the stamp says it is installed)."""
    require(shutil.which("make") is not None, "make is not installed")
    clone = copy_source_tree(tmp_path / "clone")
    (clone / ".venv").mkdir()
    (clone / ".venv" / "bin").symlink_to(BIN)
    (clone / ".venv" / ".installed").touch()
    return clone


def test_make_run_in_a_fresh_clone_says_little_and_the_essentials(clone):
    port = free_port()
    ini = clone / "development.ini"
    text = ini.read_text()
    assert "listen = 127.0.0.1:6543" in text
    ini.write_text(text.replace("127.0.0.1:6543", f"127.0.0.1:{port}"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    make = subprocess.Popen(
        # -o: never reinstall into the shared virtualenv, whatever the stamps.
        ["make", "run", "-o", ".venv/.installed"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        before = until_serving(lines_of(make))
        shown = "\n".join(before)
        assert len(before) <= MAX_LINES_BEFORE_SERVING, shown
        assert "pkg_resources" not in shown
        assert "Traceback" not in shown
        password = shown.split("with password:")[1].split()[0]
        assert shown.count(password) == 1
        assert f"Sign in at http://127.0.0.1:{port}/login as 'admin'." in shown
        assert "is a file in var/mail/new/." in shown
        assert "--admin-email you@example.org" in shown

        # What the issue met: a command while the server holds var/Data.fs.
        refused = subprocess.run(
            [clone / ".venv" / "bin" / "wingapp", "development.ini", "sweep-codes"],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == 2
        (line,) = refused.stderr.splitlines()
        assert line.startswith("wingapp: The database file is locked")
        assert "var/Data.fs belongs to one process" in line

        # The admin's first sign-in asks for a code, found where init said.
        admin = Client(f"http://127.0.0.1:{port}")
        signed_in = admin.sign_in("admin", password)
        assert signed_in.status == 303
        assert signed_in.location.endswith("/verify")
        (mail,) = (clone / "var" / "mail" / "new").iterdir()
        assert "admin@example.invalid" in mail.read_text()
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)
