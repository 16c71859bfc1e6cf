"""What every request of a kind writes, written by two requests at once.

Each test opens connections on one real database (a FileStorage, which
resolves conflicts the way production does), makes its change in each
from the same starting state, and commits them in turn: the changes merge
with nothing lost, or the later one conflicts and a retry wins.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from itertools import islice
from typing import Any

import pytest
import transaction
import webtest
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid.config import Configurator
from ZODB import DB
from ZODB.FileStorage import FileStorage
from ZODB.POSException import ConflictError

from tests.accounts import Clock
from wingapp import main
from wingapp.audit import AuditLog, Entry, LogTree
from wingapp.codes.models import Code, Codes
from wingapp.folder import Folder
from wingapp.interfaces import IRoot
from wingapp.mail.mailer import Mailer
from wingapp.retry import PauseBeforeRetry
from wingapp.shards import shard
from wingapp.users.backoff import Backoff
from wingapp.users.catalog import SHARDS
from wingapp.users.models import FailedAttempts, Sessions, User, Users, email_key
from wingapp.users.sessions import SessionService, SignInSession, Timeouts
from wingapp.users.trust import TrustService

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
Change = Callable[[Any], Any]


@pytest.fixture
def db(tmp_path) -> Iterator[DB]:
    database = DB(FileStorage(str(tmp_path / "Data.fs")))
    yield database
    database.close()


def commit(db: DB, work: Change) -> Any:
    """Run ``work(zodb_root)`` in a transaction of its own and commit it."""
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            return work(conn.root())
    finally:
        conn.close()


def race(db: DB, *changes: Change) -> None:
    """Make each change in a connection of its own, all from the same
    committed state, then commit them one after another."""
    managers = [transaction.TransactionManager(explicit=True) for _ in changes]
    conns = [db.open(transaction_manager=tm) for tm in managers]
    try:
        for tm, conn, change in zip(managers, conns, changes, strict=True):
            tm.begin()
            change(conn.root())
        for tm in managers:
            tm.commit()
    finally:
        for tm, conn in zip(managers, conns, strict=True):
            with contextlib.suppress(transaction.interfaces.NoTransaction):
                tm.abort()
            conn.close()


def serial(db: DB, find: Change) -> bytes:
    """The transaction that last wrote the object ``find`` picks."""

    def read(root: Any) -> bytes:
        found = find(root)
        found._p_activate()
        return found._p_serial

    return commit(db, read)


# The event log


def entry(when: datetime, login: str = "ada") -> Entry:
    return Entry(when, "sign-in", "success", login, None, None, None, {})


LOGGED = 16 * 600
"""Entries in ``log_db``: 600 a tree, more than one bucket holds."""


@pytest.fixture
def log_db(db: DB) -> DB:
    def fill(root: Any) -> None:
        # Enough entries that every tree has split into several buckets.
        root["audit"] = log = AuditLog()
        for i in range(LOGGED):
            log.append(entry(T0 + timedelta(milliseconds=i)), shard=i % len(log.shards))

    commit(db, fill)
    return db


def test_appends_at_the_same_moment_both_stay(log_db):
    later = T0 + timedelta(hours=1)
    race(
        log_db,
        lambda root: root["audit"].append(entry(later, "ada"), shard=1),
        lambda root: root["audit"].append(entry(later, "bob"), shard=2),
    )

    def read(root: Any) -> Any:
        log = root["audit"]
        return len(log), [e.login for e in log.newest(2)]

    length, logins = commit(log_db, read)
    assert length == LOGGED + 2
    assert sorted(logins) == ["ada", "bob"]


def test_a_burst_of_appends_never_writes_the_log_itself(log_db):
    before = serial(log_db, lambda root: root["audit"])
    later = T0 + timedelta(hours=1)
    # Four requests, each appending to a tree of its own.
    race(
        log_db,
        *(
            (lambda root, i=i: root["audit"].append(entry(later), shard=i))
            for i in range(4)
        ),
    )
    assert serial(log_db, lambda root: root["audit"]) == before
    assert commit(log_db, lambda root: len(root["audit"])) == LOGGED + 4


def appends_to_a_full_bucket(db: DB, tree: Any) -> None:
    """Fill ``tree``, the event log's shard 3, as far as a bucket of 60 goes
    (an LOBTree's), then race two appends to it at different moments."""
    start = T0 + timedelta(days=1)

    def fill(root: Any) -> None:
        root["full"] = log = AuditLog()
        log.shards = (*log.shards[:3], tree, *log.shards[4:])
        for i in range(60):
            log.append(entry(start + timedelta(seconds=i)), shard=3)

    commit(db, fill)
    later = start + timedelta(hours=1)
    race(
        db,
        lambda root: root["full"].append(entry(later, "ada"), shard=3),
        lambda root: root["full"].append(
            entry(later + timedelta(seconds=1), "bob"), shard=3
        ),
    )


def test_appends_where_a_narrow_bucket_would_split_both_stay(db):
    appends_to_a_full_bucket(db, LogTree())
    logins = commit(db, lambda root: [e.login for e in root["full"].newest(2)])
    assert logins == ["bob", "ada"]
    assert commit(db, lambda root: len(root["full"])) == 62


def test_the_same_appends_to_an_lobtree_conflict(db):
    # What the wide buckets avoid: the first append splits the bucket.
    with pytest.raises(ConflictError):
        appends_to_a_full_bucket(db, LOBTree())


def test_the_same_microsecond_in_the_same_tree_conflicts_and_a_retry_wins(log_db):
    later = T0 + timedelta(hours=1)
    with pytest.raises(ConflictError):
        race(
            log_db,
            lambda root: root["audit"].append(entry(later, "ada"), shard=3),
            lambda root: root["audit"].append(entry(later, "bob"), shard=3),
        )
    # What pyramid_retry does: the losing request runs again.
    commit(log_db, lambda root: root["audit"].append(entry(later, "bob"), shard=3))
    logins = commit(log_db, lambda root: [e.login for e in root["audit"].newest(2)])
    assert sorted(logins) == ["ada", "bob"]


# A folder a crowd adds to


class SpreadFolder(Folder):
    shards = SHARDS


class Thing(Persistent):
    pass


def adds_where_a_full_bucket_splits(db: DB, folder: Folder) -> None:
    """Fill the tree ``team-a`` goes to with 500 names that sort before it
    (a full bucket), then race adding ``team-a``, which splits it, and a
    name that sorts right after it, as a sign-up campaign's names do."""
    first = "team-a"
    second = next(
        name
        for name in (f"team-{c}" for c in "bcdefghijklmnop")
        if shard(name, SHARDS) != shard(first, SHARDS)
    )
    before = (f"p{i:05d}" for i in range(100_000))
    same_tree = (n for n in before if shard(n, SHARDS) == shard(first, SHARDS))
    names = list(islice(same_tree, 500))

    def fill(root: Any) -> None:
        root["folder"] = folder
        for name in names:
            folder.add(name, Thing())

    commit(db, fill)
    race(
        db,
        lambda root: root["folder"].add(first, Thing()),
        lambda root: root["folder"].add(second, Thing()),
    )
    found = commit(db, lambda root: (len(root["folder"]), list(root["folder"])[-2:]))
    assert found == (502, [first, second])


def test_adds_of_names_that_sort_together_into_a_spread_folder_both_commit(db):
    adds_where_a_full_bucket_splits(db, SpreadFolder())


def test_the_same_adds_into_one_tree_conflict(db):
    # What spreading avoids: both names go to the bucket the first splits.
    with pytest.raises(ConflictError):
        adds_where_a_full_bucket_splits(db, Folder())


# The codes index


def random_name(seed: str) -> str:
    # Like the service's random ids: spread over the key space.
    return hashlib.sha256(seed.encode()).hexdigest()[:20]


def code(owner: str, minutes: float = 0) -> Code:
    created = T0 + timedelta(minutes=minutes)
    return Code(
        purpose="sign-in",
        owner=owner,
        binding="b",
        digest="d",
        created=created,
        expires=created + timedelta(minutes=10),
    )


def test_codes_issued_at_once_are_all_indexed(db):
    def fill(root: Any) -> None:
        root["codes"] = codes = Codes()
        for i in range(600):
            codes.add(random_name(f"old{i}"), code(random_name(f"owner{i}"), i / 60))

    commit(db, fill)
    # Two new codes, newer than every other: with one sorted set both would
    # go into its first bucket.
    first, second = random_name("new-a"), random_name("new-b")
    race(
        db,
        lambda root: root["codes"].add(first, code("ada", 20)),
        lambda root: root["codes"].add(second, code("bob", 20)),
    )

    def read(root: Any) -> Any:
        codes = root["codes"]
        newest = [c.__name__ for c in codes.newest_first()][:2]
        owners = (
            codes.newest_code("ada", "sign-in"),
            codes.newest_code("bob", "sign-in"),
        )
        return len(codes), newest, [c.__name__ for c in owners]

    length, newest, by_owner = commit(db, read)
    assert length == 602
    assert sorted(newest) == sorted([first, second])
    assert by_owner == [first, second]


def test_codes_spread_over_the_timelines(db):
    codes = Codes()
    for i in range(320):
        codes.add(random_name(f"c{i}"), code(f"u{i}", i))
    sizes = [len(t) for t in codes.timelines]
    assert sum(sizes) == 320
    # Evenly enough that no timeline takes most of the writes.
    assert max(sizes) < 3 * 320 / len(sizes)


# The accounts that registered themselves and have not confirmed


def registration(keyring: Any, login: str, email: str) -> Change:
    """What a self-registration writes to the users container."""

    def change(root: Any) -> None:
        user = User(T0)
        user.set_email(email, keyring)
        user.expires = T0 + timedelta(hours=24)
        root["users"].add_user(login, user)

    return change


def test_registrations_at_once_with_addresses_in_different_trees_both_commit(
    db, keyring
):
    def place(email: str) -> int:
        return shard(keyring.mac("email", email_key(email)), SHARDS)

    def fill(root: Any) -> None:
        root["users"] = Users()
        for i in range(300):
            registration(keyring, f"old{i}", f"old{i}@example.org")(root)

    commit(db, fill)
    before = serial(db, lambda root: root["users"])
    first = "ada@example.org"
    second = next(
        email
        for email in (f"bob{i}@example.org" for i in range(100))
        if place(email) != place(first)
    )
    race(db, registration(keyring, "ada", first), registration(keyring, "bob", second))

    def found(root: Any) -> list[list[str]]:
        users = root["users"]
        return [
            users.unconfirmed_with_email(keyring.mac("email", email_key(email)))
            for email in (first, second)
        ]

    assert commit(db, found) == [["ada"], ["bob"]]
    # The container itself is never written: only its trees are.
    assert serial(db, lambda root: root["users"]) == before


# Per-account state


@pytest.fixture
def account_db(db: DB) -> DB:
    commit(db, lambda root: root.__setitem__("ada", User(T0)))
    return db


def test_failures_counted_at_once_all_count(account_db):
    backoff = Backoff()
    locks = []
    race(
        account_db,
        *((lambda root: locks.append(backoff.fail(root["ada"], T0))) for _ in range(5)),
    )
    user_serial = serial(account_db, lambda root: root["ada"])

    def read(root: Any) -> Any:
        user = root["ada"]
        return user.failures, backoff.wait(user, T0)

    assert commit(account_db, read) == (5, timedelta(seconds=60))
    # Each request alone saw one failure; the back-off saw all five.
    assert locks == [False] * 5
    # The account itself was written once, when it was made.
    assert user_serial == serial(account_db, lambda root: root["ada"])


def test_failures_of_a_name_without_an_account_counted_at_once_all_count(db):
    backoff = Backoff()
    commit(db, lambda root: root.__setitem__("users", Users()))

    def fail(root: Any) -> None:
        nobody = root["users"].nobody("~ghost")
        backoff.fail(nobody, T0)
        nobody.keep()

    # The first failures both store the name's record: one conflicts, and
    # its retry counts on the record the other stored.
    with pytest.raises(ConflictError):
        race(db, fail, fail)
    commit(db, fail)
    # Once stored, failures at once merge as an account's do.
    race(db, fail, fail, fail)

    def read(root: Any) -> Any:
        nobody = root["users"].nobody("~ghost")
        return nobody.failed_attempts.count, backoff.wait(nobody, T0)

    assert commit(db, read) == (5, timedelta(seconds=60))


def test_a_failure_at_the_moment_of_a_sign_in_counts_after_it(account_db):
    backoff = Backoff()
    commit(
        account_db,
        lambda root: [backoff.fail(root["ada"], T0) for _ in range(3)],
    )
    later = T0 + timedelta(minutes=1)
    race(
        account_db,
        lambda root: backoff.fail(root["ada"], later),
        lambda root: backoff.succeed(root["ada"]),
    )
    found = commit(
        account_db, lambda root: (root["ada"].failures, root["ada"].last_failure)
    )
    assert found == (1, later)


def test_failures_after_a_quiet_spell_start_the_count_again(account_db):
    backoff = Backoff()
    commit(account_db, lambda root: [backoff.fail(root["ada"], T0) for _ in range(4)])
    later = T0 + timedelta(hours=13)
    race(
        account_db,
        lambda root: backoff.fail(root["ada"], later),
        lambda root: backoff.fail(root["ada"], later + timedelta(seconds=1)),
    )
    found = commit(
        account_db, lambda root: (root["ada"].failures, root["ada"].last_failure)
    )
    assert found == (2, later + timedelta(seconds=1))


def test_two_resets_at_once_leave_nothing():
    # Both sides of the merge cleared the count (two sign-ins).
    old = {"count": 3, "last": T0}
    cleared = {"count": 0, "last": None}
    merged = FailedAttempts()._p_resolveConflict(old, cleared, dict(cleared))
    assert merged == cleared


def test_a_sign_in_without_failures_writes_no_back_off(account_db):
    before = serial(account_db, lambda root: root["ada"].failed_attempts)
    commit(account_db, lambda root: Backoff().succeed(root["ada"]))
    assert serial(account_db, lambda root: root["ada"].failed_attempts) == before


def test_sixteen_sign_ins_at_once_all_get_a_session(account_db, keyring):
    clock = Clock(T0)
    sessions = SessionService(keyring, Timeouts(), clock)
    trust = TrustService(keyring, clock, "new_ip_or_device")
    backoff = Backoff()
    # The network is known from an earlier sign-in; the devices are new.
    commit(account_db, lambda root: trust.trust(root["ada"], "d0", "192.0.2.1", None))
    # And a session that has expired since, which each sign-in would purge.
    commit(account_db, lambda root: sessions.start(root["ada"], None, None))
    clock.advance(hours=13)
    user_serial = serial(account_db, lambda root: root["ada"])

    def sign_in(root: Any, i: int) -> None:
        # What signing in writes, as identity.start_session and the sign-in
        # view do it, each request at its own moment.
        user = root["ada"]
        sessions.purge_expired(user)
        sessions.start(user, "192.0.2.1", "Agent")
        user.record_sign_in(T0 + timedelta(hours=13, seconds=i))
        backoff.succeed(user)
        trust.trust(user, f"device-{i}", "192.0.2.1", "Agent")

    # The first purges the expired session alone; the other fifteen come
    # after it, all at once.
    commit(account_db, lambda root: sign_in(root, 0))
    race(account_db, *((lambda root, i=i: sign_in(root, i)) for i in range(15, 0, -1)))

    def read(root: Any) -> Any:
        user = root["ada"]
        return len(user.sessions), len(user.trusted_devices), user.last_sign_in

    assert commit(account_db, read) == (16, 17, T0 + timedelta(hours=13, seconds=15))
    assert serial(account_db, lambda root: root["ada"]) == user_serial


@pytest.mark.parametrize("change_first", [True, False])
def test_a_sign_in_at_the_moment_of_a_password_change_leaves_no_session(
    account_db, keyring, change_first
):
    sessions = SessionService(keyring, Timeouts(), Clock(T0))
    keep = commit(
        account_db, lambda root: sessions.key(sessions.start(root["ada"], None, None))
    )
    commit(account_db, lambda root: sessions.start(root["ada"], None, None))

    def change(root: Any) -> None:
        # A password change keeps the session it was made in, and ends
        # every other.
        assert sessions.end_all(root["ada"], keep=keep) == 1

    def sign_in(root: Any) -> None:
        sessions.start(root["ada"], "192.0.2.9", "Elsewhere")

    race(account_db, *((change, sign_in) if change_first else (sign_in, change)))
    assert commit(account_db, lambda root: list(root["ada"].sessions)) == [keep]


@pytest.mark.parametrize("forget_first", [True, False])
def test_a_place_trusted_at_the_moment_of_this_wasnt_me_stays_forgotten(
    account_db, keyring, forget_first
):
    trust = TrustService(keyring, Clock(T0), "new_ip_or_device")
    commit(account_db, lambda root: trust.trust(root["ada"], "d0", "192.0.2.1", None))

    def forget(root: Any) -> None:
        assert trust.forget_all(root["ada"]) == (1, 1)

    def sign_in(root: Any) -> None:
        trust.trust(root["ada"], "d1", "198.51.100.7", "Elsewhere")

    race(account_db, *((forget, sign_in) if forget_first else (sign_in, forget)))

    def places(root: Any) -> tuple[int, int]:
        user = root["ada"]
        return len(user.trusted_devices), len(user.trusted_networks)

    assert commit(account_db, places) == (0, 0)


# Sign-in sessions


@pytest.fixture
def session_db(db: DB) -> DB:
    commit(db, lambda root: root.__setitem__("s", SignInSession(T0, b"ip", b"ua")))
    return db


def test_two_requests_of_one_session_keep_the_later_activity(session_db, keyring):
    def touch_at(minutes: int) -> Change:
        def touch(root: Any) -> None:
            SessionService(
                keyring, Timeouts(), Clock(T0 + timedelta(minutes=minutes))
            ).touch(root["s"])

        return touch

    race(session_db, touch_at(3), touch_at(2))
    assert commit(session_db, lambda root: root["s"].last_active) == T0 + timedelta(
        minutes=3
    )


def test_activity_within_a_minute_writes_nothing(session_db, keyring):
    before = serial(session_db, lambda root: root["s"])
    service = SessionService(keyring, Timeouts(), Clock(T0 + timedelta(seconds=59)))
    commit(session_db, lambda root: service.touch(root["s"]))
    assert serial(session_db, lambda root: root["s"]) == before


def test_a_session_changed_otherwise_is_a_real_conflict(session_db, keyring):
    service = SessionService(keyring, Timeouts(), Clock(T0 + timedelta(minutes=5)))

    def relabel(root: Any) -> None:
        root["s"].ip_token = b"elsewhere"

    with pytest.raises(ConflictError):
        race(session_db, relabel, lambda root: service.touch(root["s"]))


def one_session(tree: Any) -> Change:
    """An account whose sessions are ``tree`` holding one session, "old"."""

    def fill(root: Any) -> None:
        root["sessions"] = tree
        tree["old"] = SignInSession(T0, None, None)

    return fill


def sign_out_old(root: Any) -> None:
    del root["sessions"]["old"]


def sign_in_new(root: Any) -> None:
    root["sessions"]["new"] = SignInSession(T0, None, None)


def test_signing_out_of_the_only_session_while_signing_in_both_commit(db):
    # The sign-out empties the tree, and removes its first key, while the
    # sign-in adds one: with the floor, BTrees merge the two.
    commit(db, one_session(Sessions()))
    race(db, sign_out_old, sign_in_new)
    assert commit(db, lambda root: list(root["sessions"])) == ["new"]


def test_without_the_floor_the_same_two_conflict(db):
    commit(db, one_session(OOBTree()))
    with pytest.raises(ConflictError):
        race(db, sign_out_old, sign_in_new)


def test_a_tree_of_sessions_shows_only_sessions():
    sessions = Sessions({"b": 2, "a": 1})
    assert (len(sessions), list(sessions), bool(sessions)) == (2, ["a", "b"], True)
    assert (list(sessions.items()), list(sessions.values())) == (
        [("a", 1), ("b", 2)],
        [1, 2],
    )
    del sessions["a"], sessions["b"]
    assert (len(sessions), list(sessions), bool(sessions)) == (0, [], False)


def test_an_account_from_before_the_floor_gets_one_at_its_next_sign_in(db, keyring):
    service = SessionService(keyring, Timeouts(), Clock(T0))
    commit(db, one_session(OOBTree()))

    def sign_in(root: Any) -> None:
        user = User(T0)
        user.sessions = root["sessions"]
        service.start(user, None, None)
        root["sessions"] = user.sessions

    commit(db, sign_in)
    assert commit(
        db, lambda root: (type(root["sessions"]), "old" in root["sessions"])
    ) == (Sessions, True)
    assert commit(db, lambda root: len(root["sessions"])) == 2


# Conflicts through the whole request


def app_with(settings: dict[str, str], **views: Callable) -> Any:
    app = main({}, **settings)
    config = Configurator(registry=app.registry)
    for name, view in views.items():
        config.add_view(view, context=IRoot, name=name, renderer="string")
    config.commit()
    return app


def records(caplog: Any, at_least: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= at_least]


def test_a_conflict_that_outlasts_the_retries_is_a_503(quiet_settings, caplog):
    attempts = []

    def always(context: Any, request: Any) -> str:
        attempts.append(request.environ["retry.attempt"])
        raise ConflictError()

    app = app_with(quiet_settings, always=always)
    caplog.set_level(logging.INFO)
    testapp = webtest.TestApp(app)
    page = testapp.get("/always", status=503)
    assert attempts == list(range(8))
    assert page.headers["Retry-After"] == "1"
    assert "Server busy" in page.text
    assert "try again in a moment" in page.text
    assert "<main" in page.text  # drawn in the layout
    assert "Traceback" not in page.text
    assert records(caplog, logging.ERROR) == []
    (warning,) = records(caplog, logging.WARNING)
    # What collided is named, so an operator can find the hot spot.
    assert warning.getMessage() == (
        "ConflictError on GET /always outlasted 8 attempts; answered 503: "
        "database conflict error"
    )
    retries = [r for r in caplog.records if r.name == "wingapp.retry"]
    assert [r.getMessage() for r in retries] == [
        f"ConflictError on GET /always, attempt {n} of 8; trying again: "
        "database conflict error"
        for n in range(1, 8)
    ]
    assert all(r.exc_info is None for r in caplog.records)
    data = testapp.get("/always", headers={"Accept": "application/json"}, status=503)
    assert data.json["status"] == 503
    app.registry._zodb_databases[""].close()


def test_a_conflict_a_retry_resolves_is_only_noted(quiet_settings, caplog, tmp_path):
    """A real conflict at commit, in a request that also sends mail: the
    retry commits, one message leaves, and nothing is logged as an error."""
    mailer = Mailer(tmp_path / "outbox", "app@example.org", after_commit=lambda p: None)

    def contested(context: Any, request: Any) -> str:
        context.visits = getattr(context, "visits", 0) + 1
        message = EmailMessage()
        message["To"] = "ada@example.org"
        message.set_content("hello")
        mailer.send(message, request.tm)
        if request.environ["retry.attempt"] == 0:
            # Another request changes the root and commits first.
            commit(
                request.registry._zodb_databases[""],
                lambda root: setattr(root["wingapp"], "visits", 10),
            )
        return "done"

    app = app_with(quiet_settings, contested=contested)
    caplog.set_level(logging.INFO)
    assert webtest.TestApp(app).get("/contested").text == "done"
    assert records(caplog, logging.WARNING) == []
    (retry,) = [r for r in caplog.records if r.name == "wingapp.retry"]
    assert retry.levelno == logging.INFO
    assert retry.exc_info is None
    assert retry.getMessage().startswith("ConflictError on GET /contested, attempt 1")
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 1
    assert list((tmp_path / "outbox" / "tmp").iterdir()) == []
    visits = commit(
        app.registry._zodb_databases[""], lambda root: root["wingapp"].visits
    )
    assert visits == 11
    app.registry._zodb_databases[""].close()


def test_retries_wait_a_random_time_that_grows():
    waits = []

    class Event:
        exception = ConflictError()

        class request:
            method = "POST"
            path = "/login"
            environ: dict = {"retry.attempts": 5}

    pause = PauseBeforeRetry(0.05, 0.15, sleep=waits.append, uniform=lambda a, b: b)
    for attempt in range(4):
        Event.request.environ["retry.attempt"] = attempt
        pause(Event)
    # Doubling, up to the longest wait.
    assert waits == [0.05, 0.1, 0.15, 0.15]
    PauseBeforeRetry(0, 0.15, sleep=waits.append)(Event)
    assert len(waits) == 4


def test_the_wait_is_a_setting(settings):
    with pytest.raises(SystemExit, match=r"retry\.jitter_ms must be from 0 to 1000"):
        main({}, **{**settings, "retry.jitter_ms": "5000"})
    with pytest.raises(SystemExit, match=r"retry\.max_wait_ms must be from 0 to 5000"):
        main({}, **{**settings, "retry.max_wait_ms": "9000"})
