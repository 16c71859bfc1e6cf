"""Transactional mail: a message leaves only if its transaction commits.

``mail.transport = maildir`` (development) keeps each committed message as a
file in ``mail.maildir`` and logs its name. ``mail.transport = smtp`` puts it
in the queue maildir ``mail.queue_dir``, and a background thread sends it
through the SMTP server; ``wingapp CONFIG send-queued-mail`` does the same
from cron.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..interfaces import IMailer
from .background import BackgroundSender
from .mailer import Mailer
from .queue import MailQueue
from .settings import MAIL, MailSettings
from .smtp import SMTPTransport

log = logging.getLogger(__name__)


def log_saved(path: Path) -> None:
    # The file's name only: never an address or any of the message.
    log.info("mail saved as %s", path)


def mailer_from_settings(settings: Mapping[str, Any]) -> Mailer:
    return mailer_for(MailSettings.from_settings(settings))


def mailer_for(mail: MailSettings) -> Mailer:
    if mail.transport == "maildir":
        return Mailer(mail.folder, mail.default_sender, after_commit=log_saved)
    queue = MailQueue(mail.folder, SMTPTransport(mail))
    sender = BackgroundSender(queue, mail.retry_interval)
    return Mailer(
        mail.folder,
        mail.default_sender,
        after_commit=sender.message_queued,
        sender=sender,
    )


def includeme(config) -> None:
    values = config.add_settings_schema(MAIL)
    config.register_service(mailer_for(MailSettings.from_values(values)), IMailer)
