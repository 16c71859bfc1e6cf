from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wingapp.audit import AuditLog, Entry, spread_audit_log

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def entry(when, kind="sign-in"):
    return Entry(when, kind, "success", "ada", None, None, None, {})


def test_log_orders_by_time_and_selects_ranges():
    log = AuditLog()
    for minutes in (5, 1, 3):
        log.append(entry(T0 + timedelta(minutes=minutes)))
    assert len(log) == 3
    assert [e.time.minute for e in log.between(T0, T0 + timedelta(minutes=4))] == [1, 3]
    assert [e.time.minute for e in log.newest(2)] == [5, 3]


def test_many_entries_at_the_same_instant_are_all_kept():
    log = AuditLog()
    keys = {log.append(entry(T0)) for _ in range(200)}
    assert len(keys) == 200
    assert len(log) == 200
    # Even all in one tree.
    keys = {log.append(entry(T0), shard=3) for _ in range(200)}
    assert len(keys) == 200
    assert len(log) == 400


def test_entries_spread_over_trees_read_back_in_time_order():
    log = AuditLog()
    for ms in range(40):
        log.append(entry(T0 + timedelta(milliseconds=ms)))
    used = [tree for tree in log.shards if len(tree)]
    assert len(used) > 1
    window = log.between(
        T0 + timedelta(milliseconds=10), T0 + timedelta(milliseconds=20)
    )
    assert [e.time.microsecond // 1000 for e in window] == list(range(10, 20))
    newest = [e.time.microsecond // 1000 for e in log.newest(5)]
    assert newest == [39, 38, 37, 36, 35]
    assert len(log.newest(100)) == 40
    assert AuditLog().newest(3) == []


def test_entries_of_one_moment_keep_the_order_they_were_written_in():
    log = AuditLog()
    for kind in ("sign-in", "lockout", "sign-out"):
        log.append(entry(T0, kind))
    assert [e.kind for e in log.newest(3)] == ["sign-out", "lockout", "sign-in"]
    assert [e.kind for e in log.between(T0, T0 + timedelta(seconds=1))] == [
        "sign-in",
        "lockout",
        "sign-out",
    ]


def test_every_entry_can_be_visited_by_key():
    log = AuditLog()
    written = {log.append(entry(T0 + timedelta(seconds=s))) for s in range(30)}
    keys = log.entries.keys()
    assert set(keys) == written
    assert sorted(log.entries[k].time for k in keys) == [
        T0 + timedelta(seconds=s) for s in range(30)
    ]


def test_an_old_log_of_one_tree_is_spread_without_moving_an_entry():
    from BTrees.Length import Length
    from BTrees.LOBTree import LOBTree

    # An event log as generation 3 left it: one tree, keyed by time.
    tree = LOBTree()
    old_entry = entry(T0)
    tree[int(T0.timestamp() * 1_000_000) << 10] = old_entry
    log = AuditLog.__new__(AuditLog)
    log.__setstate__({"entries": tree, "_count": Length(1)})

    class Root:
        audit = log

    spread_audit_log(Root)
    assert log.shards[0] is tree
    assert len(log.shards) == 16
    log.append(entry(T0 + timedelta(minutes=1)), shard=5)
    assert log.newest(2)[1] is old_entry
    assert len(log) == 2
    spread_audit_log(Root)  # a second run finds nothing to do
    assert log.shards[0] is tree
