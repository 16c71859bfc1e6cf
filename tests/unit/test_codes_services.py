"""CodeService: issuing, checking, cancelling and sweeping codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyramid.exceptions import ConfigurationError

from wingapp.codes.models import Codes
from wingapp.codes.services import (
    CodeCooldown,
    CodeService,
    VerifyResult,
    code_digest,
)
from wingapp.codes.settings import CodeSettings

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BINDING = "binding-of-the-pending-sign-in"


class Clock:
    def __init__(self) -> None:
        self.time = START

    def __call__(self) -> datetime:
        return self.time

    def advance(self, **kw: float) -> None:
        self.time += timedelta(**kw)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def codes():
    return Codes(title="Codes")


@pytest.fixture
def service(codes, keyring, clock):
    return CodeService(codes, keyring, clock)


def verify(service, code, entered, **kw):
    args = {
        "purpose": code.purpose,
        "owner": code.owner,
        "binding": BINDING,
        **kw,
    }
    return service.verify(code.__name__, entered=entered, **args)


def test_issue_stores_a_keyed_hash_and_never_the_digits(service, codes, keyring):
    code, plain = service.issue("sign-in", "alice", BINDING)
    assert len(plain) == 6 and plain.isdigit()
    assert codes[code.__name__] is code
    assert len(code.__name__) >= 22  # 16 random bytes
    assert (code.purpose, code.owner, code.state, code.attempts) == (
        "sign-in",
        "alice",
        "pending",
        0,
    )
    assert code.created == START
    assert code.expires == START + timedelta(minutes=10)
    assert plain not in repr(vars(code))
    assert code.digest == code_digest(keyring, code.__name__, plain)
    assert len(code.digest) == 64


def test_equal_digits_hash_differently_under_different_ids(keyring):
    assert code_digest(keyring, "id-one", "123456") != code_digest(
        keyring, "id-two", "123456"
    )
    # ...and not as a plain SHA-256 or an HMAC under another purpose would.
    assert code_digest(keyring, "id-one", "123456") != keyring.mac(
        "email", "id-one:123456"
    )


def test_the_right_code_works_once(service):
    code, plain = service.issue("sign-in", "alice", BINDING)
    first = verify(service, code, plain)
    assert first == VerifyResult("ok", 5)
    assert first.ok is True
    assert code.state == "used"
    again = verify(service, code, plain)
    assert (again.ok, again.reason) == (False, "used")


def test_spaces_in_the_entry_do_not_matter(service):
    code, plain = service.issue("sign-in", "alice", BINDING)
    assert verify(service, code, f" {plain[:3]} {plain[3:]}\t").ok


@pytest.mark.parametrize("entered", ["", "abcdef", "12345", "1234567", "١٢٣٤٥٦"])
def test_anything_else_is_wrong_and_counts(service, entered):
    code, _ = service.issue("sign-in", "alice", BINDING)
    result = verify(service, code, entered)
    assert (result.ok, result.reason, result.attempts_left) == (False, "wrong", 4)
    assert code.attempts == 1


def test_five_wrong_entries_cancel_the_code(service):
    code, plain = service.issue("sign-in", "alice", BINDING)
    wrong = "1" * 6 if plain != "1" * 6 else "2" * 6
    lefts = [verify(service, code, wrong).attempts_left for _ in range(4)]
    assert lefts == [4, 3, 2, 1]
    assert verify(service, code, wrong) == VerifyResult("too-many-attempts", 0)
    assert code.state == "cancelled"
    # Even the right code is refused now.
    assert verify(service, code, plain).reason == "cancelled"


def test_success_after_wrong_entries_reports_what_was_left(service):
    code, plain = service.issue("sign-in", "alice", BINDING)
    verify(service, code, "x")
    assert verify(service, code, plain) == VerifyResult("ok", 4)


def test_a_code_expires_after_ten_minutes(service, clock):
    code, plain = service.issue("sign-in", "alice", BINDING)
    clock.advance(minutes=9, seconds=59)
    assert code.status(clock()) == "pending"
    clock.advance(seconds=1)
    assert code.status(clock()) == "expired"
    assert code.state == "pending"  # reading the status wrote nothing
    assert verify(service, code, plain) == VerifyResult("expired", 0)
    assert code.state == "expired"
    assert code.attempts == 0


def test_lifetime_and_attempts_come_from_settings(codes, keyring, clock):
    service = CodeService(
        codes,
        keyring,
        clock,
        CodeSettings.from_settings(
            {"codes.lifetime": "120", "codes.max_attempts": "2", "codes.digits": "8"}
        ),
    )
    code, plain = service.issue("reset-password", "bob", BINDING)
    assert len(plain) == 8
    assert code.expires - code.created == timedelta(minutes=2)
    assert verify(service, code, "0").reason == "wrong"
    assert verify(service, code, "0").reason == "too-many-attempts"


@pytest.mark.parametrize(
    ("change", "value"),
    [("purpose", "reset-password"), ("owner", "mallory"), ("binding", "other-flow")],
)
def test_a_code_of_another_purpose_owner_or_flow_is_a_mismatch(service, change, value):
    code, plain = service.issue("sign-in", "alice", BINDING)
    result = verify(service, code, plain, **{change: value})
    assert (result.ok, result.reason) == (False, "mismatch")
    # A mismatch neither counts as an attempt nor uses the code up.
    assert (code.attempts, code.state) == (0, "pending")
    assert verify(service, code, plain).ok


def test_a_mismatch_reveals_nothing_about_a_used_code(service):
    code, plain = service.issue("sign-in", "alice", BINDING)
    verify(service, code, plain)
    assert verify(service, code, plain, binding="other").reason == "mismatch"


def test_unknown_code_is_not_found(service):
    result = service.verify("no-such-id", "sign-in", "alice", BINDING, "123456")
    assert (result.ok, result.reason, result.attempts_left) == (False, "not-found", 0)


def test_a_new_code_within_a_minute_is_refused(service, clock):
    service.issue("sign-in", "alice", BINDING)
    clock.advance(seconds=20.5)
    with pytest.raises(CodeCooldown) as info:
        service.issue("sign-in", "alice", BINDING)
    assert info.value.seconds_left == 40
    assert "40 s" in str(info.value)
    clock.advance(seconds=39)
    with pytest.raises(CodeCooldown) as info:
        service.issue("sign-in", "alice", BINDING)
    assert info.value.seconds_left == 1


def test_cooldown_is_per_owner_and_purpose(service, codes):
    service.issue("sign-in", "alice", BINDING)
    service.issue("reset-password", "alice", BINDING)
    service.issue("sign-in", "bob", BINDING)
    assert len(codes) == 3


def test_a_new_code_after_a_minute_cancels_the_old_one(service, clock, codes):
    old, old_plain = service.issue("sign-in", "alice", BINDING)
    clock.advance(seconds=60)
    new, new_plain = service.issue("sign-in", "alice", BINDING)
    assert old.state == "cancelled"
    assert verify(service, old, old_plain).reason == "cancelled"
    assert verify(service, new, new_plain).ok
    assert codes.newest_code("alice", "sign-in") is new


def test_no_cooldown_after_the_last_code_was_used_or_expired(service, clock):
    code, plain = service.issue("sign-in", "alice", BINDING)
    verify(service, code, plain)
    second, _ = service.issue("sign-in", "alice", BINDING)
    assert code.state == "used"
    assert second.state == "pending"
    clock.advance(minutes=10)
    # Too old to count, though nobody has tried it: now recorded as expired.
    service.issue("sign-in", "alice", BINDING)
    assert second.state == "expired"


def test_issue_refuses_unknown_purposes_and_unbound_codes(service):
    with pytest.raises(ValueError, match="Unknown code purpose 'login'"):
        service.issue("login", "alice", BINDING)
    with pytest.raises(ValueError, match="bound to the flow"):
        service.issue("sign-in", "alice", "")


def test_cancel_one_code(service):
    code, plain = service.issue("change-email", "alice", BINDING)
    assert service.cancel(code.__name__) is True
    assert service.cancel(code.__name__) is False
    assert service.cancel("no-such-id") is False
    assert verify(service, code, plain).reason == "cancelled"


def test_sweep_removes_codes_expired_longer_than_the_retention(service, clock, codes):
    old, _ = service.issue("sign-in", "alice", BINDING)
    clock.advance(days=3)
    recent, _ = service.issue("sign-in", "alice", BINDING)
    clock.advance(days=7, minutes=10)
    # old expired 10 days ago, recent exactly 7 days ago.
    assert service.sweep() == 2
    assert old.__name__ not in codes
    assert recent.__name__ not in codes
    assert len(codes) == 0
    assert codes.newest_code("alice", "sign-in") is None


def test_sweep_keeps_what_is_within_the_retention(service, clock, codes):
    old, _ = service.issue("sign-in", "alice", BINDING)
    clock.advance(days=2)
    recent, _ = service.issue("sign-in", "bob", BINDING)
    clock.advance(days=7)
    assert service.sweep() == 1
    assert old.__name__ not in codes
    assert list(codes) == [recent.__name__]
    assert codes.newest_code("bob", "sign-in") is recent
    assert codes.newest_code("alice", "sign-in") is None
    assert service.sweep(timedelta(0)) == 1
    assert len(codes) == 0


def test_sweep_keeps_the_index_pointing_at_a_newer_code(service, clock, codes):
    first, _ = service.issue("sign-in", "alice", BINDING)
    clock.advance(days=8)
    second, _ = service.issue("sign-in", "alice", BINDING)
    assert service.sweep() == 1
    assert list(codes) == [second.__name__]
    assert first.__name__ not in codes
    assert codes.newest_code("alice", "sign-in") is second


def test_retention_comes_from_settings(codes, keyring, clock):
    service = CodeService(
        codes, keyring, clock, CodeSettings.from_settings({"codes.retention_days": "1"})
    )
    service.issue("sign-in", "alice", BINDING)
    clock.advance(days=1, minutes=9)
    assert service.sweep() == 0
    clock.advance(minutes=1)
    assert service.sweep() == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("codes.digits", "5", "codes.digits must be from 6 to 12; got 5"),
        ("codes.digits", "13", "codes.digits must be from 6 to 12; got 13"),
        ("codes.digits", "six", "codes.digits must be a whole number from 6 to 12"),
        ("codes.lifetime", "3600", "codes.lifetime must be from 60 to 600"),
        ("codes.resend_after", "10", "codes.resend_after must be from 60 to 3600"),
        ("codes.max_attempts", "10", "codes.max_attempts must be from 1 to 5"),
        ("codes.retention_days", "-1", "codes.retention_days must be from 0"),
        ("codes.retention_days", "1.5", "codes.retention_days must be a whole number"),
    ],
)
def test_bad_settings_are_refused(codes, keyring, clock, name, value, message):
    with pytest.raises(ConfigurationError, match=message):
        CodeSettings.from_settings({name: value})


def test_a_pending_code_can_be_adopted_by_another_flow(service, clock):
    assert service.adopt("ada", "confirm-email", "other-flow") is None
    code, plain = service.issue("confirm-email", "ada", BINDING)
    assert service.adopt("ada", "confirm-email", "other-flow") is code
    # The flow that asked first can no longer use it; the one that adopted it can.
    assert verify(service, code, plain).reason == "mismatch"
    assert verify(service, code, plain, binding="other-flow").ok
    # A code no longer pending (used, or expired) is adopted by nobody.
    assert service.adopt("ada", "confirm-email", "third-flow") is None
    code, _ = service.issue("confirm-email", "bob", BINDING)
    clock.advance(hours=1)
    assert service.adopt("bob", "confirm-email", "other-flow") is None
