"""The users container and the user account."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid.authorization import Allow, Deny, Everyone
from zope.interface import implementer

from ..folder import Folder, WideTree
from ..interfaces import IUser, IUsers
from ..permissions import USER_CREDENTIALS, USER_READ, USER_WRITE, user_principal
from .catalog import UserCatalog

LOGIN_PATTERN = re.compile(r"[^\W_][\w.-]{1,30}[^\W_]\Z")
EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+\Z")
MAX_EMAIL_LENGTH = 254
ROLES = ("user", "admin")

# What the admin listing filters by; an account is in exactly one.
ACTIVE = "active"
DISABLED = "disabled"
UNCONFIRMED = "unconfirmed"
MUST_RESET = "must-reset"
STATES = (ACTIVE, DISABLED, UNCONFIRMED, MUST_RESET)


class AccountError(ValueError):
    """An account change that is refused; the message is for a person,
    ``errors`` says it again field by field, for a form to show beside
    each field."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class EmailTaken(AccountError):
    """Another account has this address (the web must not say so)."""


def normalize_login(login: str) -> str:
    """NFKC then case-fold, so full-width and ordinary letters, or upper and lower case, name one account."""
    return unicodedata.normalize("NFKC", login).strip().casefold()


def mask_email(email: str | None) -> str | None:
    """Enough of an address for a person to tell two apart
    ("a•••@example.org"), without showing or logging the whole of it."""
    if email is None:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def check_login(login: str) -> str:
    normalized = normalize_login(login)
    if not LOGIN_PATTERN.match(normalized):
        raise AccountError(
            "A login name has 3 to 32 letters, digits, dots, dashes or "
            "underscores, and starts and ends with a letter or digit."
        )
    return normalized


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip()


def check_email(email: str) -> str:
    normalized = normalize_email(email)
    if len(normalized) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(normalized):
        raise AccountError("Enter an email address like name@example.org.")
    return normalized


def email_key(email: str) -> str:
    """What the email index hashes: mail systems treat addresses as
    case-insensitive in practice, so one person cannot register twice by
    changing case."""
    return normalize_email(email).casefold()


@implementer(IUsers)
class Users(Folder):
    """Accounts, each held under its normalised login name.

    ``by_email`` maps the keyed hash of an address to a login; the address
    itself is only ever stored encrypted, on the user. ``catalog`` sorts
    and filters the accounts for the admin listing
    (:class:`~wingapp.users.catalog.UserCatalog`); subscribers keep it up
    to date, not this class.
    """

    def __init__(self, title: str = "") -> None:
        super().__init__(title)
        self.by_email = WideTree()
        self.rebuild_catalog()

    def rebuild_catalog(self) -> None:
        """A new catalog holding every account (also how a container made
        before the catalog gets one)."""
        self.catalog = UserCatalog(STATES, ROLES)
        for user in self.values():
            self.catalog.index(user)

    def find_by_email(self, email_index: str) -> User | None:
        login = self.by_email.get(email_index)
        return None if login is None else self.get(login)

    def add_user(self, login: str, user: User) -> User:
        if user.email_index is not None and user.email_index in self.by_email:
            raise EmailTaken("An account with this email address exists already.")
        self.add(login, user)
        if user.email_index is not None:
            self.by_email[user.email_index] = login
        return user

    def reindex_email(self, user: User, old_index: str | None) -> None:
        if old_index is not None and self.by_email.get(old_index) == user.__name__:
            del self.by_email[old_index]
        if user.email_index is not None:
            self.by_email[user.email_index] = user.__name__

    def remove(self, name: str, send_events: bool = True) -> Any:
        user = super().remove(name, send_events)
        if user.email_index is not None and self.by_email.get(user.email_index) == name:
            del self.by_email[user.email_index]
        return user


class History(LOBTree):
    """An account's own history: time key -> the event log's entry.

    Every entry lands at the end, and an account's requests can come at
    once (a crowd guessing one password, one person in several browsers):
    concurrent appends to one bucket merge, but one that splits it
    conflicts with every other. Buckets of 500 entries (not 60) split
    eight times less often; each holds only integers and references.
    """

    max_leaf_size = 500


def _later(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or second is None:
        return first or second
    return max(first, second)


class FailedAttempts(Persistent):
    """An account's count of recent failed attempts, for the back-off.

    Kept apart from the account, so that counting a failure writes neither
    the account nor anything a sign-in writes; and two failures counted at
    once both count.
    """

    def __init__(self, count: int = 0, last: datetime | None = None) -> None:
        self.count = count
        self.last = last

    def _p_resolveConflict(self, old: dict, committed: dict, new: dict) -> dict:
        # Each side either added failures to the old count, or restarted
        # from nothing (the quiet period had passed, or a sign-in reset it)
        # and so did not grow it; the merge keeps every failure added.
        def added(state: dict) -> int:
            grew = state["count"] > old["count"]
            return state["count"] - old["count"] if grew else state["count"]

        both_grew = min(committed["count"], new["count"]) > old["count"]
        count = (old["count"] if both_grew else 0) + added(committed) + added(new)
        last = _later(committed["last"], new["last"]) if count else None
        return {**new, "count": count, "last": last}


class LatestTime(Persistent):
    """A moment that moves only forwards: of two writes at once, the later
    time wins (the last sign-in)."""

    def __init__(self, value: datetime | None = None) -> None:
        self.value = value

    def _p_resolveConflict(self, old: dict, committed: dict, new: dict) -> dict:
        return {**new, "value": _later(committed["value"], new["value"])}


@implementer(IUser)
class User(Persistent):
    """An account. Personal data (the email address) is kept encrypted."""

    __name__: str | None = None
    __parent__: Any = None
    # Class defaults, so accounts stored before these existed read them.
    disabled = False
    # Set by an admin's forced reset, or an import without a password:
    # until a reset code is used, the password does not let anyone in.
    must_reset = False

    def __init__(self, created: datetime, roles: tuple[str, ...] = ("user",)) -> None:
        self.created = created
        self.roles = tuple(roles)
        self.password_hash = ""
        self.password_changed: datetime | None = None
        self.email_token: bytes | None = None
        self.email_index: str | None = None
        self.email_confirmed = False
        self.ensure_records()

    def ensure_records(self) -> None:
        """Give the account the containers later generations added."""
        if getattr(self, "sessions", None) is None:
            # keyed hash of a session id -> SignInSession
            self.sessions = OOBTree()
        if getattr(self, "trusted_devices", None) is None:
            # keyed hash of a device id -> Trusted
            self.trusted_devices = OOBTree()
        if getattr(self, "trusted_networks", None) is None:
            # keyed hash of a network -> Trusted
            self.trusted_networks = OOBTree()
        if getattr(self, "activity", None) is None:
            # time key -> the event log's Entry (the same object): the
            # account's own history, for its activity page
            self.activity = History()
        # Before they had records of their own, the back-off count and the
        # last sign-in were attributes of the account, which every sign-in
        # and every failure then wrote.
        state = vars(self)
        if "failed_attempts" not in state:
            self.failed_attempts = FailedAttempts(
                state.pop("failures", 0), state.pop("last_failure", None)
            )
        if "sign_in_time" not in state:
            self.sign_in_time = LatestTime(state.pop("last_sign_in", None))

    @property
    def state(self) -> str:
        """One of :data:`STATES`; a disabled account is disabled whatever
        else holds."""
        if self.disabled:
            return DISABLED
        if not self.email_confirmed:
            return UNCONFIRMED
        if self.must_reset:
            return MUST_RESET
        return ACTIVE

    @property
    def failures(self) -> int:
        return self.failed_attempts.count

    @property
    def last_failure(self) -> datetime | None:
        return self.failed_attempts.last

    @property
    def last_sign_in(self) -> datetime | None:
        return self.sign_in_time.value

    def record_sign_in(self, when: datetime) -> None:
        # A method, not a property setter: setting any attribute of a
        # persistent object marks it changed, and this must write only the
        # record.
        self.sign_in_time.value = when

    @property
    def __acl__(self) -> list:
        mine = user_principal(self.__name__)
        return [
            (Allow, mine, (USER_READ, USER_WRITE, USER_CREDENTIALS)),
            # Before the root's grant of everything to admins.
            (Deny, Everyone, USER_CREDENTIALS),
        ]

    def set_email(self, email: str, keyring: Any) -> None:
        email = check_email(email)
        self.email_token = keyring.encrypt(email)
        self.email_index = keyring.mac("email", email_key(email))

    def email(self, keyring: Any) -> str | None:
        return None if self.email_token is None else keyring.decrypt(self.email_token)

    def set_roles(self, roles: tuple[str, ...]) -> None:
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise AccountError(f"Unknown role: {', '.join(sorted(unknown))}.")
        self.roles = tuple(r for r in ROLES if r in roles)
