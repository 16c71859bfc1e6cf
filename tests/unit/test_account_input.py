"""The account rules for odd input: long passwords, one email address per
account, and login names that look like another (issue 9, items 3, 7, 9)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import transaction
from ZODB import DB

from wingapp import evolve
from wingapp.directives import evolve_steps
from wingapp.resources import ROOT_KEY, make_root
from wingapp.users.evolve import index_login_skeletons
from wingapp.users.models import (
    EMAIL_MESSAGE,
    LOOKS_TAKEN,
    MIXED_SCRIPTS,
    AccountError,
    User,
    Users,
    check_email,
    check_login,
    email_key,
    skeleton,
)
from wingapp.users.passwords import MAX_LENGTH, password_problems, strength

NOW = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = (
    "violet harbour lantern seventeen copper meadow whistle ninety-one "
    "amber falcon quietly drifts over seven frozen orchards at dawn "
)


def long_password(length: int) -> str:
    return (WORDS * 3)[:length]


# Item 3: passwords longer than zxcvbn takes


@pytest.mark.parametrize("length", [73, 100, MAX_LENGTH])
def test_a_long_strong_password_is_scored_and_accepted(length):
    password = long_password(length)
    assert strength(password).score >= 3
    assert password_problems(password) == []


def test_a_long_weak_password_is_judged_by_its_first_72_characters():
    weak = "a" * 100
    assert strength(weak).score < 3
    assert password_problems(weak) != []


def test_one_character_over_the_limit_is_refused_plainly():
    assert password_problems(long_password(MAX_LENGTH + 1)) == [
        "Use at most 128 characters."
    ]


# Item 7: one email address


@pytest.mark.parametrize(
    "bad",
    [
        "a@x.org,postmaster",
        "x<f@x.org>",
        "<svg/onload=alert(1)>02ca@x.org",
        "Ada <ada@x.org>",
        "ada@x.org ada@y.org",
        "ada@x.org (work)",
        "ada@localhost",
        "ada@",
        "@x.org",
        "用户@例子.广告",
        "a" * 65 + "@x.org",
        "ada@" + "y" * 250 + ".org",
    ],
)
def test_anything_but_one_address_is_refused(bad):
    with pytest.raises(AccountError) as refused:
        check_email(bad)
    assert str(refused.value) == EMAIL_MESSAGE


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (" ada@example.org ", "ada@example.org"),
        ("Ada@Example.ORG", "Ada@example.org"),
        ("ada@bücher.example", "ada@bücher.example"),
        ("ada@BÜCHER.example", "ada@bücher.example"),
        ("ada@xn--bcher-kva.example", "ada@bücher.example"),
        ("admin@example.invalid", "admin@example.invalid"),
    ],
)
def test_an_address_is_stored_in_the_libraries_normal_form(given, stored):
    assert check_email(given) == stored


def test_an_international_domain_keys_the_same_in_either_form():
    assert email_key("ada@bücher.example") == email_key("ADA@xn--BCHER-kva.example")


@pytest.mark.parametrize(
    "address", ["Ada@Example.org", "ada.lovelace+x@Sub.Example.ORG", "ada@straße.de"]
)
def test_addresses_keep_the_index_key_they_had(address):
    # Before the library checked addresses, the key was NFKC then casefold
    # of what was typed: accounts indexed so must still be found.
    assert email_key(address) == address.casefold()


def test_a_name_that_is_not_an_address_still_has_a_key():
    assert email_key("Not An Address") == "not an address"


def test_an_accounts_address_is_checked_when_set(keyring):
    user = User(created=NOW)
    with pytest.raises(AccountError):
        user.set_email("a@x.org,postmaster", keyring)
    user.set_email("ada@xn--bcher-kva.example", keyring)
    assert user.email(keyring) == "ada@bücher.example"


# Item 9: login names that look like another


@pytest.mark.parametrize(
    "name", ["аdmin", "admіn", "pаypal", "ad\N{GREEK SMALL LETTER MU}in"]
)
def test_a_name_mixing_scripts_is_refused(name):
    with pytest.raises(AccountError) as refused:
        check_login(name)
    assert str(refused.value) == MIXED_SCRIPTS


@pytest.mark.parametrize(
    "name",
    ["ada", "ada.l-1", "victim1", "vıctim1", "андрей", "山田たろう", "tarō", "김민준"],
)
def test_a_name_in_one_script_or_a_set_written_together_is_fine(name):
    assert check_login(name) == name


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("vıctim1", "victim1"),
        ("асе", "ace"),  # wholly Cyrillic
        ("bamey", "barney"),
        ("a1ice", "alice"),
    ],
)
def test_look_alikes_share_a_skeleton(one, other):
    assert skeleton(one) == skeleton(other)


@pytest.mark.parametrize(("one", "other"), [("ada", "eda"), ("bob", "bobby")])
def test_different_names_have_different_skeletons(one, other):
    assert skeleton(one) != skeleton(other)


def add(users: Users, login: str) -> User:
    return users.add_user(login, User(created=NOW))


@pytest.mark.parametrize(
    ("existing", "new"), [("victim1", "vıctim1"), ("ace", "асе"), ("barney", "bamey")]
)
def test_a_look_alike_of_an_account_is_refused(existing, new):
    users = Users()
    add(users, existing)
    assert users.looks_like(new) == existing
    with pytest.raises(AccountError) as refused:
        add(users, new)
    assert str(refused.value) == LOOKS_TAKEN
    assert refused.value.errors == {"login": LOOKS_TAKEN}
    assert new not in users


def test_a_name_does_not_look_like_itself_and_plain_names_are_fine():
    users = Users()
    add(users, "ada")
    add(users, "bob")
    assert users.looks_like("ada") is None
    assert users.looks_like("eve") is None
    assert sorted(users.keys()) == ["ada", "bob"]


def test_removing_an_account_frees_its_look():
    users = Users()
    add(users, "victim1")
    users.remove("victim1")
    assert users.looks_like("vıctim1") is None
    add(users, "vıctim1")
    assert users.looks_like("victim1") == "vıctim1"


def test_removing_one_of_two_old_look_alikes_keeps_the_others_entry():
    # Made before the index existed, two look-alikes can both be there.
    users = Users()
    add(users, "victim1")
    users.add("vıctim1", User(created=NOW))
    users.remove("vıctim1")
    assert users.looks_like("victiml") == "victim1"


@pytest.fixture
def old_database(app):
    """A database at generation 10, made before the skeleton index."""
    db = DB(None)
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    with tm:
        conn.root()[ROOT_KEY] = root = make_root(app.registry)
        users = root["users"]
        for login in ("victim1", "vıctim1", "admin"):
            users.add(login, User(created=NOW))
        del users.by_skeleton
        root.generation = 10
    yield conn, tm
    conn.close()
    db.close()


def test_generation_11_indexes_the_accounts_of_an_old_database(app, old_database):
    conn, tm = old_database
    ran = evolve.evolve(lambda: conn.root()[ROOT_KEY], tm, evolve_steps(app.registry))
    assert (11, index_login_skeletons) in [(s.generation, s.run) for s in ran]
    with tm:
        users = conn.root()[ROOT_KEY]["users"]
        assert users.looks_like("аdmin") == "admin"
        # Of two look-alikes already there, the first by name holds the look.
        assert users.looks_like("victiml") == "victim1"
        with pytest.raises(AccountError, match="looks like"):
            add(users, "victım1")
