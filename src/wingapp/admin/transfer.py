"""Accounts in and out as CSV: the import the console and the browser share,
and the export.

An import reads ``login,email,roles,password_hash,confirmed`` rows, checks
each on its own (a bad row is reported and skipped, never stops the good
ones), then creates the account or, when asked, updates it. Imported
password hashes are kept as they are and re-hashed with argon2id at the
account's next sign-in; an account without one must set its password
through a mailed code. Every created or updated account gets one
``UserImported`` event with the fields before and after (the address
masked, never a hash).

A dry run walks the same code with the writes left out, so it reports the
same summary. What the import has seen so far (logins, addresses, and the
addresses earlier rows moved accounts away from) is kept by the import
itself rather than read back from the database for that reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from ..spreadsheet import csv_line, for_spreadsheet, from_spreadsheet
from ..users.models import (
    LOOKS_TAKEN,
    AccountError,
    User,
    Users,
    check_email,
    check_login,
    email_key,
    mask_email,
    skeleton,
)
from ..users.passwords import imported_hash_problem
from ..walks import walk
from .events import UserImported
from .services import check_roles

COLUMNS = ("login", "email", "roles", "password_hash", "confirmed")
REQUIRED_COLUMNS = ("login", "email")
EXPORT_COLUMNS = (
    "login",
    "email",
    "roles",
    "state",
    "confirmed",
    "created",
    "last_sign_in",
)
RESULT_COLUMNS = ("line", "login", "outcome", "reason")
BATCH_SIZE = 1000

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
REJECTED = "rejected"

YES = ("true", "yes", "1")
NO = ("false", "no", "0", "")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (its first line is not the
    header); the message is for the person who chose the file."""


@dataclass(frozen=True)
class Row:
    """One record of the file: its (first) line number, and either its
    values by column or why it could not even be read."""

    line: int
    values: dict[str, str] = field(default_factory=dict)
    problem: str = ""


@dataclass(frozen=True)
class RowResult:
    line: int
    login: str
    outcome: str
    reason: str = ""


@dataclass
class Summary:
    """What an import did; only the rejected rows are kept one by one, so a
    big file costs a few counters, not a list of its rows."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowResult] = field(default_factory=list)

    def add(self, result: RowResult) -> None:
        if result.outcome == REJECTED:
            self.rejected.append(result)
        else:
            setattr(self, result.outcome, getattr(self, result.outcome) + 1)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)

    def lines(self) -> list[str]:
        """The summary as sentences, one per line, rejected rows last."""
        lines = [
            f"Created: {self.created}.",
            f"Updated: {self.updated}.",
            f"Unchanged: {self.unchanged}.",
            f"Rejected: {len(self.rejected)}.",
        ]
        lines += [
            f"  line {r.line}{f' ({r.login})' if r.login else ''}: {r.reason}"
            for r in self.rejected
        ]
        return lines


# -- reading ----------------------------------------------------------------


def header_problem(names: list[str]) -> str:
    """Why a first line is not the header we read, or ''."""
    expected = ",".join(COLUMNS)
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        return (
            f"Unknown column {unknown[0]!r}. The first line must name the "
            f"columns: {expected}."
        )
    missing = [n for n in REQUIRED_COLUMNS if n not in names]
    if missing:
        return (
            f"The column {missing[0]!r} is missing. The first line must be: {expected}."
        )
    if len(set(names)) != len(names):
        return f"A column is named twice. The first line must be: {expected}."
    return ""


def decoded_lines(
    raw: Iterable[bytes], bad_lines: set[int], encoding: str = "utf-8"
) -> Iterator[str]:
    """``raw`` lines as text, each decoded on its own: a line that is not
    UTF-8 is noted in ``bad_lines`` (so its row is rejected) rather than
    ending the import half-way."""
    for number, line in enumerate(raw, start=1):
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]  # a byte-order mark, as spreadsheets write
        try:
            yield line.decode(encoding)
        except UnicodeDecodeError:
            bad_lines.add(number)
            yield line.decode(encoding, "replace")


def read_rows(lines: Iterable[str], bad_lines: set[int] | None = None) -> Iterator[Row]:
    """The rows of a CSV file given as lines of text (opened with
    ``newline=""``, or from :func:`decoded_lines` with its ``bad_lines``).

    Reads the header at once and raises ImportFileError if it is wrong, so
    a wrong file is refused before anything is imported.
    """
    bad_lines = set() if bad_lines is None else bad_lines
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(
            f"The file is empty. Its first line must be: {','.join(COLUMNS)}."
        ) from None
    except csv.Error as e:
        raise ImportFileError(f"This is not a CSV file we can read: {e}.") from None
    names = [name.strip().lower() for name in header]
    problem = "This file is not UTF-8 text." if bad_lines else header_problem(names)
    if problem:
        raise ImportFileError(problem)
    return _rows(reader, names, bad_lines)


def _rows(reader: Any, names: list[str], bad_lines: set[int]) -> Iterator[Row]:
    first = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield Row(first, problem=f"This row is not valid CSV: {e}.")
        else:
            if fields:  # an empty line is no row
                yield _row(first, reader.line_num, names, fields, bad_lines)
        first = reader.line_num + 1


def _row(
    first: int, last: int, names: list[str], fields: list[str], bad_lines: set[int]
) -> Row:
    if any(first <= n <= last for n in bad_lines):
        return Row(first, problem="This row is not UTF-8 text.")
    if len(fields) != len(names):
        problem = f"This row has {len(fields)} fields; the header names {len(names)}."
        if any(f.startswith("$argon2") for f in fields):
            problem += " An argon2 hash has commas: put it in double quotes."
        return Row(first, problem=problem)
    return Row(first, dict(zip(names, fields, strict=True)))


def parse_confirmed(text: str) -> bool:
    value = text.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise AccountError(
        f"The column confirmed says {text!r}: use true, false, yes, no, 1, 0 "
        "or leave it empty (false)."
    )


# -- importing ----------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A row whose every value is valid on its own."""

    login: str
    email: str
    email_index: str
    roles: tuple[str, ...] | None  # None: the cell was empty
    password_hash: str
    confirmed: bool


class Rejected(Exception):
    """A row that is not imported; the message says why."""


class UserImport:
    """One import of one file.

    ``sessions`` is the session service: a new password hash ends the
    account's sessions, as every password change does. ``actor`` is the admin's login, or
    ``"os:<user>"`` from the console; ``reason`` goes into each account's
    history with the file's ``source`` name.
    """

    def __init__(
        self,
        request: Any,
        *,
        users: Users,
        keyring: Any,
        sessions: Any,
        clock: Callable[[], datetime],
        actor: str,
        reason: str,
        source: str,
        update: bool = False,
        dry_run: bool = False,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.request = request
        self.users = users
        self.keyring = keyring
        self.sessions = sessions
        self.clock = clock
        self.actor = actor
        self.reason = reason
        self.source = source
        self.update = update
        self.dry_run = dry_run
        self.batch_size = batch_size
        # The first line each login and address was accepted on; addresses
        # are kept as raw digests, half the memory of their hex text.
        self.logins: dict[str, int] = {}
        self.skeletons: dict[str, int] = {}
        """The look of each login imported so far, for look-alikes."""
        self.emails: dict[bytes, int] = {}
        # Addresses earlier rows moved an account away from: free now, in a
        # dry run as in a real one.
        self.released: set[str] = set()

    def run(
        self,
        rows: Iterable[Row],
        commit: Callable[[], None] = lambda: None,
        progress: Callable[[RowResult], None] = lambda result: None,
    ) -> Summary:
        """Import ``rows``; call ``commit`` after every batch and at the end
        (never in a dry run) and ``progress`` after every row."""
        summary = Summary()
        rows = iter(rows)
        while batch := list(islice(rows, self.batch_size)):
            for row in batch:
                result = self.import_row(row)
                summary.add(result)
                progress(result)
            if not self.dry_run:
                commit()
        return summary

    def import_row(self, row: Row) -> RowResult:
        login = row.values.get("login", "").strip()
        try:
            if row.problem:
                raise Rejected(row.problem)
            checked = self.check(row.values)
            login = checked.login
            outcome = self.apply(row.line, checked)
        except Rejected as e:
            return RowResult(row.line, login, REJECTED, str(e))
        self.logins[checked.login] = row.line
        self.skeletons[skeleton(checked.login)] = row.line
        self.emails[bytes.fromhex(checked.email_index)] = row.line
        return RowResult(row.line, checked.login, outcome)

    def check(self, values: dict[str, str]) -> Checked:
        """Each value on its own, then against the rows before."""
        try:
            login = check_login(values["login"])
            email = check_email(from_spreadsheet(values["email"]))
            roles_text = values.get("roles", "").split()
            roles = check_roles(roles_text) if roles_text else None
            confirmed = parse_confirmed(values.get("confirmed", ""))
        except AccountError as e:
            raise Rejected(str(e)) from None
        password_hash = values.get("password_hash", "").strip()
        problem = password_hash and imported_hash_problem(password_hash)
        if problem:
            raise Rejected(problem)
        if login in self.logins:
            raise Rejected(f"The login {login!r} is on line {self.logins[login]} too.")
        if login not in self.users and self.users.looks_like(login):
            raise Rejected(LOOKS_TAKEN)
        earlier = self.skeletons.get(skeleton(login))
        if earlier is not None:
            raise Rejected(f"The login {login!r} looks like the one on line {earlier}.")
        index = self.keyring.mac("email", email_key(email))
        earlier = self.emails.get(bytes.fromhex(index))
        if earlier is not None:
            raise Rejected(f"This email address is on line {earlier} too.")
        return Checked(login, email, index, roles, password_hash, confirmed)

    def email_owner(self, index: str) -> str | None:
        if index in self.released:
            return None
        return self.users.by_email.get(index)

    def apply(self, line: int, row: Checked) -> str:
        user = self.users.get(row.login)
        if user is not None and not self.update:
            raise Rejected(
                "An account with this login exists already; import with "
                "'update existing accounts' to change it."
            )
        owner = self.email_owner(row.email_index)
        if owner is not None and owner != row.login:
            raise Rejected(f"The account {owner!r} has this email address already.")
        if user is None:
            self.create(line, row)
            return CREATED
        return self.change(line, user, row)

    def record(self, login: str, line: int, before: dict, after: dict) -> None:
        detail = {
            "reason": self.reason,
            "source": f"{self.source}, line {line}",
            "before": before,
            "after": after,
        }
        self.request.registry.notify(
            UserImported(
                request=self.request, login=login, actor=self.actor, detail=detail
            )
        )

    def create(self, line: int, row: Checked) -> None:
        if self.dry_run:
            return
        now = self.clock()
        user = User(created=now, roles=row.roles or ("user",))
        user.set_email(row.email, self.keyring)
        user.email_confirmed = row.confirmed
        # Without a hash the owner sets a password through a mailed code;
        # until then no password lets anyone in.
        user.password_hash = row.password_hash
        user.must_reset = not row.password_hash
        user.password_changed = now if row.password_hash else None
        # Every field is set before the account is added: the listing's
        # indexes read it from the event adding sends.
        self.users.add_user(row.login, user)
        after = {
            "email": mask_email(row.email),
            "roles": list(user.roles),
            "email_confirmed": row.confirmed,
            "password": "imported hash" if row.password_hash else "none",
            "state": user.state,
        }
        self.record(row.login, line, {}, after)

    def change(self, line: int, user: User, row: Checked) -> str:
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if row.email_index != user.email_index:
            before["email"] = mask_email(user.email(self.keyring))
            after["email"] = mask_email(row.email)
        if row.roles is not None and row.roles != user.roles:
            if user.__name__ == self.actor and "admin" not in row.roles:
                raise Rejected("You cannot remove your own admin role.")
            before["roles"], after["roles"] = list(user.roles), list(row.roles)
        if row.confirmed != user.email_confirmed:
            before["email_confirmed"] = user.email_confirmed
            after["email_confirmed"] = row.confirmed
        new_password = bool(row.password_hash) and (
            row.password_hash != user.password_hash
        )
        if new_password:
            before["password"], after["password"] = "kept", "imported hash"
        if not after:
            return UNCHANGED
        if "email" in after:
            self.released.add(user.email_index)
        if not self.dry_run:
            self.write(user, row, new_password, before, after)
            self.record(user.__name__, line, before, after)
        return UPDATED

    def write(
        self, user: User, row: Checked, new_password: bool, before: dict, after: dict
    ) -> None:
        if "email" in after:
            old_index = user.email_index
            user.set_email(row.email, self.keyring)
            self.users.reindex_email(user, old_index)
        if "roles" in after:
            user.set_roles(row.roles)
        user.email_confirmed = row.confirmed
        if row.confirmed and user.expires is not None:
            # It registered itself and never proved the address; the import
            # vouches for it, as an admin marking it confirmed does, so it
            # becomes the address's holder and no longer expires. apply()
            # refused the row if another account holds the address.
            self.users.claim_email(user)
        if new_password:
            user.password_hash = row.password_hash
            user.password_changed = self.clock()
            before["must_reset"], after["must_reset"] = user.must_reset, False
            user.must_reset = False
            # A new password ends every session, as any password change does.
            before["sessions"] = self.sessions.end_all(user)
            after["sessions"] = 0


# -- exporting ------------------------------------------------------------------


def _iso(when: datetime | None) -> str:
    return "" if when is None else when.isoformat()


def export_lines(
    users: Users,
    keyring: Any,
    batch_size: int = BATCH_SIZE,
    between_batches: Callable[[], None] = lambda: None,
) -> Iterator[str]:
    """Every account as a CSV line, the header first; no secret (no hash).

    Reads ``batch_size`` accounts at a time by key, calling
    ``between_batches`` after each (the caller lets the connection's cache
    shed what was read), so a million accounts never sit in memory at once.
    """
    yield csv_line(EXPORT_COLUMNS)
    after: str | None = None
    while True:
        keys = walk(users.trees, after=after)
        batch = list(islice(keys, batch_size))
        if not batch:
            return
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for login in batch:
            user = users[login]
            writer.writerow(
                (
                    login,
                    for_spreadsheet(user.email(keyring) or ""),
                    " ".join(user.roles),
                    user.state,
                    "true" if user.email_confirmed else "false",
                    _iso(user.created),
                    _iso(user.last_sign_in),
                )
            )
        yield out.getvalue()
        after = batch[-1]
        between_batches()


def result_line(result: RowResult) -> str:
    """One line of the per-row result CSV the browser import offers."""
    return csv_line((result.line, result.login, result.outcome, result.reason))
