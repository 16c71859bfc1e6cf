from __future__ import annotations

import contextlib

import transaction
from ZODB import DB

from wingapp import evolve
from wingapp.resources import ROOT_KEY, make_root


def opened():
    db = DB(None)
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    with tm:
        conn.root()[ROOT_KEY] = root = make_root()
        root.generation = 0
    return db, tm, conn


def test_steps_run_in_order_each_in_its_own_transaction():
    db, tm, conn = opened()
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


def test_dry_run_changes_nothing():
    _db, tm, conn = opened()
    calls = []
    steps = [evolve.Step(1, "first", calls.append)]
    due = evolve.evolve(lambda: conn.root()[ROOT_KEY], tm, steps, dry_run=True)
    assert [s.generation for s in due] == [1]
    assert calls == []
    with tm:
        assert conn.root()[ROOT_KEY].generation == 0


def test_a_failing_step_keeps_the_generation_of_the_last_good_one():
    _db, tm, conn = opened()

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


def test_a_new_database_starts_at_the_latest_generation():
    assert make_root().generation == evolve.LATEST_GENERATION


def test_the_real_steps_bring_an_old_database_up_to_date():
    from datetime import UTC, datetime

    from wingapp.users.models import User

    root = make_root()
    root.generation = 0
    del root.audit
    old = User(datetime.now(UTC))
    for name in (
        "sessions",
        "trusted_devices",
        "trusted_networks",
        "failures",
        "last_failure",
    ):
        delattr(old, name)
    root["users"].add("old", old)
    del root["codes"].newest, root["codes"].timeline
    db = DB(None)
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    with tm:
        conn.root()[ROOT_KEY] = root
    ran = evolve.evolve(lambda: conn.root()[ROOT_KEY], tm)
    assert [s.generation for s in ran] == [1, 2, 3]
    with tm:
        root = conn.root()[ROOT_KEY]
        assert root["codes"].newest_code("old", "sign-in") is None
        assert len(root.audit) == 0
        user = root["users"]["old"]
        assert len(user.sessions) == 0
        assert user.failures == 0
    # Running a step again finds nothing to add.
    evolve.add_audit_log(root)
    assert root.audit is not None
