"""Back-off, trust and session rules, with a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.accounts import Clock
from wingapp.urls import safe_next
from wingapp.users.backoff import Backoff
from wingapp.users.models import User
from wingapp.users.sessions import SessionService, Timeouts
from wingapp.users.trust import TrustService, network_of

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_backoff_schedule():
    policy = Backoff()
    user = User(T0)
    now = T0
    for _ in range(4):
        assert policy.fail(user, now) is False
    assert policy.wait(user, now) == timedelta(0)
    assert policy.fail(user, now) is True
    assert policy.wait(user, now) == timedelta(seconds=60)
    assert policy.wait(user, now + timedelta(seconds=30)) == timedelta(seconds=30)
    for _ in range(5):
        policy.fail(user, now)
    assert policy.wait(user, now) == timedelta(seconds=120)
    for _ in range(200):
        policy.fail(user, now)
    assert policy.wait(user, now) == timedelta(minutes=15)
    # Twelve quiet hours forget everything.
    later = now + timedelta(hours=12)
    assert policy.wait(user, later) == timedelta(0)
    policy.fail(user, later)
    assert user.failures == 1
    policy.succeed(user)
    assert (user.failures, user.last_failure) == (0, None)
    policy.succeed(user)
    assert user.failures == 0


def test_backoff_from_settings():
    policy = Backoff.from_settings(
        {"auth.backoff_threshold": "3", "auth.backoff_cap": "1800"}
    )
    assert (policy.threshold, policy.cap) == (3, timedelta(seconds=1800))


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("192.0.2.77", "192.0.2.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("not an ip", None),
        (None, None),
    ],
)
def test_networks(ip, network):
    assert network_of(ip) == network


def test_trust_records_only_hashes_and_ciphertext(keyring):
    clock = Clock(T0)
    trust = TrustService(keyring, clock, "new_ip_or_device")
    user = User(T0)
    assert trust.code_reason(user, None, "192.0.2.1") is not None
    trust.trust(user, "device-1", "192.0.2.1", "Agent/1")
    trust.trust(user, "device-1", "192.0.2.1", "Agent/1")
    assert len(user.trusted_devices) == len(user.trusted_networks) == 1
    assert trust.code_reason(user, "device-1", "192.0.2.200") is None
    assert trust.code_reason(user, "device-2", "192.0.2.1") is not None
    assert trust.code_reason(user, "device-1", "198.51.100.1") is not None
    (network,) = user.trusted_networks.values()
    assert keyring.decrypt(network.label_token) == "192.0.2.0/24"
    assert "192.0.2" not in "".join(user.trusted_networks.keys())
    trust.trust(user, "device-3", None, None)
    assert len(user.trusted_networks) == 1
    assert user.trusted_devices[trust.device_key("device-3")].label_token is None
    assert trust.revoke(user, trust.network_key("192.0.2.0/24"))
    assert not trust.revoke(user, "nothing")


def test_sessions_expire_idle_or_absolute(keyring):
    clock = Clock(T0)
    service = SessionService(keyring, Timeouts(), clock)
    user = User(T0)
    sid = service.start(user, "192.0.2.1", None)
    assert len(sid) >= 43  # 256 random bits
    record = user.sessions[service.key(sid)]
    assert record.ua_token is None
    assert keyring.decrypt(record.ip_token) == "192.0.2.1"
    assert sid not in "".join(user.sessions.keys())
    clock.advance(minutes=29)
    service.touch(record)
    clock.advance(minutes=29)
    assert service.is_live(record)
    assert service.expiry(record)[1] == "idle"
    clock.advance(minutes=31)
    assert not service.is_live(record)
    assert service.purge_expired(user) == 1
    assert len(user.sessions) == 0


def test_end_all_keeps_the_one_asked_for(keyring):
    service = SessionService(keyring, Timeouts(), Clock(T0))
    user = User(T0)
    keep = service.key(service.start(user, None, None))
    service.start(user, None, None)
    assert service.end_all(user, keep=keep) == 1
    assert list(user.sessions) == [keep]
    assert service.end(user, keep)
    assert not service.end(user, keep)


def test_timeouts_from_settings():
    timeouts = Timeouts.from_settings(
        {"session.idle_timeout": "600", "session.idle_warning": "20"}
    )
    assert timeouts.idle == timedelta(seconds=600)
    assert timeouts.warning == timedelta(seconds=20)
    assert timeouts.absolute == timedelta(hours=12)


class Req:
    host_url = "https://example.com"
    script_name = ""


class Mounted(Req):
    script_name = "/wing"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/wing/users/ada/", "https://example.com/wing/users/ada/"),
        ("/wing", "https://example.com/wing"),
        ("/wingding/", None),
        ("/other/", None),
    ],
)
def test_safe_next_stays_under_the_mount_point(target, expected):
    assert safe_next(Mounted(), target) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/users/ada/", "https://example.com/users/ada/"),
        ("/users/?page=2", "https://example.com/users/?page=2"),
        ("//evil.example/x", None),
        ("https://evil.example/", None),
        ("/\\evil.example", None),
        ("users/ada", None),
        ("/a\nb", None),
        ("/" + "x" * 2001, None),
        ("", None),
        (None, None),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(Req(), target) == expected


def test_activity_moves_in_minutes_or_tenths_of_a_short_idle_timeout(keyring):
    clock = Clock(T0)
    usual = SessionService(keyring, Timeouts(), clock)
    short = SessionService(
        keyring,
        Timeouts(idle=timedelta(seconds=20), warning=timedelta(seconds=10)),
        clock,
    )
    user = User(T0)
    usual_record = user.sessions[usual.key(usual.start(user, None, None))]
    short_record = user.sessions[short.key(short.start(user, None, None))]
    clock.advance(seconds=3)
    usual.touch(usual_record)
    short.touch(short_record)
    assert usual_record.last_active == T0  # within the minute: no write
    assert short_record.last_active == T0 + timedelta(seconds=3)
    clock.advance(seconds=1)
    short.touch(short_record)
    assert short_record.last_active == T0 + timedelta(seconds=3)
