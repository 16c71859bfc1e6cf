"""Sending what waits in the queue maildir.

Committed messages wait in ``new/``. A sender claims one by moving it to
``cur/`` (a rename: of several threads or processes only one wins), sends
it, and deletes it. A message that was not sent goes back to ``new/`` and
is tried again on the next run; one the server refuses for good (a 5xx
answer: no such user, say) moves to ``failed/`` for a person to look at,
instead of being tried forever. Nothing is ever dropped. If a sender dies
while holding a message, the message goes back after ``claim_timeout``;
the price is that it may be sent twice, never that it is lost.

The files are in the format of repoze.sendmail's queue (the envelope in
``X-Actually-*`` headers). Its queue processor logs every recipient's
address and discards messages the server refuses; this one does neither.
"""

from __future__ import annotations

import contextlib
import email.policy
import logging
import os
import smtplib
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from .mailer import ensure_maildir
from .smtp import MESSAGE_REFUSALS, describe_error, redact

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = 15 * 60.0
"""Seconds after which a claimed message is taken to be abandoned: well
beyond what one message can take with any sane mail.timeout."""


def refused_for_good(error: BaseException) -> bool:
    """A 5xx answer about this message: trying again cannot help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return getattr(error, "smtp_code", 0) >= 500


@dataclass
class QueueRun:
    sent: int = 0
    left: int = 0
    failed: int = 0
    """Refused for good, and moved to ``failed/``."""
    errors: list[str] = field(default_factory=list)
    """What went wrong, without addresses."""


def read_queued(path: Path) -> tuple[str, list[str], EmailMessage]:
    """The envelope and the message, as the Mailer wrote them."""
    with path.open("rb") as f:
        message = BytesParser(policy=email.policy.default).parse(f)
    sender = str(message["X-Actually-From"])
    recipients = [a.strip() for a in str(message["X-Actually-To"]).split(",")]
    del message["X-Actually-From"]
    del message["X-Actually-To"]
    return sender, recipients, message


class MailQueue:
    def __init__(
        self, folder: Path, transport: Any, claim_timeout: float = CLAIM_TIMEOUT
    ) -> None:
        ensure_maildir(folder)
        self.new = folder / "new"
        self.cur = folder / "cur"
        self.failed = folder / "failed"
        self.transport = transport
        self.claim_timeout = claim_timeout

    def waiting(self) -> list[Path]:
        # The Mailer's names start with the time they were written, so name
        # order is (nearly) the order they were sent in.
        return sorted(p for p in self.new.iterdir() if not p.name.startswith("."))

    def send_all(self) -> QueueRun:
        """Send everything waiting, over one connection."""
        self._release_abandoned()
        run = QueueRun()
        waiting = self.waiting()
        if waiting:
            try:
                with self.transport.connect() as smtp:
                    for path in waiting:
                        self._send_or_keep(smtp, path, run)
            except Exception as e:
                # Connecting failed, or the connection did: the rest waits.
                self._failed(run, "the queue", e)
        run.left = len(self.waiting())
        return run

    def _send_or_keep(self, smtp: Any, path: Path, run: QueueRun) -> None:
        claimed = self.cur / path.name
        try:
            # Touched first so that the claim's age counts from now.
            os.utime(path)
            path.rename(claimed)
        except FileNotFoundError:
            return  # another sender took it
        try:
            sender, recipients, message = read_queued(claimed)
            refused = smtp.send_message(message, sender, recipients)
        except BaseException as e:
            if isinstance(e, MESSAGE_REFUSALS) and refused_for_good(e):
                self._give_up(run, claimed, e)
                return
            claimed.rename(path)
            if not isinstance(e, MESSAGE_REFUSALS):
                raise
            self._failed(run, path.name, e)
            return
        claimed.unlink()
        run.sent += 1
        if refused:
            log.warning(
                "mail %s sent, but the server refused %d of its recipients",
                path.name,
                len(refused),
            )
        log.info("mail %s sent", path.name)

    def _failed(self, run: QueueRun, what: str, error: BaseException) -> None:
        reason = redact(describe_error(error))
        run.errors.append(reason)
        log.warning(
            "mail: %s not sent through %s, kept to try again: %s",
            what,
            self.transport.address,
            reason,
        )

    def _give_up(self, run: QueueRun, claimed: Path, error: BaseException) -> None:
        self.failed.mkdir(mode=0o700, exist_ok=True)
        kept = self.failed / claimed.name
        claimed.rename(kept)
        run.failed += 1
        reason = redact(describe_error(error))
        run.errors.append(reason)
        log.error(
            "mail %s refused for good, kept as %s: %s", claimed.name, kept, reason
        )

    def _release_abandoned(self) -> None:
        limit = time.time() - self.claim_timeout
        for path in self.cur.iterdir():
            # FileNotFoundError: its sender has just finished with it.
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < limit:
                    path.rename(self.new / path.name)
                    log.warning(
                        "mail %s was abandoned while being sent; queued again",
                        path.name,
                    )
