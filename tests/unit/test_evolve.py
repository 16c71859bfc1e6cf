from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta

import pytest
import transaction
from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree, OOTreeSet
from ZODB import DB

from tests.accounts import with_root
from tests.unit.test_concurrency import code
from wingapp import evolve, main
from wingapp.audit import Entry, LogTree, widen_audit_log
from wingapp.codes.models import Code
from wingapp.directives import evolve_steps
from wingapp.folder import Folder, WideTree, widened
from wingapp.resources import ROOT_KEY, make_root
from wingapp.shards import shard
from wingapp.users.evolve import spread_accounts
from wingapp.users.models import User


@pytest.fixture
def opened(app):
    db = DB(None)
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    with tm:
        conn.root()[ROOT_KEY] = root = make_root(app.registry)
        root.generation = 0
    yield db, tm, conn
    conn.close()
    db.close()


def test_steps_run_in_order_each_in_its_own_transaction(opened):
    db, tm, conn = opened
    seen = []
    steps = [
        evolve.Step(2, "second", lambda root: seen.append(("two", root.generation))),
        evolve.Step(1, "first", lambda root: seen.append(("one", root.generation))),
    ]
    ran = evolve.evolve(lambda: conn.root()[ROOT_KEY], tm, steps)
    assert [s.generation for s in ran] == [1, 2]
    assert seen == [("one", 0), ("two", 1)]
    with tm:
        assert conn.root()[ROOT_KEY].generation == 2
    notes = [t.description.decode() for t in db.storage.iterator()]
    assert notes[-2:] == ["wingapp evolve 1: first", "wingapp evolve 2: second"]
    assert evolve.evolve(lambda: conn.root()[ROOT_KEY], tm, steps) == []


def test_dry_run_changes_nothing(opened):
    _db, tm, conn = opened
    calls = []
    steps = [evolve.Step(1, "first", calls.append)]
    due = evolve.evolve(lambda: conn.root()[ROOT_KEY], tm, steps, dry_run=True)
    assert [s.generation for s in due] == [1]
    assert calls == []
    with tm:
        assert conn.root()[ROOT_KEY].generation == 0


def test_a_failing_step_keeps_the_generation_of_the_last_good_one(opened):
    _db, tm, conn = opened

    def boom(root):
        root.title = "half-done"
        raise RuntimeError("boom")

    steps = [evolve.Step(1, "ok", lambda root: None), evolve.Step(2, "bad", boom)]
    with contextlib.suppress(RuntimeError):
        evolve.evolve(lambda: conn.root()[ROOT_KEY], tm, steps)
    with tm:
        root = conn.root()[ROOT_KEY]
        assert root.generation == 1
        assert root.title == "wingapp"


def test_a_new_database_starts_at_the_latest_generation(app):
    latest = max(s.generation for s in evolve_steps(app.registry))
    assert make_root(app.registry).generation == latest


def database(app):
    return app.registry._zodb_databases[""]


def test_data_behind_the_code_is_a_warning_at_start_up(file_settings, caplog):
    app = main({}, **file_settings)
    latest = max(s.generation for s in evolve_steps(app.registry))

    def older(root):
        root.generation = latest - 2

    with_root(app, older, commit=True)
    last = database(app).lastTransaction()
    database(app).close()
    # The code upgraded, the data not yet evolved: the next start says so.
    with caplog.at_level(logging.WARNING, logger="wingapp"):
        app = main({}, **file_settings)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f"The data is at generation {latest - 2}, the code at {latest}: "
        "run `wingapp CONFIG evolve` to bring the data forward."
    )
    # Said, not done.
    assert database(app).lastTransaction() == last
    assert with_root(app, lambda root: root.generation) == latest - 2
    database(app).close()


def test_data_at_the_code_s_generation_starts_quietly(file_settings, caplog):
    with caplog.at_level(logging.WARNING, logger="wingapp"):
        # A new database is made at the newest generation...
        database(main({}, **file_settings)).close()
        # ...and opened again.
        database(main({}, **file_settings)).close()
    assert caplog.records == []


def old_account(user):
    """``user`` as generation 0 left it: no records, and the back-off count
    and last sign-in as plain attributes."""
    from wingapp.users.models import User

    state = user.__getstate__()
    for name in (
        "sessions",
        "trusted_devices",
        "trusted_networks",
        "failed_attempts",
        "sign_in_time",
    ):
        del state[name]
    state.update(failures=2, last_failure=T0, last_sign_in=T0)
    old = User.__new__(User)
    old.__setstate__(state)
    return old


def one_tree_log(entries):
    """An event log as generation 3 left it: one tree keyed by time."""
    from wingapp.audit import AuditLog

    tree = LOBTree()
    for entry in entries:
        tree[int(entry.time.timestamp() * 1_000_000) << 10] = entry
    log = AuditLog.__new__(AuditLog)
    log.__setstate__({"entries": tree, "_count": Length(len(tree))})
    return log


@contextlib.contextmanager
def evolved(app, root):
    """``root`` stored in a database of its own and brought up to date by
    the registered steps: yields the steps run and the root, in a
    transaction."""
    db = DB(None)
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    with tm:
        conn.root()[ROOT_KEY] = root
    ran = evolve.evolve(lambda: conn.root()[ROOT_KEY], tm, evolve_steps(app.registry))
    try:
        with tm:
            yield ran, conn.root()[ROOT_KEY]
    finally:
        conn.close()
        db.close()


T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def test_the_real_steps_bring_an_old_database_up_to_date(app):
    from wingapp.audit import add_audit_log
    from wingapp.folder import Folder
    from wingapp.users.models import User

    root = make_root(app.registry)
    root.generation = 0
    del root.audit
    root["users"].add("old", old_account(User(T0)))
    codes = root["codes"]
    code = Code(
        purpose="sign-in",
        owner="old",
        binding="b",
        digest="d",
        created=T0,
        expires=T0 + timedelta(minutes=10),
    )
    Folder.add(codes, "c1", code)
    del codes.newest, codes.timelines
    with evolved(app, root) as (ran, root):
        steps = evolve_steps(app.registry)
        assert [s.generation for s in ran] == [s.generation for s in steps]
        assert {1, 2, 3, 4, 5, 6, 7, 8} <= {s.generation for s in ran}
        assert root["codes"].newest_code("old", "sign-in") is code
        assert [c.__name__ for c in root["codes"].newest_first()] == ["c1"]
        assert len(root.audit) == 0
        user = root["users"]["old"]
        assert len(user.sessions) == 0
        assert (user.failures, user.last_failure, user.last_sign_in) == (2, T0, T0)
        # Running a step again finds nothing to add.
        audit = root.audit
        add_audit_log(root)
        assert root.audit is audit


def test_generations_4_to_6_spread_what_every_request_wrote(app):
    from wingapp.audit import Entry
    from wingapp.users.models import User

    root = make_root(app.registry)
    root.generation = 3
    entry = Entry(T0, "sign-in", "success", "old", None, None, None, {})
    root.audit = one_tree_log([entry])
    root["users"].add("old", old_account(User(T0)))
    codes = root["codes"]
    del codes.timelines
    codes.timeline = OOTreeSet()
    with evolved(app, root) as (ran, root):
        assert [s.generation for s in ran if s.generation <= 6] == [4, 5, 6]
        assert len(root.audit.shards) > 1
        assert root.audit.newest(1)[0].login == "old"
        assert not hasattr(root["codes"], "timeline")
        assert len(root["codes"].timelines) > 1
        user = root["users"]["old"]
        assert user.failures == 2
        assert "failures" not in vars(user)


def narrow(trees) -> OOBTree:
    """One plain OOBTree holding what ``trees`` (one tree, or a spread of
    them) hold: how databases made before generation 7 kept an index."""
    tree = OOBTree()
    for part in trees if isinstance(trees, tuple) else (trees,):
        tree.update(part)
    return tree


def test_generations_7_and_8_widen_the_trees_a_crowd_adds_to(app):
    root = make_root(app.registry)
    root.generation = 6
    users, codes = root["users"], root["codes"]
    users.add("old", User(T0))
    users.by_email["hash-of-old"] = "old"
    for folder, names in ((users, ("data", "by_email")), (codes, ("data", "newest"))):
        for name in names:
            setattr(folder, name, narrow(getattr(folder, name)))
    with evolved(app, root) as (ran, root):
        assert [s.generation for s in ran] == list(range(7, 19))
        users = root["users"]
        # Widened, then spread by generations 17 and 18.
        assert all(isinstance(tree, WideTree) for tree in users.trees)
        assert isinstance(users.by_email, WideTree)
        assert isinstance(root["codes"].data, WideTree)
        assert all(isinstance(tree, WideTree) for tree in root["codes"].newest)
        assert users["old"].created == T0
        assert users.by_email["hash-of-old"] == "old"


def test_generations_17_and_18_spread_accounts_look_alikes_and_owners(app):
    root = make_root(app.registry)
    root.generation = 16
    users, codes = root["users"], root["codes"]
    logins = [f"user{i:03d}" for i in range(40)]
    for login in logins:
        users.add_user(login, User(T0))
        Folder.add(codes, f"code-{login}", code(login))
    # As databases made before generation 17 hold them: one tree each.
    users.data = widened(narrow(users.data))
    users.by_skeleton = widened(narrow(users.by_skeleton))
    codes.newest = widened(narrow(codes.newest))
    with evolved(app, root) as (ran, root):
        assert [s.generation for s in ran] == [17, 18]
        users, codes = root["users"], root["codes"]
        assert len(users.trees) == len(users.by_skeleton) == len(codes.newest) == 16
        for login in logins:
            assert login in users.trees[shard(login, 16)]
            assert users[login].__name__ == login
            assert codes.newest_code(login, "sign-in").owner == login
        assert list(users) == logins
        # A look-alike of an account from before is still refused.
        assert users.looks_like("userO07") == "user007"
        # Run again, it changes nothing.
        before = users.trees, users.by_skeleton
        spread_accounts(root)
        assert (users.trees, users.by_skeleton) == before


def test_generation_16_gives_the_event_log_wide_buckets_keeping_every_entry(app):
    root = make_root(app.registry)
    root.generation = 15
    log = root.audit
    for i in range(300):
        when = T0 + timedelta(seconds=i)
        log.append(Entry(when, "sign-in", "success", "ada", None, None, None, {}))
    # As databases made before generation 16 hold them: plain LOBTrees,
    # except one tree made wide already (it stays as it is).
    kept = log.shards[5]
    narrow = []
    for tree in log.shards:
        plain = LOBTree()
        plain.update(tree)
        narrow.append(plain)
    log.shards = (*narrow[:5], kept, *narrow[6:])
    with evolved(app, root) as (ran, root):
        assert [s.generation for s in ran] == [16, 17, 18]
        log = root.audit
        assert all(isinstance(tree, LogTree) for tree in log.shards)
        assert log.shards[5] is kept
        assert len(log) == 300
        times = [e.time for e in log.between(T0, T0 + timedelta(hours=1))]
        assert times == [T0 + timedelta(seconds=i) for i in range(300)]
        # Run again, it changes nothing.
        before = log.shards
        widen_audit_log(root)
        assert log.shards is before


def test_a_wide_tree_splits_sixteen_times_less_often():
    from BTrees.OOBTree import OOBTree

    from wingapp.folder import WideTree, widened

    def buckets(tree):
        count, bucket = 0, tree._firstbucket
        while bucket is not None:
            count, bucket = count + 1, bucket._next
        return count

    narrow, wide = OOBTree(), WideTree()
    for n in range(4800):
        narrow[f"user{n:05d}"] = wide[f"user{n:05d}"] = n
    assert buckets(wide) * 16 <= buckets(narrow)
    assert widened(wide) is wide
