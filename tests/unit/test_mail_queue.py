"""The queue: what is sent is gone, what is not stays, nothing is lost."""

from __future__ import annotations

import logging
import os
import smtplib
import time
from email.message import EmailMessage

import pytest
import transaction

from wingapp.mail.mailer import Mailer
from wingapp.mail.queue import MailQueue


class FakeSMTP:
    """Stands in for an smtplib connection: records or refuses."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc) -> None:
        self.server.closed += 1

    def send_message(self, message, sender, recipients):
        outcome = self.server.outcomes.pop(0) if self.server.outcomes else {}
        if isinstance(outcome, BaseException):
            raise outcome
        self.server.received.append((sender, recipients, message))
        return outcome


class FakeServer:
    address = "smtp.example.org:587"

    def __init__(self) -> None:
        self.received: list = []
        self.outcomes: list = []
        self.closed = 0
        self.connects = 0
        self.down: Exception | None = None
        self.on_connect = None

    def connect(self) -> FakeSMTP:
        self.connects += 1
        if self.down is not None:
            raise self.down
        if self.on_connect is not None:
            self.on_connect()
        return FakeSMTP(self)


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "queue"


@pytest.fixture
def server():
    return FakeServer()


@pytest.fixture
def queue(folder, server):
    return MailQueue(folder, server)


def enqueue(folder, *recipients: str) -> None:
    mailer = Mailer(folder, "wingapp <app@example.org>", after_commit=lambda p: None)
    tm = transaction.TransactionManager(explicit=True)
    for i, to in enumerate(recipients):
        message = EmailMessage()
        message["Subject"] = f"Message {i}"
        message["To"] = to
        message.set_content("Your code is in here.\n")
        with tm:
            mailer.send(message, tm)
        # Queue file names start with the time; keep them apart.
        time.sleep(0.002)


def subjects(server) -> list[str]:
    return [m["Subject"] for _, _, m in server.received]


def test_everything_waiting_is_sent_over_one_connection_and_removed(
    queue, folder, server, caplog
):
    caplog.set_level(logging.INFO, logger="wingapp.mail")
    enqueue(folder, "a@example.org", "b@example.org", "c@example.org")
    run = queue.send_all()
    assert (run.sent, run.left, run.errors) == (3, 0, [])
    assert subjects(server) == ["Message 0", "Message 1", "Message 2"]
    sender, recipients, message = server.received[0]
    assert (sender, recipients) == ("app@example.org", ["a@example.org"])
    # The envelope travels outside the message, as SMTP wants.
    assert message["X-Actually-To"] is None
    assert message["X-Actually-From"] is None
    assert message.get_content() == "Your code is in here.\n"
    assert (server.connects, server.closed) == (1, 1)
    assert queue.waiting() == []
    assert list((folder / "cur").iterdir()) == []
    assert caplog.text.count(" sent") == 3
    assert "example.org" not in caplog.text


def test_an_empty_queue_does_not_connect(queue, server):
    run = queue.send_all()
    assert (run.sent, run.left, server.connects) == (0, 0, 0)


def test_when_the_server_is_down_everything_stays(queue, folder, server, caplog):
    enqueue(folder, "a@example.org", "b@example.org")
    server.down = ConnectionRefusedError(111, "Connection refused")
    run = queue.send_all()
    assert (run.sent, run.left) == (0, 2)
    assert run.errors == ["[Errno 111] Connection refused"]
    assert "not sent through smtp.example.org:587, kept to try again" in caplog.text
    server.down = None
    assert queue.send_all().sent == 2
    assert queue.waiting() == []


def test_a_refused_message_is_kept_aside_and_the_others_go(
    queue, folder, server, caplog
):
    enqueue(folder, "a@example.org", "nobody@example.org", "c@example.org")
    server.outcomes = [
        {},
        smtplib.SMTPRecipientsRefused(
            {"nobody@example.org": (550, b"5.1.1 <nobody@example.org>: no such user")}
        ),
        {},
    ]
    run = queue.send_all()
    assert (run.sent, run.left, run.failed) == (2, 0, 1)
    assert run.errors == [
        "the server refused the recipient: 550 5.1.1 <<address>>: no such user"
    ]
    assert "nobody@" not in caplog.text
    assert "refused for good" in caplog.text
    # Not tried again, and not lost: it waits in failed/ for a person.
    [kept] = (folder / "failed").iterdir()
    assert "nobody@example.org" in kept.read_text()
    assert queue.send_all().sent == 0
    assert subjects(server) == ["Message 0", "Message 2"]


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPRecipientsRefused({"b@example.org": (450, b"4.2.1 mailbox busy")}),
        smtplib.SMTPDataError(451, b"4.3.0 try again later"),
        smtplib.SMTPSenderRefused(421, b"4.7.0 slow down", "a@example.org"),
    ],
)
def test_a_temporary_refusal_stays_queued(queue, folder, server, error):
    enqueue(folder, "b@example.org")
    server.outcomes = [error]
    run = queue.send_all()
    assert (run.sent, run.left, run.failed) == (0, 1, 0)
    assert not (folder / "failed").exists()
    assert queue.send_all().sent == 1


def test_a_dropped_connection_keeps_the_message_and_the_rest(queue, folder, server):
    enqueue(folder, "a@example.org", "b@example.org", "c@example.org")
    server.outcomes = [
        {},
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
    ]
    run = queue.send_all()
    assert (run.sent, run.left) == (1, 2)
    assert run.errors == ["Connection unexpectedly closed"]
    assert list((folder / "cur").iterdir()) == []
    assert queue.send_all().sent == 2
    assert subjects(server) == ["Message 0", "Message 1", "Message 2"]


def test_recipients_the_server_refused_are_logged_without_addresses(
    queue, folder, server, caplog
):
    enqueue(folder, "a@example.org, b@example.org")
    server.outcomes = [{"b@example.org": (550, b"no")}]
    assert queue.send_all().sent == 1
    assert "the server refused 1 of its recipients" in caplog.text
    assert "b@example.org" not in caplog.text


def test_a_message_another_sender_took_is_skipped(queue, folder, server):
    enqueue(folder, "a@example.org", "b@example.org")
    first = queue.waiting()[0]
    # Between this sender's listing and its claim, another one claims it.
    server.on_connect = lambda: first.rename(folder / "cur" / first.name)
    run = queue.send_all()
    assert run.sent == 1
    assert subjects(server) == ["Message 1"]


def test_a_message_abandoned_mid_send_is_queued_again(queue, folder, server, caplog):
    enqueue(folder, "a@example.org", "b@example.org")
    stuck, fresh = queue.waiting()
    # One sender died holding a message long ago; another is sending now.
    os.rename(stuck, folder / "cur" / stuck.name)
    long_ago = time.time() - 16 * 60
    os.utime(folder / "cur" / stuck.name, (long_ago, long_ago))
    os.rename(fresh, folder / "cur" / fresh.name)
    run = queue.send_all()
    assert run.sent == 1
    assert subjects(server) == ["Message 0"]
    assert "was abandoned while being sent; queued again" in caplog.text
    assert [p.name for p in (folder / "cur").iterdir()] == [fresh.name]
