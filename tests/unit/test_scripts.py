"""The `wingapp` console script, run in-process against a FileStorage."""

from __future__ import annotations

import io
import stat

import pytest
import transaction
from pyramid.paster import get_app

from tests.accounts import service
from wingapp import evolve
from wingapp.directives import Step, evolve_steps
from wingapp.interfaces import IKeyring
from wingapp.scripts import cli
from wingapp.scripts import evolve as evolve_script
from wingapp.users.interfaces import IPasswordHasher


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*argv, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdin=stdin or io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def open_users(ini_file):
    app = get_app(str(ini_file))
    db = app.registry._zodb_databases[""]
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    return app, db, tm, conn


def test_init_creates_secrets_database_and_admin_once(tmp_path, ini_file, key_paths):
    for path in (
        key_paths.session_secret,
        key_paths.encryption_keys,
        key_paths.index_key,
    ):
        path.unlink()
    code, out, _ = run(str(ini_file), "init")
    assert code == 0
    assert out.count("Created secret file") == 3
    assert stat.S_IMODE(key_paths.index_key.stat().st_mode) == 0o600
    assert "Created the admin account 'admin' with password:" in out
    password = out.split("password:")[1].split()[0]
    assert len(password) >= 15

    code, again, _ = run(str(ini_file), "init")
    assert code == 0
    assert "nothing to do" in again
    assert password not in again
    assert "Created secret file" not in again

    app, db, tm, conn = open_users(ini_file)
    with tm:
        admin = conn.root()["wingapp"]["users"]["admin"]
        assert "admin" in admin.roles
        hasher = service(app.registry, IPasswordHasher)
        assert hasher.verify(admin.password_hash, password)
    conn.close()
    db.close()


def test_add_user_with_piped_password(ini_file):
    password = "correct horse battery staple 42"
    code, out, err = run(
        str(ini_file),
        "add-user",
        "Bob",
        "--email",
        "bob@example.org",
        stdin=io.StringIO(password + "\n"),
    )
    assert (code, err) == (0, "")
    assert "Added 'bob' (user)." in out
    assert password not in out
    app, db, tm, conn = open_users(ini_file)
    with tm:
        bob = conn.root()["wingapp"]["users"]["bob"]
        assert "admin" not in bob.roles
        assert service(app.registry, IPasswordHasher).verify(
            bob.password_hash, password
        )
        assert bob.email(service(app.registry, IKeyring)) == "bob@example.org"
    conn.close()
    db.close()


def test_add_admin_from_a_terminal_generates_a_password(ini_file):
    code, out, _ = run(
        str(ini_file),
        "add-user",
        "root2",
        "--email",
        "r@example.org",
        "--admin",
        stdin=Terminal(),
    )
    assert code == 0
    assert "Added 'root2' (user, admin)." in out
    assert "Password (shown once): " in out


def test_add_user_refuses_bad_input_and_changes_nothing(ini_file):
    code, _, err = run(
        str(ini_file),
        "add-user",
        "carol",
        "--email",
        "carol@example.org",
        stdin=io.StringIO("password\n"),
    )
    assert code == 2
    assert "at least 15 characters" in err
    code, _, err = run(str(ini_file), "add-user", "x", "--email", "x@example.org")
    assert code == 2
    assert "3 to 32" in err
    _app, db, tm, conn = open_users(ini_file)
    with tm:
        assert "carol" not in conn.root()["wingapp"]["users"]
    conn.close()
    db.close()


def latest_generation(ini_file):
    app, db, _tm, conn = open_users(ini_file)
    latest = max(step.generation for step in evolve_steps(app.registry))
    conn.close()
    db.close()
    return latest


def test_evolve_reports_and_runs_pending_steps(ini_file, monkeypatch):
    latest = latest_generation(ini_file)
    marker = Step(
        latest + 1, "add a marker", lambda root: setattr(root, "marker", True)
    )
    registered = evolve_script.evolve_steps
    # A domain registering one more step, as its includeme would.
    monkeypatch.setattr(
        evolve_script, "evolve_steps", lambda registry: [*registered(registry), marker]
    )
    code, out, _ = run(str(ini_file), "evolve", "--dry-run")
    assert code == 0
    assert f"Would run step {latest + 1}: add a marker" in out
    code, out, _ = run(str(ini_file), "evolve")
    assert f"Data is now at generation {latest + 1}." in out
    code, out, _ = run(str(ini_file), "evolve")
    assert "nothing to do" in out
    _app, db, tm, conn = open_users(ini_file)
    with tm:
        assert conn.root()["wingapp"].marker is True
    conn.close()
    db.close()


def set_generation(ini_file, generation):
    """The data as an older release left it (its generation only)."""
    _app, db, tm, conn = open_users(ini_file)
    with tm:
        conn.root()["wingapp"].generation = generation
    conn.close()
    db.close()


def test_evolve_does_not_warn_of_the_data_it_is_about_to_evolve(ini_file, capfd):
    latest = latest_generation(ini_file)
    set_generation(ini_file, latest - 1)
    capfd.readouterr()
    code, out, _ = run(str(ini_file), "evolve")
    assert (code, f"Data is now at generation {latest}." in out) == (0, True)
    assert "The data is at generation" not in capfd.readouterr().err
    # Any other command opening data behind the code says to run evolve.
    set_generation(ini_file, latest - 1)
    capfd.readouterr()
    run(str(ini_file), "sweep-sessions")
    logged = capfd.readouterr().err
    assert f"The data is at generation {latest - 1}, the code at {latest}" in logged


def test_evolve_with_no_steps_says_so(ini_file):
    code, out, _ = run(str(ini_file), "evolve")
    assert code == 0
    latest = latest_generation(ini_file)
    assert f"Data is at generation {latest}; nothing to do." in out
    assert evolve_script.migrations is evolve


def test_config_file_comes_first_and_a_command_is_required(ini_file, capsys):
    with pytest.raises(SystemExit):
        cli.main([str(ini_file)])
    assert "COMMAND" in capsys.readouterr().err


def test_pshell_setup_offers_the_tree_and_a_transaction(app):
    from pyramid.scripting import prepare

    from wingapp.pshell import setup

    env = prepare(registry=app.registry)
    env["root"] = app.root_factory(env["request"])
    setup(env)
    assert env["users"].__name__ == "users"
    assert env["codes"].__name__ == "codes"
    assert env["reports"].__name__ == "reports"
    assert env["keyring"] is service(app.registry, IKeyring)
    env["tm"].abort()
    env["closer"]()


def test_sweep_sessions_removes_only_expired_ones(ini_file):
    from datetime import timedelta

    import webtest

    from tests.accounts import add_user, sign_in, with_root

    ini_file.write_text(
        ini_file.read_text().replace(
            "[app:main]", "[app:main]\nauth.two_step = never", 1
        )
    )
    app = get_app(str(ini_file))
    add_user(app, "ada")
    add_user(app, "bob")
    for login in ("ada", "bob"):
        sign_in(
            webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"}),
            login,
            status=303,
        )

    def age(root):
        (record,) = root["users"]["ada"].sessions.values()
        record.last_active -= timedelta(hours=1)

    with_root(app, age, commit=True)
    app.registry._zodb_databases[""].close()
    code, out, _ = run(str(ini_file), "sweep-sessions")
    assert (code, out) == (0, "Expired sessions removed: 1.\n")
    app = get_app(str(ini_file))
    counts = with_root(
        app, lambda root: {n: len(u.sessions) for n, u in root["users"].items()}
    )
    assert counts == {"ada": 0, "bob": 1}
    app.registry._zodb_databases[""].close()
