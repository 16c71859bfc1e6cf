"""Password policy and hashing (numbers from SECURITY.md).

argon2id is the default scheme; PBKDF2-HMAC-SHA512 is there for sites that
must use FIPS-approved primitives. Hashes made with another scheme or with
weaker parameters verify and are then re-hashed at the next sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import argon2
import bcrypt
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from ..settings import validate
from .settings import PASSWORDS

MIN_LENGTH = 15
MAX_LENGTH = 128
MIN_SCORE = 3
# zxcvbn refuses a password over 72 characters (its run time grows quickly
# with length); the first 72 are plenty to judge whether one is guessable.
SCORED_PREFIX = 72

PBKDF2_PREFIX = "$pbkdf2-sha512$"
ARGON2ID_PREFIX = "$argon2id$"
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
# bcrypt reads only the first 72 bytes of a password; the systems that made
# the hashes we import cut longer ones there, so verifying does the same.
BCRYPT_MAX_BYTES = 72

# The forms an import accepts. Salts and digests are checked for their
# alphabet and a plausible length; the library checks the rest at sign-in.
ARGON2_HASH = re.compile(
    r"\$argon2(?:id|i|d)\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})"
    r"\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}\Z"
)
PBKDF2_HASH = re.compile(
    r"\$pbkdf2-sha512\$(\d{1,10})\$[./A-Za-z0-9]{11,}\$[./A-Za-z0-9]{86}\Z"
)
BCRYPT_HASH = re.compile(r"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}\Z")
# An imported hash is verified at its own cost at the next sign-in: these
# bounds keep one hash from taking more than a second or two, or a burst of
# sign-ins from exhausting memory (SECURITY.md bounds concurrent hashing).
MAX_ARGON2_MEMORY_KIB = 1024 * 1024
MAX_ARGON2_TIME_COST = 20
MAX_ARGON2_PARALLELISM = 64
MAX_PBKDF2_ITERATIONS = 5_000_000
BCRYPT_COSTS = range(4, 17)
KNOWN_FORMS = (
    "argon2 ($argon2id$...), PBKDF2-SHA512 in passlib's form "
    "($pbkdf2-sha512$...) or bcrypt ($2b$...)"
)


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@dataclass(frozen=True)
class Strength:
    score: int
    warning: str
    suggestions: tuple[str, ...]


def strength(password: str, user_inputs: tuple[str, ...] = ()) -> Strength:
    scored = normalize_password(password)[:SCORED_PREFIX]
    if not scored:
        # zxcvbn fails on nothing (an emptied field, as the meter sends it);
        # nothing is as weak as a password gets.
        return Strength(score=0, warning="", suggestions=())
    result = zxcvbn(scored, user_inputs=list(user_inputs))
    feedback = result.get("feedback") or {}
    return Strength(
        score=int(result["score"]),
        warning=feedback.get("warning") or "",
        suggestions=tuple(feedback.get("suggestions") or ()),
    )


def password_problems(
    password: str,
    user_inputs: tuple[str, ...] = (),
    min_length: int = MIN_LENGTH,
    max_length: int = MAX_LENGTH,
    min_score: int = MIN_SCORE,
) -> list[str]:
    """Why ``password`` is refused, as sentences for the person choosing it."""
    normalized = normalize_password(password)
    if len(normalized) < min_length:
        return [f"Use at least {min_length} characters (a few words make it easy)."]
    if len(normalized) > max_length:
        return [f"Use at most {max_length} characters."]
    if not normalized.isprintable():
        return ["Use printable characters only (no control characters)."]
    found = strength(normalized, user_inputs)
    if found.score < min_score:
        reason = found.warning or "This password is too easy to guess."
        return [
            f"{reason.rstrip('.')}. Add more words or characters that are less common."
        ]
    return []


def generate_password() -> str:
    """A random password well inside the policy (24 characters, ~144 bits)."""
    return secrets.token_urlsafe(18)


def imported_hash_problem(stored: str) -> str | None:
    """Why ``stored`` cannot be imported as a password hash (a sentence for
    the person who made the file), or None if it can."""
    argon2_hash = ARGON2_HASH.match(stored)
    if argon2_hash:
        memory, time_cost, lanes = map(int, argon2_hash.groups())
        if memory > MAX_ARGON2_MEMORY_KIB:
            return "The argon2 hash uses more than 1 GiB of memory; the limit is 1 GiB."
        if time_cost > MAX_ARGON2_TIME_COST:
            return f"The argon2 hash's time cost is above {MAX_ARGON2_TIME_COST}."
        if lanes > MAX_ARGON2_PARALLELISM:
            return f"The argon2 hash's parallelism is above {MAX_ARGON2_PARALLELISM}."
        return None
    pbkdf2_hash = PBKDF2_HASH.match(stored)
    if pbkdf2_hash:
        if not 1 <= int(pbkdf2_hash.group(1)) <= MAX_PBKDF2_ITERATIONS:
            return (
                "The PBKDF2 hash's iteration count must be 1 to "
                f"{MAX_PBKDF2_ITERATIONS:,}."
            )
        return None
    bcrypt_hash = BCRYPT_HASH.match(stored)
    if bcrypt_hash:
        if int(bcrypt_hash.group(1)) not in BCRYPT_COSTS:
            return (
                f"The bcrypt hash's cost must be {BCRYPT_COSTS[0]} to "
                f"{BCRYPT_COSTS[-1]}."
            )
        return None
    return f"The password hash is not in a form we accept: {KNOWN_FORMS}."


def _ab64_encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=").replace("+", ".")


def _ab64_decode(text: str) -> bytes:
    text = text.replace(".", "+")
    return base64.b64decode(text + "=" * (-len(text) % 4))


class PasswordHasher:
    """Hashes and verifies passwords; bounds how many hash at once.

    Every argon2 hash takes ``memory_cost`` KiB; the semaphore keeps a burst
    of sign-ins from taking more than ``max_concurrent`` times that.
    """

    def __init__(
        self,
        scheme: str = "argon2id",
        time_cost: int = 3,
        memory_cost: int = 65536,
        parallelism: int = 4,
        pbkdf2_iterations: int = 220_000,
        max_concurrent: int = 4,
    ) -> None:
        if scheme not in ("argon2id", "pbkdf2-sha512"):
            raise ValueError(f"unknown password scheme {scheme!r}")
        self.scheme = scheme
        self.pbkdf2_iterations = pbkdf2_iterations
        self._argon2 = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._slots = threading.BoundedSemaphore(max_concurrent)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> PasswordHasher:
        return cls.from_values(validate(PASSWORDS, settings))

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> PasswordHasher:
        """From the typed values of the settings schema."""
        return cls(
            scheme=values["passwords.scheme"],
            time_cost=values["passwords.argon2_time_cost"],
            memory_cost=values["passwords.argon2_memory_cost"],
            parallelism=values["passwords.argon2_parallelism"],
            pbkdf2_iterations=values["passwords.pbkdf2_iterations"],
            max_concurrent=values["passwords.max_concurrent_hashes"],
        )

    def dummy_hash(self) -> str:
        """A hash of no one's password, to verify against when no account
        matches, so that a wrong name costs as much time as a wrong
        password. Made on first use: most processes never need it, and two
        threads making it at once only do the work twice."""
        found = getattr(self, "_dummy_hash", None)
        if found is None:
            found = self._dummy_hash = self.hash(
                "wingapp: no such account " + secrets.token_hex(8)
            )
        return found

    def hash(self, password: str) -> str:
        password = normalize_password(password)
        with self._slots:
            if self.scheme == "argon2id":
                return self._argon2.hash(password)
            return self._pbkdf2(
                password, secrets.token_bytes(16), self.pbkdf2_iterations
            )

    def _pbkdf2(self, password: str, salt: bytes, iterations: int) -> str:
        digest = hashlib.pbkdf2_hmac(
            "sha512", password.encode("utf-8"), salt, iterations
        )
        return (
            f"{PBKDF2_PREFIX}{iterations}${_ab64_encode(salt)}${_ab64_encode(digest)}"
        )

    def verify(self, stored: str, password: str) -> bool:
        password = normalize_password(password)
        with self._slots:
            if stored.startswith(PBKDF2_PREFIX):
                return self._verify_pbkdf2(stored, password)
            if stored.startswith(BCRYPT_PREFIXES):
                return self._verify_bcrypt(stored, password)
            try:
                return self._argon2.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return False

    def _verify_pbkdf2(self, stored: str, password: str) -> bool:
        try:
            iterations_text, salt_text, digest_text = stored[
                len(PBKDF2_PREFIX) :
            ].split("$")
            iterations = int(iterations_text)
            salt = _ab64_decode(salt_text)
            expected = _ab64_decode(digest_text)
        except ValueError:
            return False
        digest = hashlib.pbkdf2_hmac(
            "sha512", password.encode("utf-8"), salt, iterations
        )
        return hmac.compare_digest(digest, expected)

    def _verify_bcrypt(self, stored: str, password: str) -> bool:
        secret = password.encode("utf-8")[:BCRYPT_MAX_BYTES]
        try:
            return bcrypt.checkpw(secret, stored.encode("ascii"))
        except ValueError:  # a malformed hash (or not ASCII)
            return False

    def needs_rehash(self, stored: str) -> bool:
        """Whether a hash that has just verified should be made again with
        the current scheme and parameters (bcrypt and argon2i/d always)."""
        if stored.startswith(PBKDF2_PREFIX):
            if self.scheme != "pbkdf2-sha512":
                return True
            iterations = int(stored[len(PBKDF2_PREFIX) :].split("$", 1)[0])
            return iterations < self.pbkdf2_iterations
        if self.scheme != "argon2id" or not stored.startswith(ARGON2ID_PREFIX):
            return True
        return self._argon2.check_needs_rehash(stored)
