from __future__ import annotations

import hashlib
import threading

import argon2
import pytest

from wingapp.users.passwords import (
    PasswordHasher,
    _ab64_encode,
    generate_password,
    imported_hash_problem,
    password_problems,
    strength,
)

GOOD = "violet harbour lantern seventeen"


def fast(**kw) -> PasswordHasher:
    kw.setdefault("time_cost", 2)
    kw.setdefault("memory_cost", 19456)
    kw.setdefault("parallelism", 1)
    return PasswordHasher(**kw)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short pass", "at least 15"),
        ("x" * 129, "at most 128"),
        ("passwordpassword", "guess"),
        ("aaaaaaaaaaaaaaaaaaaa", "guess"),
        ("good length but\x07bell", "printable"),
    ],
)
def test_policy_refuses_with_a_reason(password, reason):
    problems = password_problems(password)
    assert problems
    assert reason in " ".join(problems).lower() or reason in " ".join(problems)


def test_policy_accepts_long_uncommon_passphrases_and_spaces():
    assert password_problems(GOOD) == []
    assert password_problems("🦊 " + GOOD) == []
    assert password_problems("x" * 20 + " Zq9!kP$vW3@mL7#rT") == []


def test_length_counts_after_nfkc_normalisation():
    # "ﬃ" is one character typed and three after NFKC: 14 become 16.
    typed = "ﬃ" + "qzvbnmxkwrtyp"
    assert len(typed) == 14
    assert not any("at least" in p for p in password_problems(typed))


def test_policy_uses_what_the_user_typed_elsewhere():
    login = "quentinblackwood"
    assert password_problems(login + "2024!", user_inputs=(login,))


def test_strength_gives_a_score_and_feedback():
    weak = strength("password123")
    assert weak.score <= 1
    assert weak.warning or weak.suggestions
    assert strength(GOOD).score >= 3


def test_generated_passwords_pass_the_policy():
    for _ in range(5):
        assert password_problems(generate_password()) == []


def test_argon2id_round_trip_and_nfkc():
    hasher = fast()
    stored = hasher.hash("ｐａｓｓ phrase that is long")
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "pass phrase that is long")
    assert not hasher.verify(stored, "pass phrase that is lonG")
    assert not hasher.verify("not a hash", "x")
    assert not hasher.needs_rehash(stored)


def test_weaker_argon2_parameters_need_a_rehash():
    weak = fast().hash(GOOD)
    assert fast(time_cost=3).needs_rehash(weak)


def test_pbkdf2_scheme_and_its_iterations():
    hasher = fast(scheme="pbkdf2-sha512", pbkdf2_iterations=220_000)
    stored = hasher.hash(GOOD)
    assert stored.startswith("$pbkdf2-sha512$220000$")
    assert hasher.verify(stored, GOOD)
    assert not hasher.verify(stored, GOOD + "!")
    assert not hasher.needs_rehash(stored)
    assert fast(scheme="pbkdf2-sha512", pbkdf2_iterations=300_000).needs_rehash(stored)
    # argon2id is the default: an imported PBKDF2 hash is upgraded.
    assert fast().needs_rehash(stored)
    assert fast().verify(stored, GOOD)
    assert hasher.needs_rehash(fast().hash(GOOD))


def test_imported_passlib_style_pbkdf2_hash_verifies():
    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha512", GOOD.encode(), salt, 25000)
    stored = f"$pbkdf2-sha512$25000${_ab64_encode(salt)}${_ab64_encode(digest)}"
    assert fast().verify(stored, GOOD)
    assert not fast().verify("$pbkdf2-sha512$broken", GOOD)


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="unknown password scheme"):
        PasswordHasher(scheme="md5")


def test_settings_choose_the_parameters():
    hasher = PasswordHasher.from_settings(
        {"passwords.scheme": "pbkdf2-sha512", "passwords.pbkdf2_iterations": "250000"}
    )
    assert hasher.hash(GOOD).startswith("$pbkdf2-sha512$250000$")


def test_concurrent_hashes_are_bounded():
    hasher = fast(max_concurrent=2)
    active = 0
    peak = 0
    lock = threading.Lock()
    real = hasher._argon2

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def hash(self, password):
            return counting(password)

    def counting(password):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            return real.hash(password)
        finally:
            with lock:
                active -= 1

    hasher._argon2 = Counting()
    threads = [threading.Thread(target=hasher.hash, args=(GOOD,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= peak <= 2


# -- imported hashes ------------------------------------------------------------


def bcrypt_hash(password: str, prefix: str = "$2b$") -> str:
    import bcrypt

    made = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    return prefix + made[4:]


@pytest.mark.parametrize("prefix", ["$2b$", "$2a$", "$2y$"])
def test_bcrypt_hashes_verify_and_need_a_rehash(prefix):
    stored = bcrypt_hash(GOOD, prefix)
    hasher = fast()
    assert hasher.verify(stored, GOOD)
    assert not hasher.verify(stored, GOOD + "!")
    assert hasher.needs_rehash(stored)
    assert fast(scheme="pbkdf2-sha512").needs_rehash(stored)


def test_bcrypt_reads_the_first_72_bytes_as_the_old_system_did():
    long = GOOD * 3
    assert len(long.encode()) > 72
    stored = bcrypt_hash(long[:72])
    assert fast().verify(stored, long)


def test_a_malformed_bcrypt_hash_never_verifies():
    assert not fast().verify("$2b$04$tooshort", GOOD)
    assert not fast().verify("$2b$04$" + "é" * 53, GOOD)


@pytest.mark.parametrize("kind", [argon2.Type.ID, argon2.Type.I, argon2.Type.D])
def test_argon2_hashes_of_any_parameters_verify(kind):
    other = argon2.PasswordHasher(
        time_cost=1, memory_cost=8192, parallelism=2, type=kind
    ).hash(GOOD)
    hasher = fast()
    assert hasher.verify(other, GOOD)
    assert hasher.needs_rehash(other)
    assert not hasher.needs_rehash(hasher.hash(GOOD))


def pbkdf2(iterations: int) -> str:
    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha512", GOOD.encode(), salt, iterations)
    return f"$pbkdf2-sha512${iterations}${_ab64_encode(salt)}${_ab64_encode(digest)}"


def test_accepted_imported_hashes():
    assert imported_hash_problem(fast().hash(GOOD)) is None
    assert (
        imported_hash_problem(argon2.PasswordHasher(type=argon2.Type.I).hash("x"))
        is None
    )
    assert imported_hash_problem(pbkdf2(25000)) is None
    assert imported_hash_problem(bcrypt_hash(GOOD)) is None
    assert imported_hash_problem(bcrypt_hash(GOOD, "$2y$")) is None


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        ("", "not in a form we accept"),
        (GOOD, "not in a form we accept"),
        ("$1$salt$md5crypt", "not in a form we accept"),
        ("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA", "not in a form we accept"),
        ("$pbkdf2-sha256$29000$c2FsdHNhbHQ$" + "a" * 43, "not in a form we accept"),
        ("$argon2id$v=19$m=2097152,t=3,p=4$c2FsdHNhbHRzYWx0$" + "A" * 43, "1 GiB"),
        ("$argon2id$v=19$m=65536,t=21,p=4$c2FsdHNhbHRzYWx0$" + "A" * 43, "time cost"),
        ("$argon2id$v=19$m=65536,t=3,p=65$c2FsdHNhbHRzYWx0$" + "A" * 43, "parallelism"),
        (pbkdf2(1).replace("$1$", "$0$"), "iteration count"),
        (pbkdf2(1).replace("$1$", "$5000001$"), "iteration count"),
        ("$2b$03$" + "a" * 53, "cost must be 4 to 16"),
        ("$2b$17$" + "a" * 53, "cost must be 4 to 16"),
    ],
)
def test_refused_imported_hashes_say_why(stored, reason):
    problem = imported_hash_problem(stored)
    assert problem is not None
    assert reason in problem
