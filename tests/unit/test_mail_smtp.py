"""SMTP errors in words, without addresses in the log."""

from __future__ import annotations

import smtplib
import ssl

import pytest
from pyramid.exceptions import ConfigurationError

from wingapp.mail.settings import MailSettings
from wingapp.mail.smtp import SMTPTransport, describe_error, redact


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            smtplib.SMTPRecipientsRefused({"a@x.org": (550, b"5.1.1 unknown user")}),
            "the server refused the recipient: 550 5.1.1 unknown user",
        ),
        (
            smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication failed"),
            "the server answered 535 5.7.8 Authentication failed",
        ),
        (
            smtplib.SMTPSenderRefused(553, b"not yours", "app@example.org"),
            "the server answered 553 not yours",
        ),
        (smtplib.SMTPResponseException(421, "busy"), "the server answered 421 busy"),
        (
            ssl.SSLCertVerificationError(1, "certificate verify failed"),
            "TLS failed: certificate verify failed",
        ),
        (
            ConnectionRefusedError(111, "Connection refused"),
            "[Errno 111] Connection refused",
        ),
        (TimeoutError(), "TimeoutError"),
    ],
)
def test_errors_are_described_in_the_servers_words(error, said):
    assert describe_error(error) == said


def test_addresses_are_redacted():
    assert redact("550 <bob@example.org>: no; also (Carol.X+1@mail.example.com)") == (
        "550 <<address>>: no; also (<address>)"
    )


def test_unreadable_tls_files_stop_the_app(tmp_path):
    settings = MailSettings.from_settings(
        {
            "mail.maildir": str(tmp_path),
            "mail.certfile": str(tmp_path / "missing.pem"),
        }
    )
    with pytest.raises(ConfigurationError, match=r"mail\.certfile or mail\.keyfile"):
        SMTPTransport(settings)
