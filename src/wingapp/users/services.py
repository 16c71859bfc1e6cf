"""Account operations; they take their collaborators as arguments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .models import AccountError, User, Users, check_email, check_login
from .passwords import PasswordHasher, password_problems


def create_user(
    users: Users,
    login: str,
    email: str,
    password: str,
    *,
    hasher: PasswordHasher,
    keyring: Any,
    now: Callable[[], datetime],
    roles: tuple[str, ...] = ("user",),
    email_confirmed: bool = False,
) -> User:
    """Make an account after checking every rule; raise AccountError if any fails."""
    login = check_login(login)
    email = check_email(email)
    if login in users:
        raise AccountError("This login name is taken. Choose another.")
    problems = password_problems(password, user_inputs=(login, email))
    if problems:
        raise AccountError(" ".join(problems))
    user = User(created=now(), roles=roles)
    user.set_roles(roles)
    user.set_email(email, keyring)
    user.email_confirmed = email_confirmed
    user.password_hash = hasher.hash(password)
    user.password_changed = user.created
    return users.add_user(login, user)


def new_password_problems(user: User, password: str, keyring: Any) -> list[str]:
    """The policy's objections to ``password`` as ``user``'s new one."""
    return password_problems(
        password, user_inputs=(user.__name__, user.email(keyring) or "")
    )


def set_password(
    user: User,
    password: str,
    *,
    hasher: PasswordHasher,
    sessions: Any,
    now: Callable[[], datetime],
) -> int:
    """Store a new password and end every session of the account (the
    caller starts a new one if the person stays signed in); return how
    many ended."""
    user.password_hash = hasher.hash(password)
    user.password_changed = now()
    return sessions.end_all(user)
