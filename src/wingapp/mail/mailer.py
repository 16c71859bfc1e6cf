"""Sending mail as part of a transaction.

A message is written to ``tmp/`` of a maildir at once and moved to ``new/``
only when the transaction commits; an abort deletes it. That two-phase dance
is repoze.sendmail's (QueuedMailDelivery and its MailDataManager); this
module picks the envelope and says what happens after the commit.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import Message
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from repoze.sendmail.delivery import QueuedMailDelivery

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


def recipients_of(message: Message) -> list[str]:
    values = [str(v) for name in RECIPIENT_HEADERS for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(values) if address]


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
        """The background sender, if there is one (the smtp transport)."""
        # Message-Ids on the sender's domain; make_msgid's default would ask
        # DNS for this host's name on every message.
        self._domain = parseaddr(default_sender)[1].rpartition("@")[2]

    def send(self, message: Message, tm: Any) -> str:
        """Join ``tm``'s current transaction with ``message``; return its Message-Id."""
        # First, so that with no transaction to join no file is written.
        transaction = tm.get()
        if message["From"] is None:
            message["From"] = self.default_sender
        if message["Message-Id"] is None:
            message["Message-Id"] = make_msgid(domain=self._domain)
        if message["Date"] is None:
            message["Date"] = formatdate(usegmt=True)
        recipients = recipients_of(message)
        if not recipients:
            raise ValueError("A message needs a recipient in To, Cc or Bcc.")
        envelope_from = parseaddr(str(message["From"]))[1]
        flat = email.message_from_bytes(message.as_bytes(policy=SEVEN_BIT))
        # Not QueuedMailDelivery.send: it "cleans up" the message with the
        # old email API, which rewrites an EmailMessage's charset to ascii.
        delivery = QueuedMailDelivery(str(self.folder), transaction_manager=tm)
        manager = delivery.createDataManager(envelope_from, recipients, flat)
        move_to_new = manager.callable
        # repoze.sendmail keeps the file's final name on the pending message
        # (its MaildirTransactionalMessage); tests prove the name is right.
        path = Path(move_to_new.__self__._committed_path)

        def finish() -> None:
            move_to_new()
            self.after_commit(path)

        manager.callable = finish
        manager.join_transaction(transaction)
        return str(message["Message-Id"])

    def close(self) -> None:
        """Stop the background sender; what it has not sent stays queued."""
        if self.sender is not None:
            self.sender.stop()
