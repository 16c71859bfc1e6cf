"""One-time codes and their container."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from BTrees.OOBTree import OOTreeSet
from persistent import Persistent
from zope.interface import implementer

from ..folder import Folder, WideTree, new_trees
from ..interfaces import ICode, ICodes
from ..shards import tree_for

PURPOSES = ("confirm-email", "sign-in", "reset-password", "change-email")

PENDING = "pending"
USED = "used"
CANCELLED = "cancelled"
EXPIRED = "expired"
STATES = (PENDING, USED, CANCELLED, EXPIRED)


def check_purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown code purpose {purpose!r}.")
    return purpose


@implementer(ICode)
class Code(Persistent):
    """A code that was sent. Only its keyed hash is kept, never the digits."""

    __name__: str | None = None
    __parent__: Any = None
    denied_at: datetime | None = None
    """When its owner said, from the link in its mail, that they had not
    asked for it (the link works once)."""

    def __init__(
        self,
        *,
        purpose: str,
        owner: str,
        binding: str,
        digest: str,
        created: datetime,
        expires: datetime,
    ) -> None:
        self.purpose = check_purpose(purpose)
        self.owner = owner
        self.binding = binding
        self.digest = digest
        self.created = created
        self.expires = expires
        self.attempts = 0
        self.state = PENDING

    def status(self, now: datetime) -> str:
        """The state as of ``now``. A pending code past its expiry is expired
        whether or not anyone has tried it since; reading this writes nothing."""
        if self.state == PENDING and now >= self.expires:
            return EXPIRED
        return self.state


TIMELINES = 16
"""How many trees the codes index by expiry is spread over."""

OWNERS = 16
"""How many trees the codes index by owner is spread over."""


def _timeline_key(name: str, code: Code) -> tuple[float, str]:
    # Negated, so that walking a timeline forwards goes from the newest code
    # to the oldest: the admin listing's order, and the sweep starts from a
    # bound.
    return (-code.expires.timestamp(), name)


@implementer(ICodes)
class Codes(Folder):
    """Codes, each held under a random id, with two indexes:

    - ``newest``: (owner, purpose) -> the id of the newest code, so issuing
      and cancelling find it in O(log n) however many codes there are;
      spread over :data:`OWNERS` trees by owner, since the owners a crowd
      registers together often sort together, and would all add to the
      last bucket of one tree;
    - ``timelines``: the codes by expiry, newest first, for paging and
      sweeping.

    Every new code expires after all the others, so in one sorted set every
    issue would insert into the same first bucket and conflict with any
    other issue that split it. The timeline is spread over several sets,
    each code in the one its random id picks, and reading merges them.
    """

    def __init__(self, title: str = "") -> None:
        super().__init__(title)
        self.reindex()

    def reindex(self) -> None:
        """(Re)build both indexes from the codes held; also what brings a
        container made before the indexes, or with one timeline, up to
        date."""
        self.newest = new_trees(OWNERS)
        self.timelines = tuple(OOTreeSet() for _ in range(TIMELINES))
        # A container from before the timelines were spread has one.
        vars(self).pop("timeline", None)
        by_age = sorted(self.items(), key=lambda item: item[1].created)
        for name, code in by_age:
            self._index(name, code)

    def _timeline(self, name: str) -> OOTreeSet:
        # The id is random, so this spreads.
        return tree_for(self.timelines, name)

    def _owners(self, owner: str) -> WideTree:
        return tree_for(self.newest, owner)

    def _index(self, name: str, code: Code) -> None:
        self._owners(code.owner)[(code.owner, code.purpose)] = name
        self._timeline(name).add(_timeline_key(name, code))

    def add(self, name: str, other: Any, send_events: bool = True) -> Any:
        super().add(name, other, send_events)
        self._index(name, other)
        return other

    def remove(self, name: str, send_events: bool = True) -> Any:
        code = super().remove(name, send_events)
        self._timeline(name).remove(_timeline_key(name, code))
        key = (code.owner, code.purpose)
        owners = self._owners(code.owner)
        if owners.get(key) == name:
            del owners[key]
        return code

    def newest_code(self, owner: str, purpose: str) -> Code | None:
        name = self._owners(owner).get((owner, purpose))
        return None if name is None else self[name]

    def expired_before(self, cutoff: datetime) -> list[str]:
        """The ids of codes that expired at or before ``cutoff``."""
        bound = (-cutoff.timestamp(),)
        merged = heapq.merge(*(t.keys(min=bound) for t in self.timelines))
        return [name for _, name in merged]

    def newest_first(self) -> Iterator[Code]:
        for _, name in heapq.merge(*self.timelines):
            yield self[name]

    def select(
        self,
        now: datetime,
        *,
        state: str | None = None,
        purpose: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[Code], bool]:
        """A page of codes, newest first, filtered by purpose and by their
        state as of ``now``; and whether more follow.

        Without a filter no code is loaded to be skipped: a code is only
        unghosted when a filter reads it or it is on the page.
        """
        matches = (
            code
            for code in self.newest_first()
            if (purpose is None or code.purpose == purpose)
            and (state is None or code.status(now) == state)
        )
        found = list(islice(matches, offset, offset + limit + 1))
        return found[:limit], len(found) > limit
