"""``wingapp CONFIG send-queued-mail`` and ``send-test-mail`` when things go wrong.

(Sending for real, through a real SMTP server: tests/integration.)
"""

from __future__ import annotations

import io

import transaction

from tests.conftest import write_ini
from tests.integration.servers import free_port
from wingapp.mail import mailer_from_settings
from wingapp.mail.settings import MailSettings
from wingapp.scripts import cli
from wingapp.scripts.mail import probe_message


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_send_queued_mail_needs_the_smtp_transport(ini_file, file_settings):
    code, out, err = run(str(ini_file), "send-queued-mail")
    assert (code, out) == (2, "")
    assert err == (
        "wingapp: mail.transport is 'maildir': messages are saved in "
        f"{file_settings['mail.maildir']}, there is no queue to send.\n"
    )


def test_bad_mail_settings_are_reported_not_raised(tmp_path, file_settings):
    ini = write_ini(tmp_path / "bad.ini", {**file_settings, "mail.transport": "pigeon"})
    for command in (["send-queued-mail"], ["send-test-mail", "a@example.org"]):
        code, _, err = run(str(ini), *command)
        assert code == 2
        assert err.startswith("wingapp: mail.transport must be 'maildir'")


def test_with_the_server_down_mail_stays_queued_and_the_exit_is_2(
    tmp_path, file_settings
):
    port = free_port()
    settings = {
        **file_settings,
        "mail.transport": "smtp",
        "mail.queue_dir": str(tmp_path / "queue"),
        "mail.host": "127.0.0.1",
        "mail.port": str(port),
    }
    ini = write_ini(tmp_path / "smtp.ini", settings)
    mailer = mailer_from_settings({**settings, "mail.retry_interval": "3600"})
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        mailer.send(
            probe_message(MailSettings.from_settings(settings), "a@example.org"), tm
        )
    mailer.sender.stop()
    code, out, err = run(str(ini), "send-queued-mail")
    assert (code, out) == (2, "Sent 0; 1 waiting.\n")
    assert err.startswith(
        f"wingapp: Not all mail could be sent through 127.0.0.1:{port}: "
    )
    assert "Connection refused" in err
    assert len(list((tmp_path / "queue" / "new").iterdir())) == 1

    code, out, err = run(str(ini), "send-test-mail", "bob@example.org")
    assert (code, out) == (2, "")
    assert err.startswith(f"wingapp: Could not send through 127.0.0.1:{port}: ")
    assert "Connection refused" in err


def test_the_test_message_says_what_it_is_in_text_and_html(file_settings):
    message = probe_message(MailSettings.from_settings(file_settings), "a@example.org")
    assert message["Subject"] == "wingapp test message"
    assert message["To"] == "a@example.org"
    assert message["Date"]
    assert message["Message-Id"]
    text = message.get_body(("plain",)).get_content()
    assert text == (
        "This message was sent by 'wingapp send-test-mail' to check the mail "
        "settings. It needs no answer.\n"
    )
    html = message.get_body(("html",)).get_content()
    assert "<code>wingapp send-test-mail</code> to check the mail settings." in html
