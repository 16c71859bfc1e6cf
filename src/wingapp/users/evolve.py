"""The users domain's data migrations (see :mod:`wingapp.evolve`)."""

from __future__ import annotations

from typing import Any

from ..folder import WideTree, widened
from ..shards import spread
from .catalog import SHARDS


def update_accounts(root: Any) -> None:
    """Give every account what later generations added to it.

    Generation 2 added sessions, trusted places and a back-off count;
    generation 6 moved the back-off count and the last sign-in off the
    account into records of their own, so that a sign-in or a failure no
    longer writes the account itself. ``User.ensure_records`` does both,
    so one step function serves both generations.
    """
    for user in root["users"].values():
        user.ensure_records()


def widen_users(root: Any) -> None:
    """Generation 7: the accounts and the email index in trees whose
    buckets split four times less often under a crowd of registrations."""
    users = root["users"]
    users.data = widened(users.data)
    users.by_email = widened(users.by_email)


def index_login_skeletons(root: Any) -> None:
    """Generation 11: the index that refuses a login name looking like an
    existing one (see ``Users.by_skeleton``)."""
    root["users"].index_skeletons()


def index_unconfirmed(root: Any) -> None:
    """Generation 15: the index of the accounts that registered themselves
    and have not confirmed their address, by address, for the admin's
    search (see ``Users.unconfirmed_by_email``)."""
    root["users"].index_unconfirmed()


def spread_accounts(root: Any) -> None:
    """Generation 17: the accounts and the look-alike index spread over
    sixteen trees each, so that registrations of names that sort together
    no longer all add to the last bucket of one tree (see ``Users``)."""
    users = root["users"]
    # As many trees as a new Users makes.
    users.data = spread(users.data, WideTree, users.shards)
    users.by_skeleton = spread(users.by_skeleton, WideTree, SHARDS)
