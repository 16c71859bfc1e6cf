"""The users domain's data migrations (see :mod:`wingapp.evolve`)."""

from __future__ import annotations

from typing import Any


def records_of_their_own(root: Any) -> None:
    """Move each account's back-off count and last sign-in off the account
    into records of their own, so that a sign-in or a failure no longer
    writes the account itself."""
    for user in root["users"].values():
        user.ensure_records()
