from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyramid import testing

from wingapp.audit import AuditEvent, AuditLog, Entry, record
from wingapp.resources import make_root

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


def test_unknown_kinds_and_outcomes_are_refused():
    with pytest.raises(ValueError, match="unknown event kind"):
        AuditEvent(None, "coffee")
    with pytest.raises(ValueError, match="unknown outcome"):
        AuditEvent(None, "sign-in", outcome="maybe")


def test_record_encrypts_where_the_request_came_from(keyring):
    root = make_root()
    request = testing.DummyRequest(
        root=root, client_addr="192.0.2.1", user_agent="Agent/1"
    )
    request.registry.keyring = keyring
    request.registry.clock = lambda: T0
    record(AuditEvent(request, "sign-in", login="ada", detail={"via": "form"}))
    request.client_addr = None
    request.user_agent = None
    record(AuditEvent(request, "sign-out", login="ada"))
    first, second = root.audit.newest(2)[::-1]
    assert keyring.decrypt(first.ip_token) == "192.0.2.1"
    assert b"192.0.2.1" not in first.ip_token
    assert keyring.decrypt(first.ua_token) == "Agent/1"
    assert first.detail == {"via": "form"}
    assert second.ip_token is None and second.ua_token is None
