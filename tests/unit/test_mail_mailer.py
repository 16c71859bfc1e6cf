"""The transactional mailer: a commit writes the message, an abort nothing."""

from __future__ import annotations

import email
import email.policy
import logging
import stat
from email.message import EmailMessage
from pathlib import Path

import pytest
import transaction
from pyramid import testing
from pyramid.request import apply_request_extensions
from transaction.interfaces import NoTransaction

from tests.integration.servers import free_port
from wingapp.mail import mailer_from_settings
from wingapp.mail.background import BackgroundSender
from wingapp.mail.mailer import Mailer


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


def test_a_failed_commit_writes_nothing(mailer, folder, tm):
    class Refuses:
        def sortKey(self):
            return "0"

        def abort(self, txn):
            pass

        tpc_begin = commit = tpc_finish = tpc_abort = abort

        def tpc_vote(self, txn):
            raise RuntimeError("the database said no")

    tm.begin()
    tm.get().join(Refuses())
    mailer.send(note(), tm)
    with pytest.raises(RuntimeError, match="said no"):
        tm.commit()
    tm.abort()
    assert files(folder, "new") == files(folder, "tmp") == []


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


def test_the_app_offers_the_mailer_on_every_request(config, app):
    request = testing.DummyRequest()
    apply_request_extensions(request)
    assert request.mailer is app.registry.mailer
    assert isinstance(app.registry.mailer, Mailer)


def test_the_smtp_transport_queues_and_has_a_background_sender(tmp_path, tm):
    mailer = mailer_from_settings(
        {
            "mail.transport": "smtp",
            "mail.queue_dir": str(tmp_path / "queue"),
            # Nothing listens there: the send fails, the message stays queued.
            "mail.host": "127.0.0.1",
            "mail.port": str(free_port()),
            "mail.retry_interval": "3600",
        }
    )
    assert isinstance(mailer.sender, BackgroundSender)
    with tm:
        mailer.send(note(), tm)
    mailer.close()
    assert len(files(tmp_path / "queue", "new")) == 1
    assert files(tmp_path / "queue", "cur") == []


def test_closing_a_maildir_mailer_is_harmless(mailer):
    mailer.close()
    assert mailer.sender is None
