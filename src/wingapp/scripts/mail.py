"""``wingapp CONFIG send-queued-mail`` and ``send-test-mail ADDRESS``.

Neither opens the database: they need only the ini file's mail settings.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from pyramid.exceptions import ConfigurationError
from pyramid.paster import get_appsettings, setup_logging

from ..mail.queue import MailQueue
from ..mail.settings import MailSettings
from ..mail.smtp import SMTPTransport, describe_error
from ..mail.templates import templated_message
from .errors import CommandError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "send-queued-mail",
        help="send the messages waiting in the mail queue (run it from cron)",
        description="Sends what waits in mail.queue_dir through the SMTP server. "
        "Messages that cannot be sent stay queued; the exit status is then 2.",
    )
    p.set_defaults(run=run_send_queued_mail)
    p = subparsers.add_parser(
        "send-test-mail",
        help="send one message now, to check the SMTP settings",
        description="Sends at once, not through the queue, and shows the server's "
        "answer if it refuses.",
    )
    p.add_argument("address", help="where to send it")
    p.set_defaults(run=run_send_test_mail)


def smtp_from_ini(config_uri: str) -> tuple[MailSettings, SMTPTransport]:
    setup_logging(config_uri)
    try:
        settings = MailSettings.from_settings(get_appsettings(config_uri))
        return settings, SMTPTransport(settings)
    except ConfigurationError as e:
        raise CommandError(str(e)) from None


def run_send_queued_mail(args: Any, stdin: Any, stdout: Any) -> int:
    settings, transport = smtp_from_ini(args.config_uri)
    if settings.transport != "smtp":
        raise CommandError(
            f"mail.transport is {settings.transport!r}: messages are saved in "
            f"{settings.folder}, there is no queue to send."
        )
    queue = MailQueue(settings.folder, transport)
    run = queue.send_all()
    print(f"Sent {run.sent}; {run.left} waiting.", file=stdout)
    if run.failed:
        print(
            f"{run.failed} refused for good by the server, kept in {queue.failed}.",
            file=stdout,
        )
    if run.errors:
        raise CommandError(
            f"Not all mail could be sent through {transport.address}: "
            + "; ".join(run.errors)
        )
    return 0


def probe_message(settings: MailSettings, to: str) -> EmailMessage:
    message = templated_message(
        "test_message",
        {},
        subject="wingapp test message",
        sender=settings.default_sender,
        to=to,
    )
    message["Date"] = formatdate(usegmt=True)
    message["Message-Id"] = make_msgid(
        domain=settings.sender_address.rpartition("@")[2]
    )
    return message


def run_send_test_mail(args: Any, stdin: Any, stdout: Any) -> int:
    settings, transport = smtp_from_ini(args.config_uri)
    message = probe_message(settings, args.address)
    try:
        transport.send(settings.sender_address, [args.address], message)
    except Exception as e:
        raise CommandError(
            f"Could not send through {transport.address}: {describe_error(e)}"
        ) from None
    print(
        f"Sent a test message to {args.address} through {transport.address}.",
        file=stdout,
    )
    return 0
