"""The CSV import and export core that the console and the browser share."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import bcrypt
import pytest
from pyramid.scripting import prepare

from tests.accounts import PASSWORD, add_user, service
from wingapp.admin.transfer import (
    REJECTED,
    ImportFileError,
    Row,
    RowResult,
    Summary,
    UserImport,
    decoded_lines,
    export_lines,
    read_rows,
    result_line,
)
from wingapp.interfaces import IClock, IKeyring
from wingapp.spreadsheet import for_spreadsheet, from_spreadsheet
from wingapp.users.interfaces import ISessionService

HEADER = "login,email,roles,password_hash,confirmed\n"
BCRYPT = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()


def rows(text: str) -> list[Row]:
    return list(read_rows(io.StringIO(text, newline="")))


@pytest.fixture
def zodb_uri(request, tmp_path):
    """In memory, or (``file``) a FileStorage, which resolves conflicts as
    production does."""
    if getattr(request, "param", None) == "file":
        return f"file://{tmp_path}/Data.fs"
    return "memory://"


@pytest.fixture
def env(app, dbroot, tm):
    """A request like a console script's, on the test's own connection."""
    prepared = prepare(registry=app.registry)
    request = prepared["request"]
    request.tm.abort()
    tm.begin()
    request.root = dbroot()
    yield SimpleNamespace(request=request, root=request.root, tm=tm, app=app)
    prepared["closer"]()


def importer(env, **kw) -> UserImport:
    request = env.request
    kw.setdefault("actor", "os:tester")
    kw.setdefault("reason", "moving in")
    kw.setdefault("source", "users.csv")
    return UserImport(
        request,
        users=env.root["users"],
        keyring=request.find_service(IKeyring),
        sessions=request.find_service(ISessionService),
        clock=request.find_service(IClock),
        **kw,
    )


def run(env, text: str, **kw) -> Summary:
    return importer(env, **kw).run(rows(HEADER + text))


def refresh(env) -> None:
    """See what other connections (add_user) committed since."""
    env.tm.abort()
    env.tm.begin()


def imported_events(env) -> list:
    return [e for e in env.root.audit.newest(100) if e.kind == "admin-import"]


# -- reading the file ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("login,email,phone\n", "Unknown column 'phone'"),
        ("login,roles\n", "The column 'email' is missing"),
        ("login,email,login\n", "A column is named twice"),
    ],
)
def test_a_wrong_header_refuses_the_whole_file(text, message):
    with pytest.raises(ImportFileError, match=message):
        rows(text)


def test_a_header_that_is_not_csv_or_not_utf8_is_refused():
    with pytest.raises(ImportFileError, match="not a CSV file"):
        rows('"' + "x" * 200_000 + '"\n')
    bad: set[int] = set()
    with pytest.raises(ImportFileError, match="not UTF-8"):
        read_rows(decoded_lines([b"login,\xffemail\n"], bad), bad)


def test_an_unquoted_argon2_hash_gets_a_hint():
    (row,) = rows(
        HEADER + "alice,a@example.org,,$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA,\n"
    )
    assert row.problem == (
        "This row has 7 fields; the header names 5. "
        "An argon2 hash has commas: put it in double quotes."
    )


def test_rows_carry_their_line_numbers_and_problems():
    bad: set[int] = set()
    raw = [
        b"\xef\xbb\xbfLogin, Email ,confirmed\r\n",
        b"alice,alice@example.org,true\r\n",
        b"\r\n",
        b'bob,"bob\r\n',
        b'@example.org",yes\r\n',
        b"carol,caf\xe9@example.org,\r\n",
        b"dave,dave@example.org\r\n",
        b'erin,"' + b"x" * 200_000 + b'",\r\n',
        b"frank,frank@example.org,no\r\n",
    ]
    found = list(read_rows(decoded_lines(raw, bad), bad))
    assert [r.line for r in found] == [2, 4, 6, 7, 8, 9]
    assert found[0].values == {
        "login": "alice",
        "email": "alice@example.org",
        "confirmed": "true",
    }
    assert found[1].values["email"] == "bob\r\n@example.org"
    assert found[2].problem == "This row is not UTF-8 text."
    assert found[3].problem == "This row has 2 fields; the header names 3."
    assert "not valid CSV" in found[4].problem
    assert found[5].values["login"] == "frank"


# -- importing -------------------------------------------------------------------


def test_creates_accounts_with_and_without_a_hash(env):
    summary = run(
        env,
        f"alice,alice@example.org,user admin,{BCRYPT},true\nbob,Bob@Example.org,,,\n",
    )
    assert (summary.created, summary.updated, summary.unchanged) == (2, 0, 0)
    assert summary.rejected == []
    users = env.root["users"]
    alice, bob = users["alice"], users["bob"]
    assert alice.roles == ("user", "admin")
    assert alice.email_confirmed and not alice.must_reset
    assert alice.password_hash == BCRYPT
    assert alice.password_changed is not None
    assert alice.state == "active"
    # No hash: the owner sets a password through a mailed code.
    assert bob.roles == ("user",)
    assert (bob.password_hash, bob.must_reset, bob.email_confirmed) == ("", True, False)
    assert bob.password_changed is None
    keyring = service(env.app.registry, IKeyring)
    assert bob.email(keyring) == "Bob@example.org"
    assert users.find_by_email(bob.email_index) is bob


def test_each_import_is_in_the_history_without_the_hash(env):
    run(env, f"alice,alice@example.org,,{BCRYPT},true\n")
    (entry,) = imported_events(env)
    assert (entry.login, entry.actor) == ("alice", "os:tester")
    assert entry.detail["reason"] == "moving in"
    assert entry.detail["source"] == "users.csv, line 2"
    assert entry.detail["before"] == {}
    assert entry.detail["after"]["email"] == "a•••@example.org"
    assert entry.detail["after"]["password"] == "imported hash"
    assert BCRYPT not in repr(entry.detail)
    assert "alice@example.org" not in repr(entry.detail)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("a,a@example.org,,,", "A login name has 3 to 32"),
        ("alice,not-an-address,,,", "Enter one email address"),
        ("alice,alice@example.org,user wizard,,", "Unknown role: wizard"),
        ("alice,alice@example.org,,,maybe", "The column confirmed says 'maybe'"),
        ("alice,alice@example.org,,$md5$abc,", "not in a form we accept"),
        ("alice,alice@example.org,,$2b$31$" + "a" * 53 + ",", "bcrypt hash's cost"),
    ],
)
def test_each_bad_value_rejects_its_row_with_a_reason(env, row, reason):
    summary = run(env, row + "\nbob,bob@example.org,,,\n")
    assert summary.created == 1
    (rejected,) = summary.rejected
    assert rejected.line == 2
    assert rejected.outcome == REJECTED
    assert reason in rejected.reason
    assert "alice" not in env.root["users"]


def test_duplicates_and_taken_addresses_reject_the_later_row(app, env):
    add_user(app, "zoe")
    refresh(env)
    summary = run(
        env,
        "alice,alice@example.org,,,\n"
        "ALICE,other@example.org,,,\n"
        "bob,Alice@example.org,,,\n"
        "carol,zoe@example.org,,,\n"
        "zoe,zoe@example.org,,,\n",
    )
    assert summary.created == 1
    assert [(r.line, r.login, r.reason) for r in summary.rejected] == [
        (3, "ALICE", "The login 'alice' is on line 2 too."),
        (4, "bob", "This email address is on line 2 too."),
        (5, "carol", "The account 'zoe' has this email address already."),
        (
            6,
            "zoe",
            "An account with this login exists already; import with "
            "'update existing accounts' to change it.",
        ),
    ]


def test_a_rejected_row_does_not_count_as_seen(env):
    summary = run(env, "alice,alice@example.org,wizard,,\nalice,alice@example.org,,,\n")
    assert summary.created == 1
    assert summary.rejected[0].line == 2


def test_unreadable_rows_are_rejected_and_the_rest_imported(env):
    summary = importer(env).run(
        [
            Row(2, problem="This row is not UTF-8 text."),
            *rows(HEADER + "bob,b@ex.org,,,\n"),
        ]
    )
    assert summary.created == 1
    assert summary.rejected == [
        RowResult(2, "", REJECTED, "This row is not UTF-8 text.")
    ]


def test_dry_run_reports_the_same_and_writes_nothing(env):
    text = (
        "alice,alice@example.org,,,true\n"
        "bad!,x@example.org,,,\n"
        "alice,other@example.org,,,\n"
        "bob,bob@example.org,admin,,\n"
    )
    dry = run(env, text, dry_run=True)
    assert "alice" not in env.root["users"]
    assert imported_events(env) == []
    real = run(env, text)
    assert dry == real
    assert (real.created, len(real.rejected)) == (2, 2)


def test_commits_in_batches_but_never_in_a_dry_run(env):
    text = HEADER + "".join(f"user{i:02d},u{i}@example.org,,,\n" for i in range(25))
    commits = []
    progress = []
    summary = importer(env, batch_size=10).run(
        rows(text), lambda: commits.append(len(env.root["users"])), progress.append
    )
    assert summary.created == 25
    assert commits == [10, 20, 25]
    assert [r.line for r in progress] == list(range(2, 27))
    commits.clear()
    importer(env, batch_size=10, dry_run=True, update=True).run(
        rows(text), lambda: commits.append(1)
    )
    assert commits == []


@pytest.fixture
def existing(app, env):
    add_user(app, "alice", "alice@example.org", roles=("user", "admin"))
    add_user(app, "bob", "bob@example.org")
    refresh(env)
    return env.root["users"]


def test_update_changes_email_roles_and_confirmation_not_the_password(env, existing):
    alice = existing["alice"]
    old_hash = alice.password_hash
    old_index = alice.email_index
    summary = run(
        env,
        "alice,alice@new.example.org,user,,false\nbob,bob@example.org,,,true\n",
        update=True,
    )
    assert (summary.updated, summary.unchanged) == (1, 1)
    assert alice.roles == ("user",)
    assert not alice.email_confirmed
    assert alice.password_hash == old_hash
    keyring = service(env.app.registry, IKeyring)
    assert alice.email(keyring) == "alice@new.example.org"
    assert existing.find_by_email(old_index) is None
    assert existing.find_by_email(alice.email_index) is alice
    (entry,) = imported_events(env)
    assert entry.detail["before"] == {
        "email": "a•••@example.org",
        "roles": ["user", "admin"],
        "email_confirmed": True,
    }
    assert entry.detail["after"] == {
        "email": "a•••@new.example.org",
        "roles": ["user"],
        "email_confirmed": False,
    }


def test_confirming_a_self_registered_address_makes_the_account_its_holder(app, env):
    add_user(app, "carol", "carol@example.org", registered=True)
    refresh(env)
    users = env.root["users"]
    carol = users["carol"]
    assert users.find_by_email(carol.email_index) is None
    summary = run(env, "carol,carol@example.org,,,true\n", update=True)
    assert summary.updated == 1
    # The import vouched for the address: the account holds it, opens, and
    # is not swept when its day to confirm is over.
    assert users.find_by_email(carol.email_index) is carol
    assert carol.state == "active"
    now = service(env.app.registry, IClock)()
    assert not carol.has_expired(now + timedelta(days=2))


def test_update_with_a_hash_sets_the_password_and_ends_sessions(env, existing):
    bob = existing["bob"]
    bob.must_reset = True
    sessions = env.request.find_service(ISessionService)
    sessions.start(bob, "192.0.2.1", "Agent/1")
    summary = run(env, f"bob,bob@example.org,,{BCRYPT},true\n", update=True)
    assert summary.updated == 1
    assert bob.password_hash == BCRYPT
    assert not bob.must_reset
    assert len(bob.sessions) == 0
    (entry,) = imported_events(env)
    assert entry.detail["before"] == {
        "password": "kept",
        "must_reset": True,
        "sessions": 1,
    }
    assert entry.detail["after"] == {
        "password": "imported hash",
        "must_reset": False,
        "sessions": 0,
    }
    # The same hash again changes nothing.
    again = run(env, f"bob,bob@example.org,user,{BCRYPT},true\n", update=True)
    assert again.unchanged == 1


def test_an_admin_cannot_drop_their_own_admin_role(env, existing):
    summary = run(
        env, "alice,alice@example.org,user,,true\n", update=True, actor="alice"
    )
    assert summary.rejected[0].reason == "You cannot remove your own admin role."
    assert existing["alice"].roles == ("user", "admin")


def test_an_address_freed_by_an_earlier_row_is_free_in_a_dry_run_too(env, existing):
    text = "alice,alice2@example.org,,,true\ncarol,alice@example.org,,,\n"
    dry = run(env, text, update=True, dry_run=True)
    real = run(env, text, update=True)
    assert dry == real
    assert (real.updated, real.created, real.rejected) == (1, 1, [])
    assert existing.find_by_email(existing["carol"].email_index) is existing["carol"]


def test_summary_lines_and_result_lines():
    summary = Summary(created=2)
    summary.add(RowResult(4, "bob", REJECTED, "Bad."))
    summary.add(RowResult(5, "", REJECTED, "Worse."))
    summary.add(RowResult(6, "carol", "unchanged"))
    assert summary.rows == 5
    assert summary.lines() == [
        "Created: 2.",
        "Updated: 0.",
        "Unchanged: 1.",
        "Rejected: 2.",
        "  line 4 (bob): Bad.",
        "  line 5: Worse.",
    ]
    assert result_line(RowResult(4, "bob", REJECTED, "Bad, very.")) == (
        '4,bob,rejected,"Bad, very."\r\n'
    )


# -- exporting -------------------------------------------------------------------


def test_export_streams_every_account_in_batches_without_secrets(app, env):
    for i in range(5):
        add_user(app, f"user{i}", f"user{i}@example.org")
    add_user(app, "eve", "=cmd@example.org", confirmed=False)
    refresh(env)
    env.root["users"]["user1"].record_sign_in(env.root["users"]["user1"].created)
    batches = []
    chunks = list(
        export_lines(
            env.root["users"],
            service(app.registry, IKeyring),
            batch_size=2,
            between_batches=lambda: batches.append(1),
        )
    )
    assert len(chunks) == 1 + 3
    assert len(batches) == 3
    text = "".join(chunks)
    lines = text.splitlines()
    assert lines[0] == "login,email,roles,state,confirmed,created,last_sign_in"
    assert len(lines) == 7
    assert lines[1].startswith("eve,'=cmd@example.org,user,unconfirmed,false,")
    assert lines[1].endswith(",")
    user1 = env.root["users"]["user1"]
    assert lines[3] == (
        f"user1,user1@example.org,user,active,true,{user1.created.isoformat()},"
        f"{user1.created.isoformat()}"
    )
    assert "$argon2" not in text


def test_formula_cells_survive_a_round_trip():
    assert for_spreadsheet("=x@example.org") == "'=x@example.org"
    assert for_spreadsheet("x@example.org") == "x@example.org"
    assert from_spreadsheet("'=x@example.org") == "=x@example.org"
    assert from_spreadsheet("'x@example.org") == "'x@example.org"


@pytest.mark.parametrize("zodb_uri", ["file"], indirect=True)
def test_an_import_batch_and_a_sign_up_commit_at_once(app, db, env):
    """The batch and the sign-up write the same trees (the accounts, the
    email index, the catalog, the event log): their commits merge."""
    summary = run(env, "alice,alice@example.org,,,\nbob,bob@example.org,,,\n")
    assert summary.created == 2
    # Meanwhile, in another connection, someone registers.
    add_user(app, "mallory", "mallory@example.org")
    env.tm.commit()
    env.tm.begin()
    users = env.root["users"]
    assert {"alice", "bob", "mallory"} <= set(users.keys())
    assert len(users) == 3
