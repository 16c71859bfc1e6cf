"""The users catalog: the admin listing's sort orders and filters as BTree
indexes, kept up to date by event subscribers.

Every listing is one walk over one sorted tree, from a bound, for as many
keys as the page holds: no page scans the container, and no page walks an
index from its start to reach an offset, so a page costs the same at a
million accounts as at ten.

**Facets.** A filter is a *facet*: ``(state, role)`` where either may be
``""`` for "any". Each account is indexed under every facet it belongs to:
``("", "")``, ``(state, "")``, ``("", role)`` and ``(state, role)`` for
each of its roles. Each facet holds one tree per sort order and a
``Length``, so every combination of filters is served by one range query in
every order, and knows its total.

**Orders.** ``login`` keys are logins; ``created`` and ``last_sign_in``
keys are ``(microseconds since the epoch, login)``, an account that never
signed in at :data:`NEVER` (the oldest). New registrations and sign-ins
all carry the newest time, so in one tree they would all insert into its
last bucket and conflict whenever it split: every order is spread over
:data:`SHARDS` trees by ``crc32(login)`` and merged on reading, as the
event log is (:mod:`wingapp.audit`). The login order is spread too: every
registration and confirmation writes the login trees of four facets, and
every write to a BTree asks that the nodes above its bucket be unchanged
when it commits (``readCurrent``). A small facet (the accounts that have
not confirmed yet) is a tree of one bucket held in its root, so with one
tree each registration would hold up every other one committing at that
moment; with sixteen, only those of the same shard.

**Writing only what changed.** ``indexed`` maps each login to the values it
is indexed under; a reindex compares them with the account's and writes
nothing when they are the same, which is what almost every event (a code
sent, a failed password) finds. Every registration and confirmation writes
it, so it too is spread over :data:`SHARDS` trees by ``crc32(login)``:
a bucket split conflicts only with the writes to its own tree.

**Cursors.** :meth:`UserCatalog.query` returns, with a page, the key of its
last account; passed back as ``after`` it continues from there. A BTree
cannot walk backwards, so a descending walk steps down with
``maxKey(bound)``, one descent per key, the bound just below the key before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import takewhile
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOTreeSet
from persistent import Persistent

from ..events import IObjectAdded, IObjectRemoved, IRecordedEvent
from ..folder import WideTree, new_trees
from ..interfaces import IUser, IUsers
from ..shards import shard, spread, tree_for
from ..walks import HIGH, page_of, walk

ORDERS = ("login", "created", "last_sign_in")
"""What the catalog sorts by."""

SHARDS = 16
"""How many trees each order of a facet is spread over."""

NEVER = 0
"""The sort value of an account that never signed in: older than any."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

Key = Any  # a login, or (microseconds, login)


class IndexSet(OOTreeSet):
    """An OOTreeSet shaped for the catalog.

    Wide buckets (120 keys, not 30) split four times less often:
    registrations insert at random places of the login trees, and at the
    end of the time trees, and concurrent inserts into one bucket conflict
    only when it splits. Each facet's orders are spread over sixteen sets
    already, so its buckets stay narrower than a WideTree's.
    Narrow inner nodes (30 children, not 250) keep a page cheap on a cold
    cache: reading a time order descends 16 trees, and loading a node
    makes a ghost of each of its children.
    """

    max_leaf_size = 120
    max_internal_size = 30


def micros(when: datetime) -> int:
    """``when`` (aware) as whole microseconds since the epoch, exactly."""
    return (when - EPOCH) // MICROSECOND


def _login_of(key: Key) -> str:
    return key if isinstance(key, str) else key[1]


FLOOR_LOGIN = ""
FLOOR_TIME = (-1, "")
FLOORS = frozenset({FLOOR_LOGIN, FLOOR_TIME})
"""A key below every account's, which each tree holds from the start and
never loses, and which no query returns. BTrees cannot merge two
transactions when one of them removes the first key of a bucket (the
nodes above are keyed by it), nor when one empties it; a small filter
(the accounts that have not confirmed yet) would do both all the time, as
registrations enter it and confirmations leave it. With the floor, its
first key never changes."""


class Facet(Persistent):
    """The accounts of one filter combination, in every order, and their
    number. Never written itself after it is made: only its trees are."""

    def __init__(self) -> None:
        self.login = tuple(login_set() for _ in range(SHARDS))
        self.created = tuple(IndexSet([FLOOR_TIME]) for _ in range(SHARDS))
        self.last_sign_in = tuple(IndexSet([FLOOR_TIME]) for _ in range(SHARDS))
        self.count = Length()

    def trees(self, order_by: str) -> tuple[Any, ...]:
        trees = getattr(self, order_by)
        # A facet made before generation 14 keeps one login tree until
        # `wingapp evolve` spreads it.
        return trees if isinstance(trees, tuple) else (trees,)

    def spread_logins(self) -> None:
        """Generation 14: the one login tree, spread."""
        self.login = spread(self.login, login_set, SHARDS)


def login_set() -> IndexSet:
    return IndexSet([FLOOR_LOGIN])


Values = tuple[str, tuple[str, ...], int, int]
"""What an account is indexed under: state, roles, created, last sign-in."""


SIGN_IN_STEP = 60_000_000
"""The last-sign-in order counts whole minutes (in microseconds): an
account signing in again within the minute, or in several browsers at
once, writes nothing to the index, so those sign-ins never conflict on
it; and an admin sorting by last sign-in needs no finer time."""


def indexed_values(user: Any) -> Values:
    last = user.last_sign_in
    return (
        user.state,
        tuple(user.roles),
        micros(user.created),
        NEVER if last is None else micros(last) // SIGN_IN_STEP * SIGN_IN_STEP,
    )


def facets_of(state: str, roles: Iterable[str]) -> set[tuple[str, str]]:
    found = {("", ""), (state, "")}
    for role in roles:
        found.update({("", role), (state, role)})
    return found


class UserCatalog(Persistent):
    """Accounts by login, creation and last sign-in, under every filter
    combination of state and role (see the module's documentation).

    Built for the ``states`` and ``roles`` it is given; a later version
    that adds one must rebuild it in an evolve step.
    """

    def __init__(self, states: Iterable[str], roles: Iterable[str]) -> None:
        self.facets = {
            (state, role): Facet() for state in ("", *states) for role in ("", *roles)
        }
        # login -> Values: what the account is indexed under now, in the
        # tree of the login's shard; wide, as registrations insert at
        # random places
        self.indexed = new_trees(SHARDS)

    def values_of(self, login: str) -> Values | None:
        """What ``login`` is indexed under now, None if it is not."""
        return self._indexed(login).get(login)

    def _indexed(self, login: str) -> Any:
        # A catalog made before generation 13 keeps one tree until
        # `wingapp evolve` spreads it.
        return tree_for(self.indexed, login)

    def spread_indexed(self) -> None:
        """Generation 13: the one tree of indexed values, spread."""
        self.indexed = spread(self.indexed, WideTree, SHARDS)

    # Writing

    def index(self, user: Any) -> bool:
        """Index ``user`` (held under its login) as it is now; write only
        what changed since it was last indexed. True if anything did."""
        login = user.__name__
        new = indexed_values(user)
        tree = self._indexed(login)
        old = tree.get(login)
        if new == old:
            return False
        self._move(login, old, new)
        tree[login] = new
        return True

    def unindex(self, login: str) -> bool:
        """Forget the account ``login``; True if it was indexed."""
        tree = self._indexed(login)
        old = tree.get(login)
        if old is None:
            return False
        self._move(login, old, None)
        del tree[login]
        return True

    def _move(self, login: str, old: Values | None, new: Values | None) -> None:
        before = facets_of(old[0], old[1]) if old else set()
        after = facets_of(new[0], new[1]) if new else set()
        for name in before - after:
            self._remove(self.facets[name], login, old)
        for name in after - before:
            self._add(self.facets[name], login, new)
        place = shard(login, SHARDS)
        for name in before & after:
            # Still under this filter: only a changed time moves.
            facet = self.facets[name]
            for position, order in ((2, "created"), (3, "last_sign_in")):
                if old[position] != new[position]:
                    tree = getattr(facet, order)[place]
                    tree.remove((old[position], login))
                    tree.add((new[position], login))

    @staticmethod
    def _add(facet: Facet, login: str, values: Values) -> None:
        place = shard(login, SHARDS)
        tree_for(facet.login, login).add(login)
        facet.created[place].add((values[2], login))
        facet.last_sign_in[place].add((values[3], login))
        facet.count.change(1)

    @staticmethod
    def _remove(facet: Facet, login: str, values: Values) -> None:
        place = shard(login, SHARDS)
        tree_for(facet.login, login).remove(login)
        facet.created[place].remove((values[2], login))
        facet.last_sign_in[place].remove((values[3], login))
        facet.count.change(-1)

    # Reading

    def facet(self, state: str | None = None, role: str | None = None) -> Facet:
        """The facet of these filters; ValueError for an unknown one."""
        try:
            return self.facets[(state or "", role or "")]
        except KeyError:
            raise ValueError(
                f"No such filter: state={state!r}, role={role!r}"
            ) from None

    def count(self, state: str | None = None, role: str | None = None) -> int:
        """How many accounts these filters let through."""
        return self.facet(state, role).count()

    def query(
        self,
        order_by: str = "login",
        descending: bool = False,
        state: str | None = None,
        role: str | None = None,
        login_prefix: str | None = None,
        after: Key | None = None,
        start: str | datetime | None = None,
        limit: int = 50,
    ) -> tuple[list[str], Key | None]:
        """One page of logins, and the ``after`` of the next (None on the
        last page).

        ``order_by`` is one of :data:`ORDERS`; ``state`` and ``role``
        filter (None for any); ``login_prefix`` keeps the logins that start
        with it, and is only offered in login order (in a time order it
        would have to skip every account without it). ``after`` is the
        value a previous call returned, to continue after it; otherwise
        ``start`` begins at a login (a prefix) or, in a time order, at a
        moment (an aware datetime), and in descending order at the last
        key at or before it. ``after`` and ``start`` are not for
        combining: ``after`` wins.
        """
        if order_by not in ORDERS:
            raise ValueError(f"Unknown order {order_by!r}.")
        if login_prefix and order_by != "login":
            raise ValueError("A search by login prefix is in login order.")
        trees = self.facet(state, role).trees(order_by)
        return _page(trees, order_by, descending, login_prefix, after, start, limit)


def order_key(user: Any, order_by: str) -> Key:
    """Where ``user`` sorts in ``order_by``: the key the index holds."""
    if order_by == "login":
        return user.__name__
    created, last = indexed_values(user)[2:]
    return (created if order_by == "created" else last, user.__name__)


def page_of_accounts(
    accounts: Iterable[Any],
    order_by: str = "login",
    descending: bool = False,
    after: Key | None = None,
    start: str | datetime | None = None,
    limit: int = 50,
) -> tuple[list[str], Key | None]:
    """A page of ``accounts`` (a few, found by other means than the
    catalog) in the order, and with the cursor, of
    :meth:`UserCatalog.query`: a listing pages them the same way."""
    keys = OOTreeSet(order_key(user, order_by) for user in accounts)
    return _page((keys,), order_by, descending, None, after, start, limit)


def _page(
    trees: tuple[Any, ...],
    order_by: str,
    descending: bool,
    prefix: str | None,
    after: Key | None,
    start: Any,
    limit: int,
) -> tuple[list[str], Key | None]:
    after, start = _bounds(order_by, descending, after, start, prefix)
    keys = (key for key in walk(trees, descending, after, start) if key not in FLOORS)
    if prefix:
        keys = takewhile(lambda login: login.startswith(prefix), keys)
    page, after = page_of(keys, limit)
    return [_login_of(key) for key in page], after


def _bounds(
    order_by: str,
    descending: bool,
    after: Key | None,
    start: Any,
    prefix: str | None,
) -> tuple[Key | None, Key | None]:
    """Where a walk begins: after a key, or from a start key (inclusive)."""
    if start is not None and order_by != "login":
        moment = micros(start)
        # Descending, a moment begins at the last account of its microsecond.
        start = (moment, HIGH) if descending else (moment,)
    elif start is not None and descending:
        # "m" begins at the last login that starts with "m".
        start += HIGH
    if not prefix:
        return after, start
    # The logins with a prefix are one range of the login tree: a walk
    # begins inside it.
    if descending:
        end = prefix + HIGH
        if after is not None and after > end:
            return None, end
        return after, end if start is None or start > end else start
    if after is not None and after < prefix:
        return None, prefix
    return after, prefix if start is None or start < prefix else start


# Keeping it up to date


def index_added(event: Any, user: Any) -> None:
    """An account was added to the users container: index it."""
    if IUsers.providedBy(event.parent):
        event.parent.catalog.index(user)


def unindex_removed(event: Any, user: Any) -> None:
    """An account was removed from the users container: forget it."""
    if IUsers.providedBy(event.parent):
        event.parent.catalog.unindex(event.name)


def reindex_named(event: Any) -> None:
    """Something happened to an account (a sign-in, a confirmed address,
    an admin's change, an import): events are sent after the change they
    describe, so index the account as it is now. Most events change
    nothing the catalog holds, and then nothing is written.

    This runs in the transaction of the change, so the catalog commits,
    or is aborted, with it.
    """
    if event.login is None:
        return
    users = event.request.root["users"]
    user = users.get(event.login)
    if user is not None:
        users.catalog.index(user)


def index_accounts(root: Any) -> None:
    """Generation 9: give the users container its catalog, holding every
    account."""
    root["users"].rebuild_catalog()


def spread_indexed(root: Any) -> None:
    """Generation 13: see :meth:`UserCatalog.spread_indexed`."""
    root["users"].catalog.spread_indexed()


def spread_logins(root: Any) -> None:
    """Generation 14: see :meth:`Facet.spread_logins`."""
    for facet in root["users"].catalog.facets.values():
        facet.spread_logins()


def includeme(config: Any) -> None:
    config.add_subscriber(index_added, [IObjectAdded, IUser])
    config.add_subscriber(unindex_removed, [IObjectRemoved, IUser])
    config.add_subscriber(reindex_named, IRecordedEvent)
    config.add_evolve_step(9, "index accounts for the admin listing", index_accounts)
    config.add_evolve_step(
        13, "spread the catalog's indexed values over trees", spread_indexed
    )
    config.add_evolve_step(
        14, "spread the catalog's login orders over trees", spread_logins
    )
