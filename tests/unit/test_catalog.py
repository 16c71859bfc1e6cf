"""The users catalog: every order both ways, every filter, prefixes,
cursors, reindexing, the subscribers that keep it, evolve step 9 and two
requests writing it at once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import transaction
from pyramid.threadlocal import manager
from ZODB import DB
from ZODB.FileStorage import FileStorage

from tests.unit.test_concurrency import commit, race, serial
from wingapp.directives import evolve_steps
from wingapp.events import IRecordedEvent
from wingapp.folder import Folder, WideTree
from wingapp.resources import make_root
from wingapp.users.catalog import (
    ORDERS,
    SHARDS,
    IndexSet,
    UserCatalog,
    index_accounts,
    reindex_named,
    spread_indexed,
    spread_logins,
)
from wingapp.users.events import EmailConfirmed, SignedIn
from wingapp.users.models import ROLES, STATES, User, Users

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def account(
    login: str,
    minutes: int = 0,
    roles: tuple[str, ...] = ("user",),
    state: str = "active",
    signed_in: int | None = None,
) -> User:
    """An account made ``minutes`` after T0, in ``state``, last signed in
    ``signed_in`` minutes after T0 (never if None)."""
    user = User(created=T0 + timedelta(minutes=minutes), roles=roles)
    user.__name__ = login
    user.email_confirmed = state != "unconfirmed"
    user.disabled = state == "disabled"
    user.must_reset = state == "must-reset"
    if signed_in is not None:
        user.record_sign_in(T0 + timedelta(minutes=signed_in))
    return user


def sample() -> list[User]:
    """Twelve accounts: every state, both roles, some never signed in, two
    made in the same minute and two signed in at the same minute."""
    return [
        account("ada", 5, ("user", "admin"), "active", 50),
        account("bob", 3, ("user",), "disabled", 20),
        account("cleo", 8, ("user",), "unconfirmed"),
        account("dan", 1, ("user",), "must-reset", 20),
        account("eve", 8, ("user", "admin"), "active"),
        account("finn", 2, ("user",), "active", 70),
        account("gus", 9, ("admin",), "disabled", 40),
        account("hana", 4, ("user",), "active", 10),
        account("ivo", 7, ("user",), "unconfirmed"),
        account("jo", 6, ("user",), "active", 60),
        account("kim", 0, ("user",), "must-reset", 30),
        account("lev", 11, ("user",), "active", 45),
    ]


@pytest.fixture
def accounts() -> list[User]:
    return sample()


@pytest.fixture
def catalog(accounts) -> UserCatalog:
    catalog = UserCatalog(STATES, ROLES)
    for user in accounts:
        assert catalog.index(user) is True
    return catalog


def sort_value(user: User, order_by: str) -> Any:
    if order_by == "login":
        return user.__name__
    if order_by == "created":
        return (user.created, user.__name__)
    last = user.last_sign_in or datetime.min.replace(tzinfo=UTC)
    return (last, user.__name__)


def expected(accounts, order_by, descending, state=None, role=None) -> list[str]:
    chosen = [
        u
        for u in accounts
        if (state is None or u.state == state) and (role is None or role in u.roles)
    ]
    chosen.sort(key=lambda u: sort_value(u, order_by), reverse=descending)
    return [u.__name__ for u in chosen]


def every_page(catalog: UserCatalog, limit: int, **kw: Any) -> Iterator[list[str]]:
    after = None
    while True:
        logins, after = catalog.query(after=after, limit=limit, **kw)
        yield logins
        if after is None:
            return


FILTERS = [(s, r) for s in (None, *STATES) for r in (None, *ROLES)]


@pytest.mark.parametrize("order_by", ORDERS)
@pytest.mark.parametrize("descending", [False, True])
def test_every_order_both_ways_under_every_filter(
    catalog, accounts, order_by, descending
):
    for state, role in FILTERS:
        want = expected(accounts, order_by, descending, state, role)
        found, after = catalog.query(order_by, descending, state, role, limit=100)
        assert (found, after) == (want, None), (state, role)
        assert catalog.count(state, role) == len(want)
        # Pages of 1, 2 and 5 reach every account once, in order.
        for limit in (1, 2, 5):
            pages = list(
                every_page(
                    catalog,
                    limit,
                    order_by=order_by,
                    descending=descending,
                    state=state,
                    role=role,
                )
            )
            assert [login for page in pages for login in page] == want
            assert all(len(page) == limit for page in pages[:-1])


def test_the_first_page_says_where_the_next_begins(catalog):
    assert catalog.query(limit=3) == (["ada", "bob", "cleo"], "cleo")
    assert catalog.query(after="cleo", limit=3) == (["dan", "eve", "finn"], "finn")
    assert catalog.query(after="ivo", limit=3) == (["jo", "kim", "lev"], None)
    newest, after = catalog.query("created", descending=True, limit=2)
    assert newest == ["lev", "gus"]
    assert after == (catalog.values_of("gus")[2], "gus")
    assert catalog.count() == 12


def test_accounts_never_signed_in_sort_as_oldest(catalog):
    oldest, _ = catalog.query("last_sign_in", limit=3)
    assert oldest == ["cleo", "eve", "ivo"]
    newest, _ = catalog.query("last_sign_in", descending=True, limit=100)
    assert newest[-3:] == ["ivo", "eve", "cleo"]


def test_start_begins_at_a_login_or_a_moment(catalog, accounts):
    assert catalog.query(start="f", limit=2)[0] == ["finn", "gus"]
    assert catalog.query(start="fz", limit=2)[0] == ["gus", "hana"]
    # Descending, "f" begins at the last login that starts with "f".
    assert catalog.query(start="f", descending=True, limit=2)[0] == ["finn", "eve"]
    at = T0 + timedelta(minutes=8)
    assert catalog.query("created", start=at, limit=3)[0] == ["cleo", "eve", "gus"]
    assert catalog.query("created", True, start=at, limit=3)[0] == [
        "eve",
        "cleo",
        "ivo",
    ]
    signed = T0 + timedelta(minutes=20)
    assert catalog.query("last_sign_in", start=signed, limit=2)[0] == ["bob", "dan"]
    assert catalog.query("last_sign_in", True, start=signed, limit=3)[0] == [
        "dan",
        "bob",
        "hana",
    ]
    assert catalog.query(start="zz") == ([], None)
    assert catalog.query(start="a", descending=True) == (["ada"], None)
    assert catalog.query(start="0", descending=True) == ([], None)


def test_a_login_prefix_keeps_the_logins_that_start_with_it(accounts):
    catalog = UserCatalog(STATES, ROLES)
    for login in ("mara", "marco", "mark", "marlene", "max", "mo", "ma"):
        catalog.index(account(login))
    for user in accounts:
        catalog.index(user)
    assert catalog.query(login_prefix="mar") == (
        ["mara", "marco", "mark", "marlene"],
        None,
    )
    assert catalog.query(login_prefix="mar", descending=True)[0] == [
        "marlene",
        "mark",
        "marco",
        "mara",
    ]
    assert list(every_page(catalog, 1, login_prefix="ma")) == [
        ["ma"],
        ["mara"],
        ["marco"],
        ["mark"],
        ["marlene"],
        ["max"],
    ]
    pages = list(every_page(catalog, 2, login_prefix="mar", descending=True))
    assert pages == [["marlene", "mark"], ["marco", "mara"]]
    # A start or a cursor outside the prefix's range begins inside it.
    assert catalog.query(login_prefix="mar", start="a", limit=1)[0] == ["mara"]
    assert catalog.query(login_prefix="mar", start="marc", limit=1)[0] == ["marco"]
    assert catalog.query(login_prefix="mar", after="bob", limit=1)[0] == ["mara"]
    assert catalog.query(login_prefix="mar", after="zed")[0] == []
    down = {"login_prefix": "mar", "descending": True, "limit": 1}
    assert catalog.query(start="z", **down)[0] == ["marlene"]
    assert catalog.query(start="marc", **down)[0] == ["marco"]
    assert catalog.query(after="zed", **down)[0] == ["marlene"]
    assert catalog.query(after="mark", **down)[0] == ["marco"]
    assert catalog.query(after="a", **down)[0] == []
    assert catalog.query(login_prefix="mar", state="disabled") == ([], None)
    assert catalog.query(login_prefix="nobody") == ([], None)


def test_queries_it_cannot_answer_are_refused(catalog):
    with pytest.raises(ValueError, match="Unknown order"):
        catalog.query("email")
    with pytest.raises(ValueError, match="login order"):
        catalog.query("created", login_prefix="a")
    with pytest.raises(ValueError, match="No such filter"):
        catalog.query(state="asleep")
    with pytest.raises(ValueError, match="No such filter"):
        catalog.count(role="owner")


def test_a_changed_account_moves_and_an_unchanged_one_writes_nothing(catalog, accounts):
    ada = accounts[0]
    assert catalog.index(ada) is False
    ada.disabled = True
    assert catalog.index(ada) is True
    assert "ada" in catalog.query(state="disabled", role="admin")[0]
    assert "ada" not in catalog.query(state="active", limit=100)[0]
    assert catalog.count("active", "admin") == 1
    assert catalog.count("disabled", "admin") == 2
    ada.set_roles(("user",))
    catalog.index(ada)
    assert catalog.query(role="admin")[0] == ["eve", "gus"]
    assert catalog.count(role="admin") == 2
    # A sign-in moves the account in the last-sign-in order of each of its
    # filters, and nowhere else.
    finn = accounts[5]
    finn.record_sign_in(T0 + timedelta(hours=5))
    assert catalog.index(finn) is True
    assert catalog.query("last_sign_in", True, limit=1)[0] == ["finn"]
    assert catalog.query("last_sign_in", True, "active", "user", limit=1)[0] == ["finn"]
    assert catalog.query("created", limit=3)[0] == ["kim", "dan", "finn"]
    for state, role in FILTERS:
        assert catalog.count(state, role) == len(
            expected(accounts, "login", False, state, role)
        )


def test_a_removed_account_leaves_every_index(catalog, accounts):
    assert catalog.unindex("gus") is True
    assert catalog.unindex("gus") is False
    assert catalog.values_of("gus") is None
    for order_by in ORDERS:
        for state, role in FILTERS:
            assert "gus" not in catalog.query(order_by, False, state, role)[0]
    assert catalog.count(role="admin") == 2
    assert catalog.count() == 11


# The subscribers


@pytest.fixture
def current(app) -> Iterator[Any]:
    """The app's registry as the current one, as during a request."""
    manager.push({"registry": app.registry, "request": None})
    yield app.registry
    manager.pop()


class FakeRequest:
    def __init__(self, root: Any) -> None:
        self.root = root


def test_accounts_added_and_removed_are_indexed_and_forgotten(app, current):
    root = make_root(app.registry)
    users = root["users"]
    users.add("ada", account("ada", 1))
    users.add("bob", account("bob", 2, state="unconfirmed"))
    assert users.catalog.query() == (["ada", "bob"], None)
    users.remove("ada")
    assert users.catalog.query() == (["bob"], None)
    # Accounts held elsewhere, and folders in the users container, are not
    # the catalog's business.
    elsewhere = Folder()
    elsewhere.add("cleo", account("cleo"))
    elsewhere.remove("cleo")
    users.add("sub", Folder())
    assert users.catalog.query() == (["bob"], None)


def test_an_event_naming_an_account_reindexes_it(app, current):
    root = make_root(app.registry)
    users = root["users"]
    bob = users.add("bob", account("bob", state="unconfirmed"))
    bob.email_confirmed = True
    reindex_named(EmailConfirmed(request=FakeRequest(root), login="bob"))
    assert users.catalog.query(state="active") == (["bob"], None)
    # An event for no account, or for one that is gone, changes nothing.
    reindex_named(SignedIn(request=FakeRequest(root), login=None))
    reindex_named(SignedIn(request=FakeRequest(root), login="nobody"))
    assert users.catalog.count() == 1


def test_the_catalog_hears_every_recorded_event(current):
    handlers = [
        (getattr(h.handler, "__wrapped__", h.handler), h.required)
        for h in current.registeredHandlers()
    ]
    assert (reindex_named, (IRecordedEvent,)) in handlers


# Evolve step 9


def test_evolve_step_9_indexes_the_accounts_of_an_older_database(app):
    (step,) = [s for s in evolve_steps(app.registry) if s.generation == 9]
    assert step.description == "index accounts for the admin listing"
    root = make_root(app.registry)
    users = root["users"]
    # A users container from before the catalog: accounts added without
    # events, and no catalog.
    for user in sample():
        users.add(user.__name__, user, send_events=False)
    del users.catalog
    index_accounts(root)
    assert users.catalog.query(limit=3) == (["ada", "bob", "cleo"], "cleo")
    assert users.catalog.count("active") == 6
    assert isinstance(users, Users)


def sample_root(app: Any) -> tuple[Any, Users, UserCatalog]:
    """A site whose users container holds :func:`sample`, indexed."""
    root = make_root(app.registry)
    users = root["users"]
    for user in sample():
        users.add(user.__name__, user, send_events=False)
        users.catalog.index(user)
    return root, users, users.catalog


def test_evolve_step_13_spreads_what_a_catalog_indexed_in_one_tree(app):
    (step,) = [s for s in evolve_steps(app.registry) if s.generation == 13]
    root, users, catalog = sample_root(app)
    # As generation 12 left it: one tree of indexed values.
    one = WideTree()
    for tree in catalog.indexed:
        one.update(tree)
    catalog.indexed = one
    # Until the step runs, that tree is read and written.
    assert catalog.unindex("gus") is True
    assert catalog.values_of("ada") == one["ada"]
    step.run(root)
    spread_indexed(root)  # once only
    assert len(catalog.indexed) == SHARDS
    assert sum(len(tree) for tree in catalog.indexed) == len(sample()) - 1
    assert catalog.values_of("gus") is None
    ada = users["ada"]
    assert catalog.index(ada) is False  # nothing changed, nothing written
    assert catalog.query(limit=3) == (["ada", "bob", "cleo"], "cleo")


def test_evolve_step_14_spreads_each_facets_login_order(app):
    (step,) = [s for s in evolve_steps(app.registry) if s.generation == 14]
    assert step.description == "spread the catalog's login orders over trees"
    root, _, catalog = sample_root(app)
    # As generation 13 left them: one login tree a facet.
    for facet in catalog.facets.values():
        one = IndexSet()
        for tree in facet.login:
            one.update(tree)
        facet.login = one
    # Until the step runs, that tree is read and written.
    catalog.unindex("gus")
    catalog.index(account("zoe", 12, ("user",), "unconfirmed"))
    assert catalog.query(state="unconfirmed") == (["cleo", "ivo", "zoe"], None)
    step.run(root)
    spread_logins(root)  # once only
    everyone = catalog.facet()
    assert len(everyone.login) == SHARDS
    # Each shard keeps its floor, which no page shows.
    assert sum(len(tree) for tree in everyone.login) == SHARDS + len(sample())
    assert catalog.query(limit=4) == (["ada", "bob", "cleo", "dan"], "dan")
    assert catalog.query(state="unconfirmed", descending=True) == (
        ["zoe", "ivo", "cleo"],
        None,
    )
    assert catalog.query(login_prefix="e") == (["eve"], None)
    # Written to where the spread layout holds them.
    catalog.unindex("zoe")
    assert catalog.query(state="unconfirmed") == (["cleo", "ivo"], None)
    assert not any("gus" in tree for tree in everyone.login)


# Two requests at once, on a real storage


def login_name(i: int) -> str:
    return "u" + hashlib.sha256(str(i).encode()).hexdigest()[:12]


@pytest.fixture
def users_db(tmp_path) -> Iterator[DB]:
    db = DB(FileStorage(str(tmp_path / "Data.fs")))

    def fill(root: Any) -> None:
        root["users"] = users = Users()
        for i in range(1500):
            user = account(login_name(i), i, signed_in=i if i % 3 else None)
            users.add(user.__name__, user, send_events=False)
            users.catalog.index(user)

    commit(db, fill)
    yield db
    db.close()


def register(login: str, minutes: int) -> Any:
    def change(root: Any) -> None:
        users = root["users"]
        user = account(login, minutes, state="unconfirmed")
        users.add(login, user, send_events=False)
        users.catalog.index(user)

    return change


def sign_in(login: str, minutes: int) -> Any:
    def change(root: Any) -> None:
        users = root["users"]
        users[login].record_sign_in(T0 + timedelta(minutes=minutes))
        users.catalog.index(users[login])

    return change


def disable(login: str) -> Any:
    def change(root: Any) -> None:
        users = root["users"]
        users[login].disabled = True
        users.catalog.index(users[login])

    return change


def newest(db: DB, order_by: str, **kw: Any) -> list[str]:
    return commit(
        db,
        lambda root: root["users"].catalog.query(order_by, True, limit=2, **kw)[0],
    )


def test_two_registrations_at_once_both_commit(users_db):
    before = serial(users_db, lambda root: root["users"].catalog)
    race(users_db, register("newcomer-a", 5000), register("newcomer-b", 5000))
    assert sorted(newest(users_db, "created")) == ["newcomer-a", "newcomer-b"]
    assert sorted(newest(users_db, "created", state="unconfirmed")) == [
        "newcomer-a",
        "newcomer-b",
    ]
    assert commit(users_db, lambda root: root["users"].catalog.count()) == 1502
    # The catalog object itself is never written: only its trees are.
    assert serial(users_db, lambda root: root["users"].catalog) == before


def test_two_sign_ins_at_once_both_commit(users_db):
    first, second = login_name(10), login_name(11)
    race(users_db, sign_in(first, 9000), sign_in(second, 9000))
    assert sorted(newest(users_db, "last_sign_in")) == sorted([first, second])
    assert sorted(newest(users_db, "last_sign_in", state="active", role="user")) == (
        sorted([first, second])
    )


def test_a_sign_in_and_a_disable_at_once_both_commit(users_db):
    active, other = login_name(20), login_name(21)
    race(users_db, sign_in(active, 9000), disable(other))
    assert newest(users_db, "last_sign_in")[0] == active
    assert commit(
        users_db, lambda root: root["users"].catalog.query(state="disabled")[0]
    ) == [other]
    assert commit(users_db, lambda root: root["users"].catalog.count("active")) == 1499


def test_many_sign_ins_at_once_all_commit(users_db):
    logins = [login_name(i) for i in range(100, 108)]
    race(users_db, *(sign_in(login, 9000 + i) for i, login in enumerate(logins)))
    found = commit(
        users_db,
        lambda root: root["users"].catalog.query("last_sign_in", True, limit=8)[0],
    )
    assert found == logins[::-1]


def test_a_deep_page_loads_a_page_not_the_index(users_db):
    tm = transaction.TransactionManager(explicit=True)
    conn = users_db.open(transaction_manager=tm)
    try:
        with tm:
            catalog = conn.root()["users"].catalog
            _, after = catalog.query("created", True, "active", limit=1000)
            for order_by in ORDERS:
                for descending in (False, True):
                    conn.cacheMinimize()
                    catalog.query(order_by, descending, start=None, limit=20)
                    conn.cacheMinimize()
                    logins, _ = catalog.query(
                        "created", True, "active", after=after, limit=20
                    )
                    assert len(logins) == 20
                    # A few nodes of each of the 16 trees, not 1500 accounts.
                    assert conn._cache.ringlen() < 120
    finally:
        conn.close()


def test_one_account_signing_in_twice_within_a_minute_writes_no_index(users_db):
    login = login_name(30)
    commit(users_db, sign_in(login, 9000))

    def again(seconds: int) -> Any:
        def change(root: Any) -> None:
            user = root["users"][login]
            user.record_sign_in(T0 + timedelta(minutes=9000, seconds=seconds))
            assert root["users"].catalog.index(user) is False

        return change

    # Two browsers at once: the last sign-in record merges (the later
    # wins), and neither touches the last-sign-in order.
    race(users_db, again(10), again(40))
    assert newest(users_db, "last_sign_in")[0] == login
    last = commit(users_db, lambda root: root["users"][login].last_sign_in)
    assert last == T0 + timedelta(minutes=9000, seconds=40)


def confirm(login: str) -> Any:
    def change(root: Any) -> None:
        users = root["users"]
        users[login].email_confirmed = True
        users.catalog.index(users[login])

    return change


def test_two_accounts_leaving_a_small_filter_at_once_both_commit(users_db):
    # The only two unconfirmed accounts confirm at once: each removes a
    # first key of the filter's trees, which BTrees merge only because a
    # floor key stays below them.
    first, second = "newcomer-a", "newcomer-b"
    commit(users_db, register(first, 5000))
    commit(users_db, register(second, 5001))
    race(users_db, confirm(first), confirm(second))
    found = commit(
        users_db, lambda root: root["users"].catalog.query(state="unconfirmed")
    )
    assert found == ([], None)
    assert sorted(newest(users_db, "created", state="active")) == [first, second]
