"""The event log: every authentication decision and admin action.

Append-only and uncapped; the reports are built from it. Each entry holds
when, what, whom, from where and the outcome. IP addresses and user agents
are personal data and are stored encrypted. Passwords, codes and session
ids never reach it: the event classes have no field for them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from operator import itemgetter
from typing import Any

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from persistent import Persistent

from .events import FAILURE, EntryRecorded, IRecordedEvent
from .folder import widened
from .interfaces import IClock, IKeyring
from .txn import keep_changes_on_error


class Entry(Persistent):
    def __init__(
        self,
        time: datetime,
        kind: str,
        outcome: str,
        login: str | None,
        actor: str | None,
        ip_token: bytes | None,
        ua_token: bytes | None,
        detail: dict[str, Any],
    ) -> None:
        self.time = time
        self.kind = kind
        self.outcome = outcome
        self.login = login
        self.actor = actor
        self.ip_token = ip_token
        self.ua_token = ua_token
        self.detail = dict(detail)


SHARDS = 16
"""How many trees the event log spreads its entries over."""


class LogTree(LOBTree):
    """Entries by time key, each appended at the end.

    Requests writing at once append to the same last bucket: BTrees merge
    two appends to one bucket, but not one that splits it, and a split
    rewrites the node above, which every append to any bucket of the tree
    asks to be unchanged when it commits. Buckets of 500 entries (not 60)
    split eight times less often; each holds only integers and references.
    """

    max_leaf_size = 500


def _time_key(when: datetime) -> int:
    # Microseconds, shifted left to leave room for 1024 entries written in
    # the same microsecond to one tree.
    return int(when.timestamp() * 1_000_000) << 10


def _newest_first(tree: LOBTree) -> Iterator[tuple[int, Entry]]:
    # A BTree cannot walk backwards; each step down is one descent from the
    # root, which for the few newest entries costs less than a walk forwards.
    try:
        key = tree.maxKey()
        while True:
            yield key, tree[key]
            key = tree.maxKey(key - 1)
    except ValueError:  # no key (left)
        return


class EntryIndex:
    """Every entry of the log by its key, for work that visits them all
    (re-encrypting with a new key)."""

    def __init__(self, shards: tuple[LOBTree, ...]) -> None:
        self.shards = shards

    def keys(self) -> list[tuple[int, int]]:
        return [(s, k) for s, tree in enumerate(self.shards) for k in tree]

    def __getitem__(self, key: tuple[int, int]) -> Entry:
        shard, time_key = key
        return self.shards[shard][time_key]


class AuditLog(Persistent):
    """Entries spread over several trees, each keyed by the entry's time in
    microseconds, shifted left to leave room for up to 1024 entries in the
    same microsecond.

    Every append lands at the end of its tree, so with one tree all
    requests writing at the same time would insert into one last bucket,
    and whenever it split they would conflict. Each entry goes to the tree
    for its millisecond instead, so concurrent appends mostly write different
    buckets, and when two share one, BTree conflict resolution merges
    their distinct keys. Reading merges the trees in time order. The count
    is a ``Length``, which merges too; the log object itself is never
    written after it is made.
    """

    __name__ = "audit"
    __parent__ = None

    def __init__(self, shards: int = SHARDS) -> None:
        self.shards = tuple(LogTree() for _ in range(shards))
        self._count = Length()

    def __len__(self) -> int:
        return self._count()

    @property
    def entries(self) -> EntryIndex:
        return EntryIndex(self.shards)

    def append(self, entry: Entry, shard: int | None = None) -> tuple[int, int]:
        """Add ``entry`` to the tree numbered ``shard`` (by default the one
        for its millisecond); return its key."""
        key = _time_key(entry.time)
        if shard is None:
            # By the millisecond: requests writing at different moments use
            # different trees, while entries of one moment share a tree and
            # so keep the order they were written in.
            shard = (key >> 10) // 1000 % len(self.shards)
        tree = self.shards[shard]
        while key in tree:
            key += 1
        tree[key] = entry
        self._count.change(1)
        return shard, key

    def between(self, start: datetime, end: datetime) -> Iterator[Entry]:
        """Entries with start <= time < end, oldest first."""
        low, high = _time_key(start), _time_key(end) - 1
        merged = heapq.merge(
            *(tree.items(low, high) for tree in self.shards), key=itemgetter(0)
        )
        return (entry for _, entry in merged)

    def newest(self, n: int) -> list[Entry]:
        merged = heapq.merge(
            *(_newest_first(tree) for tree in self.shards),
            key=itemgetter(0),
            reverse=True,
        )
        return [entry for _, entry in islice(merged, n)]


def spread_audit_log(root: Any) -> None:
    """Spread the event log over several trees. The one tree of an older
    log becomes the first of them, so no entry moves."""
    log = root.audit
    log._p_activate()
    old = vars(log).pop("entries", None)
    if old is not None:
        log.shards = (old, *(LogTree() for _ in range(SHARDS - 1)))


def widen_audit_log(root: Any) -> None:
    """Generation 16: the event log's trees made before :class:`LogTree`
    hold the same entries in its wider buckets. Only references move: the
    entries themselves are objects of their own."""
    log = root.audit
    shards = tuple(widened(tree, LogTree) for tree in log.shards)
    if shards != log.shards:
        log.shards = shards


def record(event: IRecordedEvent) -> None:
    """Write ``event`` to the log (subscribed to every recorded event)."""
    request = event.request
    if event.outcome == FAILURE:
        # The answer to a refused attempt is an error, which would abort the
        # transaction: the record of the attempt is what must be kept.
        keep_changes_on_error(request)
    keyring = request.find_service(IKeyring)
    ip = request.client_addr
    agent = request.user_agent
    entry = Entry(
        time=request.find_service(IClock)(),
        kind=event.kind,
        outcome=event.outcome,
        login=event.login,
        actor=event.actor,
        ip_token=keyring.encrypt(ip) if ip else None,
        ua_token=keyring.encrypt(agent) if agent else None,
        detail=event.detail,
    )
    key = request.root.audit.append(entry)
    request.registry.notify(EntryRecorded(entry, key, request))


def add_audit_log(root: Any) -> None:
    """Generation 1: databases made before the event log existed get one."""
    if getattr(root, "audit", None) is None:
        root.audit = AuditLog()
        root.audit.__parent__ = root


def includeme(config) -> None:
    config.add_subscriber(record, IRecordedEvent)
    config.add_evolve_step(1, "add the audit log", add_audit_log)
    config.add_evolve_step(
        4, "spread the event log over several trees", spread_audit_log
    )
    config.add_evolve_step(
        16, "the event log's trees in buckets of 500", widen_audit_log
    )
