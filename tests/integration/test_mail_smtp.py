"""Mail through a real SMTP server: after commit only, through outages,
over STARTTLS or TLS, with a client certificate or a password."""

from __future__ import annotations

import io
import socket
import time
from datetime import UTC, datetime

import pytest
import transaction

from tests.conftest import write_ini
from wingapp.codes.mail import code_message
from wingapp.mail import mailer_from_settings
from wingapp.mail.queue import MailQueue
from wingapp.mail.settings import MailSettings
from wingapp.mail.smtp import SMTPTransport
from wingapp.scripts import cli

from . import smtp
from .smtp import client_certificate, password_checker, server_certificate, server_tls

pytestmark = pytest.mark.integration

# The fixture, under the name tests ask for.
smtp_server = smtp.smtp_server


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def mail_settings(tmp_path, file_settings, smtp_server):
    return {
        **file_settings,
        "mail.transport": "smtp",
        "mail.queue_dir": str(tmp_path / "queue"),
        "mail.host": smtp_server.host,
        "mail.port": str(smtp_server.port),
        "mail.default_sender": "wingapp <noreply@example.org>",
        "mail.ehlo_name": "app.example.org",
        "mail.timeout": "5",
        "mail.retry_interval": "0.2",
    }


@pytest.fixture
def mailer(mail_settings):
    mailer = mailer_from_settings(mail_settings)
    yield mailer
    mailer.sender.stop()


@pytest.fixture
def tm():
    return transaction.TransactionManager(explicit=True)


def a_code(to: str = "alice@example.org", code: str = "493817"):
    return code_message(
        to=to,
        code=code,
        purpose="sign-in",
        sender="wingapp <noreply@example.org>",
        when=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        ip="203.0.113.9",
        user_agent="Firefox",
        deny_url="https://example.org/not-me?code=x&t=y",
    )


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def queued(mail_settings) -> list:
    return sorted((MailSettings.from_settings(mail_settings).folder / "new").iterdir())


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_committed_message_is_delivered(mailer, tm, smtp_server, mail_settings):
    with tm:
        mailer.send(a_code(), tm)
    [got] = smtp_server.wait_for(1)
    assert got.sender == "noreply@example.org"
    assert got.recipients == ["alice@example.org"]
    assert got.ehlo_name == "app.example.org"
    assert got.message["Subject"] == "Your wingapp sign-in code"
    assert "Code: 493817" in plain(got.message).splitlines()
    assert got.message["X-Actually-To"] is None
    assert got.tls is False
    wait_until(lambda: queued(mail_settings) == [])


def test_an_aborted_message_is_never_sent(mailer, tm, smtp_server, mail_settings):
    tm.begin()
    mailer.send(a_code(code="111111"), tm)
    tm.abort()
    # One committed after it shows that the server would have had it by now.
    with tm:
        mailer.send(a_code(code="222222"), tm)
    smtp_server.wait_for(1)
    time.sleep(0.3)
    codes = [plain(r.message).count("Code: ") for r in smtp_server.received]
    assert codes == [1]
    assert "Code: 222222" in plain(smtp_server.received[0].message)
    # Nor is it waiting anywhere to be sent later.
    settings = MailSettings.from_settings(mail_settings)
    assert MailQueue(settings.folder, SMTPTransport(settings)).send_all().sent == 0
    assert len(smtp_server.received) == 1


def test_a_message_survives_an_outage(mailer, tm, smtp_server, mail_settings, caplog):
    smtp_server.stop()
    with tm:
        mailer.send(a_code(), tm)
    # The background sender has tried and failed at least once...
    wait_until(lambda: "kept to try again" in caplog.text)
    assert len(queued(mail_settings)) == 1
    # ...and sends it when the server is back, without anyone asking.
    smtp_server.start()
    [got] = smtp_server.wait_for(1)
    assert "Code: 493817" in plain(got.message)
    wait_until(lambda: queued(mail_settings) == [])


def test_send_queued_mail_drains_the_queue_from_cron(
    tmp_path, tm, smtp_server, mail_settings
):
    smtp_server.stop()
    mailer = mailer_from_settings({**mail_settings, "mail.retry_interval": "3600"})
    for to in ("a@example.org", "b@example.org"):
        with tm:
            mailer.send(a_code(to=to), tm)
    mailer.sender.stop()
    assert len(queued(mail_settings)) == 2
    ini = write_ini(tmp_path / "cron.ini", mail_settings)
    assert run(str(ini), "send-queued-mail")[0] == 2
    smtp_server.start()
    code, out, err = run(str(ini), "send-queued-mail")
    assert (code, out, err) == (0, "Sent 2; 0 waiting.\n", "")
    received = smtp_server.wait_for(2)
    assert sorted(r.recipients[0] for r in received) == [
        "a@example.org",
        "b@example.org",
    ]


def test_send_test_mail_reports_success_and_the_servers_refusal(
    tmp_path, smtp_server, mail_settings
):
    ini = write_ini(tmp_path / "t.ini", mail_settings)
    code, out, err = run(str(ini), "send-test-mail", "ops@example.org")
    address = f"{smtp_server.host}:{smtp_server.port}"
    assert (code, err) == (0, "")
    assert out == f"Sent a test message to ops@example.org through {address}.\n"
    [got] = smtp_server.received
    assert got.recipients == ["ops@example.org"]
    assert got.message["Subject"] == "wingapp test message"

    smtp_server.handler.refuse.add("nobody@example.org")
    code, out, err = run(str(ini), "send-test-mail", "nobody@example.org")
    assert (code, out) == (2, "")
    assert err == (
        f"wingapp: Could not send through {address}: the server refused the "
        "recipient: 550 5.1.1 <nobody@example.org>: Recipient address rejected\n"
    )


def test_starttls_with_a_self_signed_certificate(tmp_path, smtp_server, mail_settings):
    certificate = server_certificate(tmp_path / "pki")
    smtp_server.restart(tls_context=server_tls(certificate), require_starttls=True)
    secure = {
        **mail_settings,
        "mail.starttls": "true",
        "mail.cafile": str(certificate.cert),
    }
    ini = write_ini(tmp_path / "tls.ini", secure)
    assert run(str(ini), "send-test-mail", "ops@example.org")[0] == 0
    [got] = smtp_server.received
    assert got.tls is True

    # Without STARTTLS the server will not take the message...
    ini = write_ini(tmp_path / "plain.ini", mail_settings)
    code, _, err = run(str(ini), "send-test-mail", "ops@example.org")
    assert code == 2
    assert err.endswith("the server answered 530 Must issue a STARTTLS command first\n")
    # ...and without the certificate the client will not trust the server.
    ini = write_ini(tmp_path / "untrusted.ini", {**secure, "mail.cafile": ""})
    code, _, err = run(str(ini), "send-test-mail", "ops@example.org")
    assert code == 2
    assert "TLS failed:" in err
    assert "CERTIFICATE_VERIFY_FAILED" in err
    assert len(smtp_server.received) == 1


def test_queued_mail_goes_over_starttls_too(tmp_path, tm, smtp_server, mail_settings):
    certificate = server_certificate(tmp_path / "pki")
    smtp_server.restart(tls_context=server_tls(certificate), require_starttls=True)
    mailer = mailer_from_settings(
        {**mail_settings, "mail.starttls": "true", "mail.cafile": str(certificate.cert)}
    )
    try:
        with tm:
            mailer.send(a_code(), tm)
        [got] = smtp_server.wait_for(1)
    finally:
        mailer.sender.stop()
    assert got.tls is True


def test_implicit_tls(tmp_path, smtp_server, mail_settings):
    certificate = server_certificate(tmp_path / "pki")
    smtp_server.restart(ssl_context=server_tls(certificate))
    ini = write_ini(
        tmp_path / "ssl.ini",
        {**mail_settings, "mail.ssl": "true", "mail.cafile": str(certificate.cert)},
    )
    assert run(str(ini), "send-test-mail", "ops@example.org")[:2] == (
        0,
        f"Sent a test message to ops@example.org through 127.0.0.1:{smtp_server.port}.\n",
    )
    assert smtp_server.received[0].tls is True


def test_a_client_certificate(tmp_path, smtp_server, mail_settings):
    pki = tmp_path / "pki"
    certificate, client = server_certificate(pki), client_certificate(pki)
    smtp_server.restart(
        tls_context=server_tls(certificate, trust_clients=client), require_starttls=True
    )
    secure = {
        **mail_settings,
        "mail.starttls": "true",
        "mail.cafile": str(certificate.cert),
    }
    ini = write_ini(
        tmp_path / "client.ini",
        {**secure, "mail.certfile": str(client.cert), "mail.keyfile": str(client.key)},
    )
    assert run(str(ini), "send-test-mail", "ops@example.org")[0] == 0
    subject = dict(
        pair[0] for pair in smtp_server.received[0].peer_certificate["subject"]
    )
    assert subject["commonName"] == "wingapp-client"

    ini = write_ini(tmp_path / "anonymous.ini", secure)
    assert run(str(ini), "send-test-mail", "ops@example.org")[0] == 2
    assert len(smtp_server.received) == 1


def test_a_password(tmp_path, smtp_server, mail_settings):
    certificate = server_certificate(tmp_path / "pki")
    smtp_server.restart(
        tls_context=server_tls(certificate),
        require_starttls=True,
        auth_required=True,
        authenticator=password_checker("wingapp", "s3cret pass"),
    )
    secure = {
        **mail_settings,
        "mail.starttls": "true",
        "mail.cafile": str(certificate.cert),
        "mail.username": "wingapp",
        "mail.password": "s3cret pass",
    }
    ini = write_ini(tmp_path / "auth.ini", secure)
    assert run(str(ini), "send-test-mail", "ops@example.org")[0] == 0
    ini = write_ini(tmp_path / "wrong.ini", {**secure, "mail.password": "guess"})
    code, _, err = run(str(ini), "send-test-mail", "ops@example.org")
    assert code == 2
    assert "the server answered 535 5.7.8 Authentication credentials invalid" in err
    assert len(smtp_server.received) == 1


def test_a_server_that_never_answers_times_out(tmp_path, mail_settings):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        ini = write_ini(
            tmp_path / "slow.ini",
            {**mail_settings, "mail.port": str(port), "mail.timeout": "0.5"},
        )
        started = time.monotonic()
        code, _, err = run(str(ini), "send-test-mail", "ops@example.org")
    assert code == 2
    assert time.monotonic() - started < 5
    assert err.startswith(f"wingapp: Could not send through 127.0.0.1:{port}: ")
    assert err.endswith("timed out\n")


def test_mail_refused_for_good_is_kept_aside_by_the_cron_drain(
    tmp_path, tm, smtp_server, mail_settings
):
    smtp_server.handler.refuse.add("nobody@example.org")
    smtp_server.stop()
    mailer = mailer_from_settings({**mail_settings, "mail.retry_interval": "3600"})
    for to in ("nobody@example.org", "b@example.org"):
        with tm:
            mailer.send(a_code(to=to), tm)
    mailer.sender.stop()
    smtp_server.start()
    ini = write_ini(tmp_path / "cron.ini", mail_settings)
    code, out, err = run(str(ini), "send-queued-mail")
    failed = MailSettings.from_settings(mail_settings).folder / "failed"
    assert code == 2
    assert (
        out
        == f"Sent 1; 0 waiting.\n1 refused for good by the server, kept in {failed}.\n"
    )
    assert "550" in err and "nobody@" not in err
    assert len(list(failed.iterdir())) == 1
    assert smtp_server.wait_for(1)[0].recipients == ["b@example.org"]
