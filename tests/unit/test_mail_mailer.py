"""The transactional mailer: a commit writes the message, an abort nothing."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import stat
from email.message import EmailMessage
from pathlib import Path

import pytest
import transaction
import ZODB
from pyramid import testing
from pyramid.request import apply_request_extensions
from transaction.interfaces import NoTransaction
from ZODB.POSException import ConflictError

from wingapp.interfaces import IMailer
from wingapp.mail import mailer_from_settings
from wingapp.mail.background import BackgroundSender
from wingapp.mail.mailer import Mailer
from wingapp.mail.queue import read_queued


def note(to: str = "alice@example.org", body: str = "Hello Alice.\n") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "A note"
    message["To"] = to
    message.set_content(body)
    return message


def files(folder: Path, sub: str) -> list[Path]:
    return sorted((folder / sub).iterdir())


def read(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "var" / "mail"


@pytest.fixture
def mailer(folder):
    return mailer_from_settings(
        {
            "mail.maildir": str(folder),
            "mail.default_sender": "wingapp <app@example.org>",
        }
    )


@pytest.fixture
def tm():
    return transaction.TransactionManager(explicit=True)


def test_the_maildir_is_made_private_at_start_up(mailer, folder):
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == ["cur", "new", "tmp"]


def test_a_commit_writes_the_message_and_logs_its_file(mailer, folder, tm, caplog):
    caplog.set_level(logging.INFO, logger="wingapp.mail")
    with tm:
        message_id = mailer.send(note(), tm)
        # Nothing is visible before the commit.
        assert files(folder, "new") == []
    [path] = files(folder, "new")
    assert files(folder, "tmp") == []
    # Codes and addresses: for the app's own user only.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = read(path)
    assert saved["Subject"] == "A note"
    assert saved["To"] == "alice@example.org"
    assert saved["From"] == "wingapp <app@example.org>"
    assert saved["Message-Id"] == message_id
    assert message_id.endswith("@example.org>")
    assert saved["Date"]
    assert saved.get_content() == "Hello Alice.\n"
    assert [r.getMessage() for r in caplog.records] == [f"mail saved as {path}"]
    assert caplog.records[0].levelno == logging.INFO
    assert "alice" not in caplog.text
    assert "Hello" not in caplog.text


def test_an_abort_writes_nothing(mailer, folder, tm, caplog):
    caplog.set_level(logging.DEBUG)
    tm.begin()
    mailer.send(note(), tm)
    tm.abort()
    assert files(folder, "new") == files(folder, "tmp") == []
    assert "mail saved" not in caplog.text


def test_a_rehearsal_writes_the_message_and_sends_nothing(mailer, folder, tm, caplog):
    caplog.set_level(logging.DEBUG)
    with tm:
        mailer.rehearse(note(), tm)
        # Written and synced before the vote, as a message to send is...
        [written] = files(folder, "tmp")
        assert read(written)["To"] == "alice@example.org"
    # ...and gone after the commit, where the other would be queued.
    assert files(folder, "new") == files(folder, "tmp") == []
    assert "mail saved" not in caplog.text
    tm.begin()
    mailer.rehearse(note(), tm)
    tm.abort()
    assert files(folder, "tmp") == []


class Refuses:
    """A resource manager whose vote fails, as a database's can."""

    def sortKey(self):
        return "0"

    def abort(self, txn):
        pass

    tpc_begin = commit = tpc_finish = tpc_abort = abort

    def tpc_vote(self, txn):
        raise RuntimeError("the database said no")


def test_a_failed_commit_writes_nothing_and_logs_no_error(mailer, folder, tm, caplog):
    tm.begin()
    tm.get().join(Refuses())
    mailer.send(note(), tm)
    with pytest.raises(RuntimeError, match="said no"):
        tm.commit()
    tm.abort()
    assert files(folder, "new") == files(folder, "tmp") == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_conflict_then_a_retry_sends_one_message_and_logs_no_error(
    mailer, folder, caplog
):
    """As pyramid_tm and pyramid_retry do when ZODB reports a conflict:
    the commit fails, the request's transaction is aborted, and the request
    runs again."""
    caplog.set_level(logging.INFO)
    db = ZODB.DB(None)
    ours = transaction.TransactionManager(explicit=True)
    theirs = transaction.TransactionManager(explicit=True)
    mine, other = db.open(ours), db.open(theirs)
    with ours:
        mine.root()["count"] = 0
    ours.begin()
    theirs.begin()
    mine.root()["count"] = 1
    other.root()["count"] = 2
    theirs.commit()
    mailer.send(note(body="First try.\n"), ours)
    with pytest.raises(ConflictError):
        ours.commit()
    ours.abort()
    assert files(folder, "new") == files(folder, "tmp") == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "mail saved" not in caplog.text

    with ours:
        mine.root()["count"] += 1
        mailer.send(note(body="Second try.\n"), ours)
    [path] = files(folder, "new")
    assert read(path).get_content() == "Second try.\n"
    assert files(folder, "tmp") == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    mine.close()
    other.close()
    db.close()


def test_only_the_transaction_manager_given_counts(mailer, folder, tm):
    other = transaction.TransactionManager(explicit=True)
    other.begin()
    with tm:
        mailer.send(note(), tm)
    other.abort()
    assert len(files(folder, "new")) == 1


def test_sending_outside_a_transaction_is_an_error(mailer, folder, tm):
    with pytest.raises(NoTransaction):
        mailer.send(note(), tm)
    assert files(folder, "tmp") == []


def test_a_message_without_recipients_is_refused(mailer, folder, tm):
    message = note()
    del message["To"]
    with tm, pytest.raises(ValueError, match="needs a recipient"):
        mailer.send(message, tm)
    assert files(folder, "tmp") == []


def test_envelope_has_every_recipient_and_the_sender(mailer, folder, tm):
    message = note(to="Alice <alice@example.org>, bob@example.org")
    message["Cc"] = "carol@example.org"
    message["Bcc"] = "dave@example.org"
    message["From"] = "Someone <someone@example.org>"
    message["Message-Id"] = "<given@example.org>"
    message["Date"] = "Sat, 01 Mar 2025 12:00:00 +0000"
    with tm:
        assert mailer.send(message, tm) == "<given@example.org>"
    saved = read(files(folder, "new")[0])
    assert saved["X-Actually-From"] == "someone@example.org"
    assert saved["X-Actually-To"] == (
        "alice@example.org,bob@example.org,carol@example.org,dave@example.org"
    )
    assert saved["Date"] == "Sat, 01 Mar 2025 12:00:00 +0000"


def test_non_ascii_messages_are_queued_seven_bit_and_read_back_the_same(
    mailer, folder, tm
):
    body = "Grüße, Zoë — 123 456\n"
    with tm:
        mailer.send(note(to="Zoë <zoe@example.org>", body=body), tm)
    path = files(folder, "new")[0]
    assert path.read_bytes().isascii()
    saved = read(path)
    assert saved.get_content() == body
    assert str(saved["To"]) == "Zoë <zoe@example.org>"


def test_an_address_with_non_ascii_letters_reaches_the_queue_whole(mailer, folder, tm):
    with tm:
        mailer.send(note(to="Zoë <zoë@example.org>, bob@example.org"), tm)
    path = files(folder, "new")[0]
    assert path.read_bytes().isascii()
    sender, recipients, message = read_queued(path)
    assert (sender, recipients) == (
        "app@example.org",
        ["zoë@example.org", "bob@example.org"],
    )
    assert str(message["To"]) == "Zoë <zoë@example.org>, bob@example.org"


def test_the_app_offers_one_mailer_to_every_request(config, app):
    mailers = []
    for _ in range(2):
        request = testing.DummyRequest()
        apply_request_extensions(request)
        mailers.append(request.find_service(IMailer))
    assert isinstance(mailers[0], Mailer)
    assert mailers[0] is mailers[1]


def test_the_smtp_transport_queues_and_wakes_the_background_sender(tmp_path, tm):
    # Something listens, and hangs up: the sender's try fails, the message
    # stays queued for the next one.
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    mailer = mailer_from_settings(
        {
            "mail.transport": "smtp",
            "mail.queue_dir": str(tmp_path / "queue"),
            "mail.host": "127.0.0.1",
            "mail.port": str(listener.getsockname()[1]),
            "mail.retry_interval": "3600",
        }
    )
    try:
        assert isinstance(mailer.sender, BackgroundSender)
        with tm:
            mailer.send(note(), tm)
        # The commit woke the sender: it connects at once.
        connection, _ = listener.accept()
        connection.close()
    finally:
        listener.close()
        mailer.sender.stop()
    assert len(files(tmp_path / "queue", "new")) == 1
    assert files(tmp_path / "queue", "cur") == []


def test_the_maildir_transport_has_no_background_sender(mailer):
    assert mailer.sender is None


def test_an_international_domain_goes_out_in_its_ascii_form(mailer, folder, tm):
    message = note()
    del message["To"]
    message["To"] = "Zoë <zoe@bücher.example>, bob@example.org"
    with tm:
        mailer.send(message, tm)
    [path] = files(folder, "new")
    _, recipients, saved = read_queued(path)
    assert recipients == ["zoe@xn--bcher-kva.example", "bob@example.org"]
    assert saved["To"].addresses[0].domain == "xn--bcher-kva.example"
    assert saved["To"].addresses[0].display_name == "Zoë"
