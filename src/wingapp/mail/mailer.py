"""Sending mail as part of a transaction.

A message is written to ``tmp/`` of a maildir at once and moved to ``new/``
only when the transaction commits; an abort, or a commit that fails,
deletes it. The file carries its envelope in ``X-Actually-From`` and
``X-Actually-To`` headers (repoze.sendmail's queue format), so the queue
sender (``queue.py``) knows whom to send it to.
"""

from __future__ import annotations

import email.policy
import os
import secrets
import time
from collections.abc import Callable
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import idna
from transaction.interfaces import IDataManager
from zope.interface import implementer

# Queued files are text; a 7-bit message reads back the same whatever the
# locale of the process that reads it. The generator re-encodes any 8-bit
# part (base64 or quoted-printable) on the way.
SEVEN_BIT = email.policy.default.clone(cte_type="7bit")

RECIPIENT_HEADERS = ("To", "Cc", "Bcc")


def ensure_maildir(folder: Path) -> Path:
    # Mail holds codes and addresses: only the app's own user may read it.
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(mode=0o700, exist_ok=True)
    return folder


def ascii_domains(message: Message) -> None:
    """Write each recipient's domain in its ASCII (IDNA) form, as SMTP and
    7-bit headers need it: ``ada@bücher.example`` goes to
    ``ada@xn--bcher-kva.example``. Addresses keep their display names."""
    for name in RECIPIENT_HEADERS:
        found = getaddresses([str(v) for v in message.get_all(name, [])])
        domains = [address.rpartition("@")[2] for _, address in found]
        if all(domain.isascii() for domain in domains):
            continue
        del message[name]
        message[name] = [
            Address(
                display_name=display,
                username=address.rpartition("@")[0],
                domain=domain
                if domain.isascii()
                else idna.encode(domain, uts46=True).decode("ascii"),
            )
            for (display, address), domain in zip(found, domains, strict=True)
        ]


def recipients_of(message: Message) -> list[str]:
    values = [str(v) for name in RECIPIENT_HEADERS for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(values) if address]


def _envelope_header(name: str, value: str) -> bytes:
    # Plain where it can be, for a person reading the queue; an address with
    # non-ASCII letters is encoded to keep the file 7-bit. Never folded, so
    # that the queue reads the list back whole.
    if not value.isascii():
        value = Header(value, "utf-8").encode(maxlinelen=0)
    return f"{name}: {value}\n".encode("ascii")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@implementer(IDataManager)
class PendingMessage:
    """One message file in ``tmp/``, taking part in a transaction.

    It moves to ``new/`` in ``tpc_finish`` and is deleted by ``abort`` and
    ``tpc_abort``, each of which may come more than once and in any phase:
    after a commit that fails (a ZODB ConflictError, say), the transaction
    aborts the managers that had not voted, then calls ``tpc_abort`` on them
    all, and the request's transaction manager aborts once more before a
    retry. (repoze.sendmail's MailDataManager refuses an ``abort`` during
    the two-phase commit, which the transaction logs as an error.)
    """

    def __init__(
        self,
        folder: Path,
        data: bytes,
        transaction_manager: Any,
        after_commit: Callable[[Path], None],
    ) -> None:
        # The time first: the queue sends in name order. The random part
        # makes a clash between processes or threads practically impossible;
        # O_EXCL makes it an error rather than an overwrite.
        name = f"{time.time():.6f}.{os.getpid()}.{secrets.token_hex(8)}"
        self.pending = folder / "tmp" / name
        self.path = folder / "new" / name
        """Where the message is once its transaction has committed."""
        self.transaction_manager = transaction_manager
        self.after_commit = after_commit
        fd = os.open(self.pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            # On disk before the transaction can vote for it.
            os.fsync(f.fileno())

    def sortKey(self) -> str:
        # After the database (whose keys are storage names): the message is
        # moved only once the data it speaks of is committed.
        return f"~wingapp.mail {self.path.name}"

    def abort(self, transaction: Any) -> None:
        self.pending.unlink(missing_ok=True)

    tpc_abort = abort

    def tpc_begin(self, transaction: Any) -> None:
        pass

    commit = tpc_vote = tpc_begin

    def tpc_finish(self, transaction: Any) -> None:
        self.pending.rename(self.path)
        # The rename itself must survive a crash, or the message is lost.
        _fsync(self.path.parent)
        self.after_commit(self.path)


class Rehearsal(PendingMessage):
    """A message written and synced as one to send is, then deleted where
    the other would be moved into the queue: see Mailer.rehearse."""

    def tpc_finish(self, transaction: Any) -> None:
        self.pending.unlink()
        _fsync(self.pending.parent)


class Mailer:
    """``send(message, tm)``: the message leaves if, and only if, the
    transaction it was sent in commits.

    ``after_commit`` is called with the path of each committed message file:
    in development it logs where the message is, in production it wakes the
    background sender.
    """

    def __init__(
        self,
        folder: Path,
        default_sender: str,
        after_commit: Callable[[Path], None],
        sender: Any = None,
    ) -> None:
        self.folder = ensure_maildir(folder)
        self.default_sender = default_sender
        self.after_commit = after_commit
        self.sender = sender
        """The background sender, if there is one (the smtp transport);
        ``sender.stop()`` ends its thread, leaving unsent mail queued."""
        # Message-Ids on the sender's domain; make_msgid's default would ask
        # DNS for this host's name on every message.
        self._domain = parseaddr(default_sender)[1].rpartition("@")[2]

    def send(self, message: Message, tm: Any) -> str:
        """Join ``tm``'s current transaction with ``message``; return its Message-Id."""
        return self._join(message, tm, PendingMessage)

    def rehearse(self, message: Message, tm: Any) -> str:
        """Do all that ``send`` does, writing and syncing the file included,
        but send nothing: for an answer that must take as long as one that
        mails (a reset asked for a name with no account)."""
        return self._join(message, tm, Rehearsal)

    def _join(self, message: Message, tm: Any, kind: type[PendingMessage]) -> str:
        # First, so that with no transaction to join no file is written.
        transaction = tm.get()
        if message["From"] is None:
            message["From"] = self.default_sender
        if message["Message-Id"] is None:
            message["Message-Id"] = make_msgid(domain=self._domain)
        if message["Date"] is None:
            message["Date"] = formatdate(usegmt=True)
        ascii_domains(message)
        recipients = recipients_of(message)
        if not recipients:
            raise ValueError("A message needs a recipient in To, Cc or Bcc.")
        envelope_from = parseaddr(str(message["From"]))[1]
        data = (
            _envelope_header("X-Actually-From", envelope_from)
            + _envelope_header("X-Actually-To", ",".join(recipients))
            + message.as_bytes(policy=SEVEN_BIT)
        )
        pending = kind(self.folder, data, tm, self.after_commit)
        transaction.join(pending)
        return str(message["Message-Id"])
