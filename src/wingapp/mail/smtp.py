"""Talking to the SMTP server, with smtplib, honouring every mail.* setting."""

from __future__ import annotations

import re
import smtplib
import ssl

from pyramid.exceptions import ConfigurationError

from .settings import MailSettings

# Server answers often quote the recipient ("550 <bob@example.org>: no such
# user"); logs must not carry addresses.
ADDRESS = re.compile(r"[^\s<>@,;:\"'()\[\]]+@[^\s<>@,;:\"'()\[\]]+")

# The server refused this one message; the connection can go on with others.
MESSAGE_REFUSALS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
)


def redact(text: str) -> str:
    return ADDRESS.sub("<address>", text)


def _answer(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"


def describe_error(error: BaseException) -> str:
    """What went wrong, in the words of the server where it gave any."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = sorted({_answer(*answer) for answer in error.recipients.values()})
        return "the server refused the recipient: " + "; ".join(answers)
    if isinstance(error, smtplib.SMTPResponseException):
        return "the server answered " + _answer(error.smtp_code, error.smtp_error)
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error}"
    return str(error) or type(error).__name__


def tls_context(settings: MailSettings) -> ssl.SSLContext:
    """Verifies the server against the system's CAs or ``mail.cafile``, and
    presents ``mail.certfile`` where the server wants a client certificate."""
    try:
        context = ssl.create_default_context(cafile=settings.cafile)
        if settings.certfile is not None:
            context.load_cert_chain(settings.certfile, settings.keyfile)
    except OSError as e:
        raise ConfigurationError(
            f"The TLS files in mail.cafile, mail.certfile or mail.keyfile cannot "
            f"be used: {e}"
        ) from None
    return context


class SMTPTransport:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.tls = tls_context(settings)

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def connect(self) -> smtplib.SMTP:
        """An open, secured and authenticated connection; use it in ``with``."""
        s = self.settings
        if s.ssl:
            smtp = smtplib.SMTP_SSL(
                s.host,
                s.port,
                local_hostname=s.ehlo_name,
                timeout=s.timeout,
                context=self.tls,
            )
        else:
            smtp = smtplib.SMTP(
                s.host, s.port, local_hostname=s.ehlo_name, timeout=s.timeout
            )
        try:
            if s.starttls:
                smtp.starttls(context=self.tls)
            if s.username is not None:
                smtp.login(s.username, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, sender: str, recipients: list[str], message: object) -> dict:
        """Send one message now; return the recipients the server refused
        (when it took the message for the others)."""
        with self.connect() as smtp:
            return smtp.send_message(message, sender, recipients)
