"""The mail.* settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyramid.exceptions import ConfigurationError

from wingapp.mail.settings import MailSettings

SMTP = {"mail.transport": "smtp", "mail.queue_dir": "/srv/queue"}


def test_development_defaults():
    s = MailSettings.from_settings({"mail.maildir": "/srv/mail"})
    assert (s.transport, s.folder) == ("maildir", Path("/srv/mail"))
    assert (s.host, s.port, s.starttls, s.ssl) == ("localhost", 25, False, False)
    assert s.default_sender == "wingapp <noreply@localhost>"
    assert s.sender_address == "noreply@localhost"
    assert (s.username, s.password, s.certfile, s.keyfile, s.cafile) == (None,) * 5
    assert (s.ehlo_name, s.timeout, s.retry_interval) == (None, 30.0, 60.0)


def test_every_smtp_setting_is_read():
    s = MailSettings.from_settings(
        {
            **SMTP,
            "mail.host": "smtp.example.org",
            "mail.port": "2525",
            "mail.username": "wingapp",
            "mail.password": "secret",
            "mail.starttls": "true",
            "mail.certfile": "/etc/wingapp/client.pem",
            "mail.keyfile": "/etc/wingapp/client.key",
            "mail.cafile": "/etc/wingapp/ca.pem",
            "mail.ehlo_name": "app.example.org",
            "mail.default_sender": "Wing App <app@example.org>",
            "mail.timeout": "7.5",
            "mail.retry_interval": "120",
        }
    )
    assert (s.transport, s.folder) == ("smtp", Path("/srv/queue"))
    assert (s.host, s.port, s.username, s.password) == (
        "smtp.example.org",
        2525,
        "wingapp",
        "secret",
    )
    assert (s.starttls, s.ssl) == (True, False)
    assert s.certfile == Path("/etc/wingapp/client.pem")
    assert s.keyfile == Path("/etc/wingapp/client.key")
    assert s.cafile == Path("/etc/wingapp/ca.pem")
    assert (s.ehlo_name, s.sender_address) == ("app.example.org", "app@example.org")
    assert (s.timeout, s.retry_interval) == (7.5, 120.0)


@pytest.mark.parametrize(
    ("tls", "port"),
    [({"mail.starttls": "true"}, 587), ({"mail.ssl": "yes"}, 465), ({}, 25)],
)
def test_the_default_port_follows_the_kind_of_tls(tls, port):
    assert MailSettings.from_settings({**SMTP, **tls}).port == port


def test_empty_values_in_the_ini_mean_unset():
    s = MailSettings.from_settings(
        {**SMTP, "mail.username": "", "mail.password": " ", "mail.port": ""}
    )
    assert (s.username, s.password, s.port) == (None, None, 25)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mail.transport": "sendmail"}, "mail.transport must be 'maildir'"),
        ({}, "Set mail.maildir"),
        ({"mail.transport": "smtp"}, "Set mail.queue_dir"),
        ({**SMTP, "mail.starttls": "true", "mail.ssl": "true"}, "not both"),
        ({**SMTP, "mail.username": "me"}, "mail.username and mail.password together"),
        ({**SMTP, "mail.password": "pw"}, "mail.username and mail.password together"),
        ({**SMTP, "mail.keyfile": "/k.pem"}, "mail.keyfile needs mail.certfile"),
        ({**SMTP, "mail.default_sender": "wingapp"}, "must be an address"),
        (
            {**SMTP, "mail.port": "smtp"},
            "mail.port must be a whole number from 1 to 65535; got 'smtp'.",
        ),
        ({**SMTP, "mail.port": "70000"}, "mail.port must be from 1 to 65535; got"),
        ({**SMTP, "mail.timeout": "0"}, "mail.timeout must be from 0.1 to 600"),
        ({**SMTP, "mail.starttls": "maybe"}, "mail.starttls must be true or false"),
    ],
)
def test_bad_settings_stop_the_app_with_a_reason(settings, message):
    with pytest.raises(ConfigurationError, match=message):
        MailSettings.from_settings(settings)


def test_the_password_can_live_in_a_file_of_its_own(tmp_path):
    secret = tmp_path / "mail_password"
    secret.write_text("s3cret\n")
    settings = {**SMTP, "mail.username": "wingapp", "mail.password_file": str(secret)}
    assert MailSettings.from_settings(settings, environ={}).password == "s3cret"
    other = tmp_path / "other"
    other.write_text("from-env")
    env = {"WINGAPP_MAIL_PASSWORD_FILE": str(other)}
    assert MailSettings.from_settings(settings, environ=env).password == "from-env"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"mail.password": "pw"}, "mail.password or mail.password_file, not both"),
        ({}, "Cannot read the mail password file"),
    ],
)
def test_password_file_mistakes_are_named(tmp_path, extra, message):
    settings = {
        **SMTP,
        "mail.username": "wingapp",
        "mail.password_file": str(tmp_path / "missing"),
        **extra,
    }
    with pytest.raises(ConfigurationError, match=message):
        MailSettings.from_settings(settings, environ={})
