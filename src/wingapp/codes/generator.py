"""Making one-time codes: digits only, never starting with 0, unbiased."""

from __future__ import annotations

import secrets

MAX_DIGITS = 12


def make_code(digits: int = 6) -> str:
    """A code of ``digits`` digits: the first 1-9, the others 0-9, all equally likely.

    One draw from [10**(digits-1), 10**digits) gives exactly that. No leading
    zero, because a leading zero gets lost when a code is typed into a numeric
    field or pasted into a spreadsheet. ``secrets.randbelow`` rejects draws
    out of range instead of folding them back with a modulo, so there is no
    bias; it reads the operating system's CSPRNG and keeps no state in
    Python, so any number of threads may call this at once.
    """
    if not 1 <= digits <= MAX_DIGITS:
        raise ValueError(f"A code has 1 to {MAX_DIGITS} digits, not {digits}.")
    lowest = 10 ** (digits - 1)
    return str(lowest + secrets.randbelow(9 * lowest))
