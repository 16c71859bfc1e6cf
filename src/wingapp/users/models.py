"""The users container and the user account."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from datetime import datetime
from functools import cache
from typing import Any

import email_validator
from BTrees.OOBTree import OOBTree
from confusable_homoglyphs import categories, confusables
from email_validator import EmailNotValidError, validate_email
from persistent import Persistent
from pyramid.authorization import Allow, Deny, Everyone
from zope.interface import implementer

from ..audit import LogTree
from ..folder import Folder, WideTree, new_trees
from ..interfaces import IUser, IUsers
from ..permissions import USER_CREDENTIALS, USER_READ, USER_WRITE, user_principal
from ..shards import tree_for
from ..walks import HIGH
from .catalog import SHARDS, IndexSet, UserCatalog

LOGIN_PATTERN = re.compile(r"[^\W_][\w.-]{1,30}[^\W_]\Z")
MAX_EMAIL_LENGTH = 254
EMAIL_MESSAGE = "Enter one email address, like name@example.org."
LOOKS_TAKEN = "This login name looks like an existing one. Choose another."
MIXED_SCRIPTS = (
    "Use letters of one alphabet in a login name (not, say, Latin and "
    "Cyrillic together)."
)
# Scripts that are written together (UTS #39's "highly restrictive"
# profile): a Japanese, Chinese or Korean name mixes these by nature.
SCRIPT_SETS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# The setup command's placeholder admin address is in .invalid, which
# RFC 6761 reserves so that mail to it goes nowhere; the library refuses
# it unless told otherwise (its documented way is this list).
with contextlib.suppress(ValueError):  # gone already: a module reloaded
    email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("invalid")
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
    if mixes_scripts(normalized):
        raise AccountError(MIXED_SCRIPTS)
    return normalized


def mixes_scripts(name: str) -> bool:
    """Whether ``name`` mixes scripts that are not written together, as a
    look-alike does ("admin" with a Cyrillic a, U+0430, for its first
    letter)."""
    if not confusables.is_mixed_script(name):
        return False
    # Marks (INHERITED) take the script of the letter they sit on.
    scripts = categories.unique_aliases(name) - {"COMMON", "INHERITED"}
    return len(scripts) > 1 and not any(scripts <= both for both in SCRIPT_SETS)


@cache
def _prototypes() -> dict[str, str]:
    """Each confusable character -> the one its look-alike group is judged
    by (the target of Unicode's confusables.txt, which the library holds).

    The library stores every mapping both ways: a source has exactly one
    entry (its target), a target lists its sources. A pair that lists only
    each other is ambiguous, but either member serves as the group's
    representative, so the smaller is taken.
    """
    # The library wraps right-to-left characters in LEFT-TO-RIGHT MARKs.
    data = {
        key.replace("\u200e", ""): [h["c"].replace("\u200e", "") for h in found]
        for key, found in confusables.confusables_data.items()
    }
    table = {}
    for char, found in data.items():
        if len(char) != 1 or len(found) != 1:
            continue  # a target (or a sequence): it stands for itself
        partner = found[0]
        if len(data.get(partner, ())) > 1 or len(partner) > 1:
            table[char] = partner
        else:
            table[char] = min(char, partner)
    return table


def skeleton(name: str) -> str:
    """UTS #39's skeleton of ``name``: two names that look alike have the
    same one ("victim1", and the same with a dotless i, U+0131)."""
    table = _prototypes()
    decomposed = unicodedata.normalize("NFD", name)
    mapped = "".join(table.get(char, char) for char in decomposed)
    return unicodedata.normalize("NFD", mapped)


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip()


def _validated(email: str) -> email_validator.ValidatedEmail:
    # One mailbox: no list, no display name, no comment. Non-ASCII is
    # allowed after the @ (every such domain has an ASCII, IDNA, form to
    # send to), not before it, which would need every relay to speak
    # SMTPUTF8. Strict: at most 64
    # characters before the @, as RFC 5321 says and servers enforce.
    return validate_email(
        email, check_deliverability=False, allow_smtputf8=False, strict=True
    )


def check_email(email: str) -> str:
    """The address in the library's normal form (domain lowercased and,
    if international, in Unicode); one address only."""
    normalized = normalize_email(email)
    if len(normalized) > MAX_EMAIL_LENGTH:
        raise AccountError(EMAIL_MESSAGE)
    try:
        return _validated(normalized).normalized
    except EmailNotValidError:
        raise AccountError(EMAIL_MESSAGE) from None


def email_key(email: str) -> str:
    """What the email index hashes: mail systems treat addresses as
    case-insensitive in practice, so one person cannot register twice by
    changing case; a domain in IDNA form ("xn--") keys as its Unicode one.
    For the addresses accepted before the library checked them, the key is
    the one they were indexed under."""
    email = normalize_email(email)
    # A sign-in name that is not an address keys as typed, finding no one.
    with contextlib.suppress(EmailNotValidError):
        email = _validated(email).normalized
    return unicodedata.normalize("NFKC", email).casefold()


UNCONFIRMED_FLOOR = ("", "")
"""A key below every (email index, login) pair, which each tree of
``Users.unconfirmed_by_email`` holds from the start and never loses (see
:data:`wingapp.users.catalog.FLOORS`): confirmations leave these trees as
registrations enter them."""


def unconfirmed_index() -> tuple[IndexSet, ...]:
    return tuple(IndexSet([UNCONFIRMED_FLOOR]) for _ in range(SHARDS))


@implementer(IUsers)
class Users(Folder):
    """Accounts, each held under its normalised login name.

    ``by_email`` maps the keyed hash of an address to a login; the address
    itself is only ever stored encrypted, on the user. Only the holder of
    an address is there: ``unconfirmed_by_email`` finds the accounts that
    registered themselves with it and have not confirmed it (several may).
    ``by_skeleton`` maps each login's :func:`skeleton` to it, so that a
    look-alike of an existing name is refused. The accounts and
    ``by_skeleton`` are spread over :data:`SHARDS` trees by login or
    skeleton: names a crowd registers together often sort together, and
    in one tree they would all add to its last bucket. ``catalog`` sorts
    and filters the accounts for the admin listing
    (:class:`~wingapp.users.catalog.UserCatalog`); subscribers keep it up
    to date, not this class.
    """

    shards = SHARDS

    def __init__(self, title: str = "") -> None:
        super().__init__(title)
        self.by_email = WideTree()
        self.by_skeleton = new_trees(SHARDS)
        self.unconfirmed_by_email = unconfirmed_index()
        self.rebuild_catalog()

    def index_skeletons(self) -> None:
        """A new skeleton index of every account (also how a container
        made before it gets one). Of look-alikes made before, the first by
        name keeps the entry."""
        self.by_skeleton = new_trees(SHARDS)
        for login in self.keys():
            key, skeletons = self._skeleton_of(login)
            skeletons.setdefault(key, login)

    def _skeleton_of(self, login: str) -> tuple[str, WideTree]:
        """``login``'s skeleton, and the tree of ``by_skeleton`` it is in."""
        key = skeleton(login)
        return key, tree_for(self.by_skeleton, key)

    def looks_like(self, login: str) -> str | None:
        """The other account whose name ``login`` looks like, if any."""
        key, skeletons = self._skeleton_of(login)
        found = skeletons.get(key)
        return None if found == login else found

    def rebuild_catalog(self) -> None:
        """A new catalog holding every account (also how a container made
        before the catalog gets one)."""
        self.catalog = UserCatalog(STATES, ROLES)
        for user in self.values():
            self.catalog.index(user)

    def find_by_email(self, email_index: str) -> User | None:
        """The account that holds the address. Only holders are indexed:
        an account that registered itself is not until it confirms its
        address (it may be squatting someone else's)."""
        login = self.by_email.get(email_index)
        return None if login is None else self.get(login)

    unconfirmed_by_email: tuple[IndexSet, ...] | None = None
    """(email index, login) of every account that registered itself and
    has not confirmed its address yet, spread over :data:`SHARDS` trees by
    the email index: every registration writes it. None in a container
    made before generation 15, which writes nothing here until ``wingapp
    evolve`` builds it (:meth:`index_unconfirmed`)."""

    def unconfirmed_with_email(self, email_index: str) -> list[str]:
        """The logins of the accounts waiting to confirm this address,
        in login order."""
        if self.unconfirmed_by_email is None:
            return []
        pairs = tree_for(self.unconfirmed_by_email, email_index).keys(
            min=(email_index, ""), max=(email_index, HIGH)
        )
        return [login for _, login in pairs]

    def index_unconfirmed(self) -> None:
        """A new index of the accounts waiting to confirm (also how a
        container made before it gets one)."""
        self.unconfirmed_by_email = unconfirmed_index()
        for login in self.unconfirmed_logins():
            self._note_unconfirmed(self[login])

    def _note_unconfirmed(self, user: User) -> None:
        """Index ``user`` if it registered itself and has not confirmed."""
        index = user.email_index
        trees = self.unconfirmed_by_email
        if trees is not None and user.expires is not None and index is not None:
            tree_for(trees, index).add((index, user.__name__))

    def _forget_unconfirmed(self, login: str, index: str | None) -> None:
        trees = self.unconfirmed_by_email
        if trees is not None and index is not None:
            # Most accounts that confirm or go were never there (an
            # admin's, an import's): discarding a missing key writes nothing.
            tree_for(trees, index).discard((index, login))

    stand_ins: WideTree | None = None
    """Stand-in key -> FailedAttempts: the failures counted against names
    and addresses that have no account (see StandIn)."""

    def nobody(self, key: str) -> StandIn:
        """What the back-off reads and counts for ``key``, a name with no
        account; nothing is stored until a failure is counted."""
        return StandIn(self, key)

    def unconfirmed_logins(self, page_size: int = 1000) -> list[str]:
        """Every account whose address is unconfirmed (from the catalog,
        without loading the others)."""
        logins: list[str] = []
        after = None
        while True:
            page, after = self.catalog.query(
                state=UNCONFIRMED, after=after, limit=page_size
            )
            logins += page
            if after is None:
                return logins

    def claim_email(self, user: User) -> bool:
        """Make ``user``, whose address has just been proved, its holder;
        False if another account holds it (it confirmed first)."""
        holder = self.by_email.get(user.email_index)
        if holder is not None and holder != user.__name__:
            return False
        if holder is None:
            # Two claims at once insert the same key: they conflict, and
            # the retry finds the first one's holder.
            self.by_email[user.email_index] = user.__name__
        self._forget_unconfirmed(user.__name__, user.email_index)
        user.expires = None
        return True

    def add_user(self, login: str, user: User) -> User:
        if self.looks_like(login) is not None:
            raise AccountError(LOOKS_TAKEN, {"login": LOOKS_TAKEN})
        if user.email_index is not None and self.find_by_email(user.email_index):
            raise EmailTaken("An account with this email address exists already.")
        self.add(login, user)
        if user.email_index is not None and user.expires is None:
            self.by_email[user.email_index] = login
        self._note_unconfirmed(user)
        key, skeletons = self._skeleton_of(login)
        skeletons[key] = login
        return user

    def reindex_email(self, user: User, old_index: str | None) -> None:
        """``user``'s address changed (an admin's or an import's change, or
        the owner's own, proved by a code): the account holds the new one."""
        if old_index is not None and self.by_email.get(old_index) == user.__name__:
            del self.by_email[old_index]
        self._forget_unconfirmed(user.__name__, old_index)
        if user.email_index is not None:
            self.by_email[user.email_index] = user.__name__
            # Holding an address ends the time to confirm one, as a claim
            # does: an account that registered itself, given an address by
            # an admin, must not expire and be swept a day later.
            user.expires = None

    def remove(self, name: str, send_events: bool = True) -> Any:
        user = super().remove(name, send_events)
        if user.email_index is not None and self.by_email.get(user.email_index) == name:
            del self.by_email[user.email_index]
        self._forget_unconfirmed(name, user.email_index)
        key, skeletons = self._skeleton_of(name)
        if skeletons.get(key) == name:
            del skeletons[key]
        return user


class History(LogTree):
    """An account's own history: time key -> the event log's entry.

    Every entry lands at the end, and an account's requests can come at
    once (a crowd guessing one password, one person in several browsers):
    the wide buckets of :class:`~wingapp.audit.LogTree` split seldom.
    """


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


class StandIn:
    """A name or address with no account, as the back-off sees it.

    Failures against such a name count, and make it wait, exactly as an
    account's do: otherwise the words a code page says during the wait
    ("wait a minute" or "not right") would tell an account from nobody.
    Its record is stored only once a failure is counted (:meth:`keep`).
    """

    def __init__(self, users: Users, key: str) -> None:
        self._users = users
        self._key = key
        tree = users.stand_ins
        stored = tree.get(key) if tree is not None else None
        self._stored = stored is not None
        self.failed_attempts = stored if stored is not None else FailedAttempts()

    def keep(self) -> None:
        """Store the record a counted failure changed."""
        if not self._stored:
            users = self._users
            if users.stand_ins is None:
                users.stand_ins = WideTree()
            users.stand_ins[self._key] = self.failed_attempts
            self._stored = True


class LatestTime(Persistent):
    """A moment that moves only forwards: of two writes at once, the later
    time wins (the last sign-in)."""

    def __init__(self, value: datetime | None = None) -> None:
        self.value = value

    def _p_resolveConflict(self, old: dict, committed: dict, new: dict) -> dict:
        return {**new, "value": _later(committed["value"], new["value"])}


SESSIONS_FLOOR = ""
"""The key below every session's, which a session tree holds from the start
and never loses; a session's key is a keyed hash, never empty."""


class Sessions(OOBTree):
    """An account's sign-in sessions: keyed hash of the session id ->
    ``SignInSession``, read as a mapping that holds only those.

    BTrees merge two transactions that add and remove different keys at
    once, unless one of them removes the first key of a bucket or empties
    it. A person signing in on one device while signing out on another
    would do one of those most of the time (an account has few sessions,
    all in one bucket), and one of the two requests would have to start
    again. The tree therefore keeps a floor key, which nothing shows:
    its first key never changes and it is never empty.
    """

    def __init__(self, records: Any = None) -> None:
        """A tree of ``records`` (a mapping), and the floor."""
        super().__init__()
        self[SESSIONS_FLOOR] = None
        if records:
            self.update(records)

    def keys(self) -> Any:
        return super().keys(min=SESSIONS_FLOOR, excludemin=True)

    def values(self) -> Any:
        return super().values(min=SESSIONS_FLOOR, excludemin=True)

    def items(self) -> Any:
        return super().items(min=SESSIONS_FLOOR, excludemin=True)

    def __iter__(self) -> Any:
        return iter(self.keys())

    def __len__(self) -> int:
        return super().__len__() - 1

    def __bool__(self) -> bool:
        return len(self) > 0


@implementer(IUser)
class User(Persistent):
    """An account. Personal data (the email address) is kept encrypted."""

    __name__: str | None = None
    __parent__: Any = None
    # Class defaults, so accounts stored before these existed read them.
    disabled = False
    expires: datetime | None = None
    """When an account that registered itself is removed if its address is
    still unconfirmed; None for every other (and once confirmed)."""
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
            self.sessions = Sessions()
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

    def has_expired(self, now: datetime) -> bool:
        """Whether this account registered itself and left its address
        unconfirmed past its time: it opens nothing, and is swept away."""
        return self.expires is not None and self.expires <= now

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
