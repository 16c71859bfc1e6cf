"""The ``auth.*``, ``passwords.*`` and session timeout settings.

The defaults are SECURITY.md's numbers. Where SECURITY.md sets a bar, the
range lets an operator only tighten it; the other end of each range is
there to stop a typo from locking every user out or a server from running
out of memory.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import colander

from ..settings import choice, group, seconds, whole_number

TWO_STEP_MODES = ("never", "new_ip", "new_device", "new_ip_or_device", "always")
TWO_STEP = choice("auth.two_step", "new_ip_or_device", TWO_STEP_MODES)

UNCONFIRMED_SETTING = "auth.unconfirmed_lifetime"
UNCONFIRMED_LIFETIME = timedelta(hours=24)
ACCOUNTS = group(
    "accounts",
    # SECURITY.md's 24 hours at most; at least long enough for the first
    # code (10 minutes) and a resend or two.
    seconds(UNCONFIRMED_SETTING, 86400, 900, 86400),
)

BACKOFF = group(
    "backoff",
    # Tightening means a wait after fewer failures.
    whole_number("auth.backoff_threshold", 5, 1, 5),
    # Tightening means longer waits; past an hour a step, or a day in all,
    # a few typing mistakes would amount to the permanent lockout that
    # SECURITY.md rules out.
    seconds("auth.backoff_step", 60, 60, 3600),
    seconds("auth.backoff_cap", 900, 900, 86400),
    # Tightening means remembering failures longer; a week at most.
    seconds("auth.backoff_reset", 43200, 43200, 604800),
)


def _warning_before_idle(node: colander.SchemaNode, values: dict[str, Any]) -> None:
    idle, warning = values["session.idle_timeout"], values["session.idle_warning"]
    if warning >= idle:
        raise colander.Invalid(
            node,
            f"session.idle_warning must be shorter than session.idle_timeout "
            f"({int(idle.total_seconds())} seconds); "
            f"got {int(warning.total_seconds())}.",
        )


TIMEOUTS = group(
    "timeouts",
    # At most SECURITY.md's 30 minutes idle and 12 hours in all; shorter is
    # only stricter. Under two minutes idle, the page's keep-alive (at most
    # once a minute) may not save the session of someone using it: such
    # values are for demonstrations and the browser tests, not for a site.
    seconds("session.idle_timeout", 1800, 20, 1800),
    seconds("session.absolute_timeout", 43200, 20, 43200),
    # The warning is for a person to read and answer: at least 10 seconds,
    # and no more than 10 minutes before the end it warns of.
    seconds("session.idle_warning", 120, 10, 600),
    # How old a sign-in (or the last re-authentication in its session) may
    # be before a sensitive change asks for the password again: at most
    # SECURITY.md's 15 minutes (ASVS 3.7.1). Under a minute, the password
    # would be asked for at nearly every change, and typed more often where
    # someone may watch it being typed.
    seconds("auth.reauth_after", 900, 60, 900),
    validator=_warning_before_idle,
)

PASSWORDS = group(
    "passwords",
    choice("passwords.scheme", "argon2id", ("argon2id", "pbkdf2-sha512")),
    # At least OWASP's argon2id minimum (m=19 MiB, t=2, p=1). Every hash
    # running at once holds memory_cost KiB: 1 GiB each at most, times
    # max_concurrent_hashes, is already more than most servers have.
    whole_number("passwords.argon2_time_cost", 3, 2, 20),
    whole_number("passwords.argon2_memory_cost", 65536, 19456, 1048576),
    whole_number("passwords.argon2_parallelism", 4, 1, 64),
    # OWASP's minimum for PBKDF2-HMAC-SHA512; ten million takes seconds a
    # hash, which a sign-in should not.
    whole_number("passwords.pbkdf2_iterations", 220_000, 220_000, 10_000_000),
    whole_number("passwords.max_concurrent_hashes", 4, 1, 64),
)

USERS = group("users", TWO_STEP, ACCOUNTS, BACKOFF, TIMEOUTS, PASSWORDS)
