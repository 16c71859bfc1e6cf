"""Each account's own history: filing, backfill, paging, and the words."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from BTrees.LOBTree import LOBTree

from wingapp.admin import events as admin_events
from wingapp.agents import browser_label
from wingapp.audit import Entry, _time_key
from wingapp.codes import events as code_events
from wingapp.directives import evolve_steps
from wingapp.events import FAILURE, SUCCESS, RecordedEvent
from wingapp.interfaces import IKeyring
from wingapp.resources import make_root
from wingapp.users import events as user_events
from wingapp.users.activity import (
    describe_entry,
    entry_recorded,
    file_entry,
    give_accounts_histories,
    history,
    sentence,
)
from wingapp.users.models import User

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def entry(
    kind: str = "sign-in",
    outcome: str = SUCCESS,
    login: str | None = "ada",
    when: datetime = T0,
    **detail: Any,
) -> Entry:
    return Entry(when, kind, outcome, login, None, None, None, detail)


def account(created: datetime = T0) -> User:
    return User(created)


# Filing


def test_an_entry_goes_under_its_time_key_or_the_next_free_one():
    tree = LOBTree()
    first, second = entry(), entry()
    assert file_entry(tree, 100, first) == 100
    assert file_entry(tree, 100, second) == 101
    # Filing one again (a backfill that runs twice) changes nothing.
    assert file_entry(tree, 100, second) is None
    assert list(tree.items()) == [(100, first), (101, second)]


def recorded(users: dict, item: Entry, key: int) -> SimpleNamespace:
    request = SimpleNamespace(root={"users": users})
    return SimpleNamespace(entry=item, key=(3, key), request=request)


def test_the_subscriber_files_entries_of_accounts_that_exist():
    ada = account()
    users = {"ada": ada}
    mine = entry()
    entry_recorded(recorded(users, mine, 7))
    entry_recorded(recorded(users, entry(login=None), 8))
    entry_recorded(recorded(users, entry(login="gone"), 9))
    assert list(ada.activity.items()) == [(7, mine)]


def test_generation_10_gives_every_account_its_history(app):
    root = make_root(app.registry)
    users = root["users"]
    ada = users.add_user("ada", account(T0))
    bob = users.add_user("bob", account(T0 + timedelta(days=1)))
    # An account from before generation 10 has no history yet.
    del vars(bob)["activity"]
    log = root.audit
    items = [
        entry(login="ada", when=T0 + timedelta(minutes=1)),
        entry(login="ada", when=T0 + timedelta(minutes=1)),
        entry(login="bob", when=T0 + timedelta(days=2)),
        # About an earlier "bob", since deleted: not the new one's.
        entry(login="bob", when=T0),
        entry(login=None, when=T0 + timedelta(minutes=3)),
        entry(login="gone", when=T0 + timedelta(minutes=4)),
    ]
    for item in items:
        log.append(item, shard=0)
    give_accounts_histories(root)
    give_accounts_histories(root)  # again: nothing is filed twice
    assert list(ada.activity.values()) == items[:2]
    assert list(bob.activity.values()) == [items[2]]
    steps = {s.generation: s for s in evolve_steps(app.registry)}
    assert steps[10].description == "give each account its own history"
    assert steps[10].run is give_accounts_histories


# Paging


def filled(n: int, admin_every: int = 0) -> User:
    user = account()
    for i in range(n):
        admin = admin_every and i % admin_every == 0
        kind = "admin-disable" if admin else "sign-in"
        item = entry(kind, when=T0 + timedelta(seconds=i))
        file_entry(user.activity, _time_key(item.time), item)
    return user


def test_history_pages_newest_first():
    user = filled(45)
    seen = []
    before = None
    pages = 0
    while True:
        found, before = history(user, before=before, limit=20)
        seen += [item.time for _, item in found]
        pages += 1
        if before is None:
            break
        assert found[-1][0] == before
    assert pages == 3
    assert seen == [T0 + timedelta(seconds=i) for i in reversed(range(45))]


def test_history_of_exactly_one_page_has_no_next():
    found, before = history(filled(20), limit=20)
    assert (len(found), before) == (20, None)


def test_history_of_nothing_and_before_everything():
    assert history(account()) == ([], None)
    assert history(filled(3), before=1) == ([], None)


def test_history_of_admin_actions_only():
    user = filled(30, admin_every=3)
    found, before = history(user, limit=4, admin_only=True)
    assert [item.kind for _, item in found] == ["admin-disable"] * 4
    assert [item.time.second for _, item in found] == [27, 24, 21, 18]
    rest, after = history(user, before=before, limit=20, admin_only=True)
    assert [item.time.second for _, item in rest] == [15, 12, 9, 6, 3, 0]
    assert after is None


# What each entry says


def event_classes() -> Iterator[type]:
    for module in (user_events, code_events, admin_events):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, RecordedEvent) and cls.kind:
                yield cls


@pytest.mark.parametrize("cls", list(event_classes()), ids=lambda c: c.__name__)
def test_every_kind_of_event_is_said_in_words(cls):
    words = sentence(entry(cls.kind, cls.outcome))
    assert not words.startswith("Something"), words


@pytest.mark.parametrize(
    ("kind", "outcome", "detail", "words"),
    [
        ("sign-in", SUCCESS, {}, "Signed in"),
        ("sign-in", FAILURE, {"reason": "password"}, "A wrong password was given"),
        ("sign-in", FAILURE, {"reason": "disabled"}, "the account is disabled"),
        ("sign-in", FAILURE, {"reason": "must reset"}, "a reset code was mailed"),
        ("sign-in", FAILURE, {"reason": "locked"}, "had to wait"),
        ("sign-in", FAILURE, {"reason": "unknown"}, "A sign-in was refused"),
        ("device-trusted", SUCCESS, {}, "A new browser was remembered"),
        ("admin-disable", SUCCESS, {}, "An administrator disabled the account"),
        ("admin-something-new", SUCCESS, {}, "An administrator changed the account"),
        ("code-sent", SUCCESS, {"purpose": "sign-in"}, "A code to sign in was mailed"),
        ("code-failed", FAILURE, {}, "A wrong or used-up code was entered"),
        (
            "code-verified",
            SUCCESS,
            {"purpose": "reset-password"},
            "A code to reset the password was entered",
        ),
        ("mystery", SUCCESS, {}, "Something happened (mystery)"),
        ("mystery", FAILURE, {}, "Something failed (mystery)"),
    ],
)
def test_sentences(kind, outcome, detail, words):
    assert words in sentence(entry(kind, outcome, **detail))


class Keyring:
    def decrypt(self, token: bytes) -> str:
        return token.decode()[::-1]


def a_request() -> SimpleNamespace:
    keyring = Keyring()
    return SimpleNamespace(find_service=lambda iface: {IKeyring: keyring}[iface])


def test_describe_an_entry_decrypts_where_and_with_what():
    item = entry("sign-in", reason="password")
    item.ip_token, item.ua_token = b"01.2.0.291", b"24/resworBtseT"
    item.actor = "ada"
    described = describe_entry(a_request(), item)
    assert described == {
        "time": T0,
        "kind": "sign-in",
        "what": "Signed in",
        "outcome": SUCCESS,
        "actor": "ada",
        "ip": "192.0.2.10",
        "browser": "TestBrowser/42",
        # Only an administrator's action has a reason and fields.
        "reason": None,
        "before": None,
        "after": None,
    }


def test_describe_an_admin_action_gives_its_reason_and_fields():
    item = entry(
        "admin-roles",
        reason="joined the team",
        before={"roles": ["user"]},
        after={"roles": ["user", "admin"]},
    )
    item.actor = "root"
    described = describe_entry(a_request(), item)
    assert (described["ip"], described["browser"]) == (None, None)
    assert described["actor"] == "root"
    assert described["reason"] == "joined the team"
    assert described["before"] == {"roles": ["user"]}
    assert described["after"] == {"roles": ["user", "admin"]}


# Browsers as people know them


CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
)


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (None, "unknown"),
        ("", "unknown"),
        (CHROME_LINUX, "Chrome 120 on Linux"),
        (FIREFOX_WINDOWS, "Firefox 121 on Windows"),
        ("curl/8.5.0", "curl 8"),
        ("TestBrowser/42", "TestBrowser/42"),
        ("Unknown/5.0 " + "x" * 80, "Unknown/5.0 " + "x" * 47 + "…"),
    ],
)
def test_browser_labels(agent, label):
    assert browser_label(agent) == label


def test_a_browser_known_without_a_version_is_named_without_one():
    def parse(agent):
        return SimpleNamespace(
            with_defaults=lambda: SimpleNamespace(
                user_agent=SimpleNamespace(family="Lynx", major=None),
                os=SimpleNamespace(family="Linux"),
            )
        )

    assert browser_label("Lynx", parse=parse) == "Lynx on Linux"
