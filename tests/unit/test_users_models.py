from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wingapp.admin.listing import find_users
from wingapp.directives import evolve_steps
from wingapp.resources import make_root
from wingapp.users.catalog import SHARDS
from wingapp.users.models import (
    AccountError,
    User,
    Users,
    check_email,
    check_login,
    email_key,
)
from wingapp.views.folder import Listing

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Bob", "bob"),
        ("ＢＯＢ", "bob"),
        (" ada.l-1 ", "ada.l-1"),
        ("Straße", "strasse"),
    ],
)
def test_login_names_are_normalised(given, stored):
    assert check_login(given) == stored


@pytest.mark.parametrize(
    "bad", ["ab", "-bob", "bob-", "a b c", "x" * 33, "bob/", "@@x"]
)
def test_bad_login_names_are_refused(bad):
    with pytest.raises(AccountError, match="3 to 32"):
        check_login(bad)


@pytest.mark.parametrize(
    "bad", ["nobody", "a@b", "a b@example.org", "x@" + "y" * 250 + ".org"]
)
def test_bad_emails_are_refused(bad):
    with pytest.raises(AccountError, match="email address"):
        check_email(bad)


def test_email_is_encrypted_and_indexed_case_insensitively(keyring):
    users = Users()
    user = User(created=NOW)
    user.set_email("Ada@Example.org", keyring)
    assert b"Ada" not in user.email_token
    # The library lowercases the domain; the local part is kept as typed.
    assert user.email(keyring) == "Ada@example.org"
    users.add_user("ada", user)
    assert (
        users.find_by_email(keyring.mac("email", email_key("ada@example.ORG"))) is user
    )
    assert users.find_by_email(keyring.mac("email", "nobody")) is None

    twin = User(created=NOW)
    twin.set_email("ADA@example.org", keyring)
    with pytest.raises(AccountError, match="exists already"):
        users.add_user("ada2", twin)
    assert "ada2" not in users


def test_reindex_and_remove_keep_the_index_right(keyring):
    users = Users()
    user = users.add_user("ada", User(created=NOW))
    assert user.email(keyring) is None
    old = user.email_index
    user.set_email("ada@example.org", keyring)
    users.reindex_email(user, old)
    first = user.email_index
    user.set_email("ada@example.net", keyring)
    users.reindex_email(user, first)
    assert users.find_by_email(first) is None
    assert users.find_by_email(user.email_index) is user
    users.remove("ada")
    assert users.find_by_email(user.email_index) is None
    assert len(users.by_email) == 0


def test_roles_and_acl(keyring):
    user = User(created=NOW)
    user.__name__ = "ada"
    assert "admin" not in user.roles
    user.set_roles(("admin", "user"))
    assert user.roles == ("user", "admin")
    assert "admin" in user.roles
    with pytest.raises(AccountError, match="Unknown role: god"):
        user.set_roles(("god",))
    assert user.__acl__[0][1] == "user:ada"


def test_reindex_leaves_another_users_entry_alone(keyring):
    users = Users()
    ada = User(created=NOW)
    ada.set_email("ada@example.org", keyring)
    users.add_user("ada", ada)
    bob = users.add_user("bob", User(created=NOW))
    # bob claims to have had ada's address: her entry must stay hers.
    users.reindex_email(bob, ada.email_index)
    assert users.find_by_email(ada.email_index) is ada


def test_removing_a_user_without_email_is_fine():
    users = Users()
    users.add_user("ghost", User(created=NOW))
    assert users.remove("ghost").email_index is None
    assert len(users) == 0


def test_ensure_records_keeps_what_is_there():
    user = User(created=NOW)
    sessions = user.sessions
    user.failed_attempts.count = 3
    user.record_sign_in(NOW)
    user.ensure_records()
    assert user.sessions is sessions
    assert user.failures == 3
    assert user.last_sign_in == NOW


def test_ensure_records_moves_what_an_older_account_kept_on_itself():
    from wingapp.users.evolve import update_accounts

    user = User(created=NOW)
    # An account as generation 5 left it: the back-off count and the last
    # sign-in were plain attributes of the account.
    state = user.__getstate__()
    del state["failed_attempts"], state["sign_in_time"]
    state.update(failures=4, last_failure=NOW, last_sign_in=NOW)
    old = User.__new__(User)
    old.__setstate__(state)
    users = Users()
    users.add("old", old)
    update_accounts({"users": users})
    assert (old.failures, old.last_failure, old.last_sign_in) == (4, NOW, NOW)
    assert {"failures", "last_failure", "last_sign_in"}.isdisjoint(vars(old))
    fresh = User.__new__(User)
    fresh.__setstate__({k: v for k, v in state.items() if "sign_in" not in k})
    fresh.ensure_records()
    assert fresh.last_sign_in is None


def test_unknown_origin_reads_as_unknown(keyring):
    from wingapp.users.views.account import decrypt

    assert decrypt(keyring, None) == "unknown"
    assert decrypt(keyring, keyring.encrypt("192.0.2.1")) == "192.0.2.1"


def test_unconfirmed_logins_come_page_by_page_from_the_catalog(keyring):
    users = Users()
    for login in ("ada", "bob", "cy", "dee", "eve"):
        user = User(created=NOW)
        user.email_confirmed = login == "cy"
        users.add_user(login, user)
    # Subscribers keep the catalog in a running app.
    users.rebuild_catalog()
    assert users.unconfirmed_logins(page_size=2) == ["ada", "bob", "dee", "eve"]


# The accounts that registered themselves and have not confirmed


def registered(users: Users, keyring: Any, login: str, email: str) -> User:
    """An account that registered itself, as create_user makes it."""
    user = User(created=NOW)
    user.set_email(email, keyring)
    user.expires = NOW + timedelta(hours=24)
    return users.add_user(login, user)


def test_unconfirmed_accounts_are_found_by_the_address_they_gave(keyring):
    users = Users()
    index = keyring.mac("email", email_key("ada@example.org"))
    mallory = registered(users, keyring, "mallory", "ada@example.org")
    ada = registered(users, keyring, "ada", "Ada@Example.org")
    registered(users, keyring, "bob", "bob@example.org")
    assert users.find_by_email(index) is None
    assert users.unconfirmed_with_email(index) == ["ada", "mallory"]
    # Confirming makes the account the holder, and takes it out.
    assert users.claim_email(ada) is True
    assert users.find_by_email(index) is ada
    assert users.unconfirmed_with_email(index) == ["mallory"]
    # Too late to claim it: still unconfirmed, still found.
    assert users.claim_email(mallory) is False
    assert users.unconfirmed_with_email(index) == ["mallory"]
    users.remove("mallory")  # as an expiry or an admin's delete does
    assert users.unconfirmed_with_email(index) == []
    bob = keyring.mac("email", email_key("bob@example.org"))
    assert users.unconfirmed_with_email(bob) == ["bob"]
    # Each tree keeps its floor, below every address.
    assert sum(len(tree) for tree in users.unconfirmed_by_email) == SHARDS + 1


def test_accounts_an_admin_or_an_import_made_are_not_in_it(keyring):
    users = Users()
    quin = User(created=NOW)
    quin.set_email("quin@example.org", keyring)
    users.add_user("quin", quin)  # unconfirmed, but never expires
    assert users.unconfirmed_with_email(quin.email_index) == []
    assert users.claim_email(quin) is True
    users.remove("quin")
    assert sum(len(tree) for tree in users.unconfirmed_by_email) == SHARDS


def test_an_unconfirmed_account_given_another_address_leaves_it(keyring):
    users = Users()
    mallory = registered(users, keyring, "mallory", "ada@example.org")
    old = mallory.email_index
    # An admin's change: the account holds the new address.
    mallory.set_email("mallory@example.net", keyring)
    users.reindex_email(mallory, old)
    assert users.unconfirmed_with_email(old) == []
    assert users.unconfirmed_with_email(mallory.email_index) == []
    assert users.find_by_email(mallory.email_index) is mallory


def test_a_container_from_before_the_index_works_without_it(keyring):
    users = Users()
    del users.unconfirmed_by_email  # as generation 14 left it
    mallory = registered(users, keyring, "mallory", "ada@example.org")
    assert users.unconfirmed_with_email(mallory.email_index) == []
    assert users.claim_email(mallory) is True
    users.remove("mallory")
    # Nothing is written there until `wingapp evolve` builds it.
    assert users.unconfirmed_by_email is None


def search(users: Users, keyring: Any, email: str, **filters: Any) -> list[str]:
    """The logins the admin listing shows for a search by ``email``."""
    chosen = {"state": None, "role": None, "login": None, **filters}
    listing = Listing(limit=50, order_by="login", filters={**chosen, "email": email})
    found, after, length = find_users(users, listing, keyring)
    assert (after, length) == (None, len(found))
    return [user.__name__ for user in found]


def test_evolve_step_15_indexes_the_unconfirmed_accounts_of_an_older_database(
    app, keyring
):
    (step,) = [s for s in evolve_steps(app.registry) if s.generation == 15]
    assert step.description == "index unconfirmed accounts by their address"
    root = make_root(app.registry)
    users = root["users"]
    del users.unconfirmed_by_email  # as generation 14 left it
    registered(users, keyring, "mallory", "ada@example.org")
    registered(users, keyring, "eve", "ada@example.org")
    ada = registered(users, keyring, "ada", "ada@example.org")
    users.claim_email(ada)
    ada.email_confirmed = True
    quin = User(created=NOW)
    quin.set_email("quin@example.org", keyring)
    users.add_user("quin", quin)  # unconfirmed, an admin's
    users.rebuild_catalog()  # subscribers keep it in a running app
    assert search(users, keyring, "ada@example.org") == ["ada"]
    step.run(root)
    assert search(users, keyring, "ada@example.org") == ["ada", "eve", "mallory"]
    assert search(users, keyring, "ada@example.org", state="unconfirmed") == [
        "eve",
        "mallory",
    ]
    assert search(users, keyring, "ada@example.org", login="m") == ["mallory"]
    assert search(users, keyring, "quin@example.org") == ["quin"]
    assert sum(len(tree) for tree in users.unconfirmed_by_email) == SHARDS + 2
