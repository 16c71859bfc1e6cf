from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wingapp.users.models import AccountError, Users
from wingapp.users.passwords import PasswordHasher
from wingapp.users.services import create_user

PASSWORD = "violet harbour lantern seventeen"


def make(users, keyring, login="ada", email="ada@example.org", password=PASSWORD):
    return create_user(
        users,
        login,
        email,
        password,
        hasher=PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1),
        keyring=keyring,
        now=lambda: datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_create_user_stores_only_hashes_and_ciphertext(keyring):
    users = Users()
    user = make(users, keyring)
    assert users["ada"] is user
    assert user.roles == ("user",)
    assert not user.email_confirmed
    assert PASSWORD not in user.password_hash
    assert user.password_changed == user.created


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"login": "ADA"}, "login name is taken"),
        ({"login": "new", "email": "ADA@example.org"}, "exists already"),
        ({"login": "new", "email": "new@example.org", "password": "short"}, "15"),
        (
            {
                "login": "new",
                "email": "new@example.org",
                "password": "new@example.org!",
            },
            "guess",
        ),
        ({"login": "new", "email": "broken"}, "email address"),
    ],
)
def test_create_user_refuses_and_changes_nothing(keyring, kw, message):
    users = Users()
    make(users, keyring)
    with pytest.raises(AccountError, match=message):
        make(users, keyring, **kw)
    assert list(users) == ["ada"]
    assert len(users.by_email) == 1
