"""The ``mail.*`` settings, read and checked once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import colander

from ..settings import (
    SettingsError,
    WholeNumber,
    boolean,
    choice,
    group,
    number,
    path,
    setting,
    text,
    validate,
)

TRANSPORTS = ("maildir", "smtp")
DEFAULT_SENDER = "wingapp <noreply@localhost>"


def _an_address(node: colander.SchemaNode, value: str) -> None:
    if "@" not in parseaddr(value)[1]:
        raise colander.Invalid(
            node,
            "mail.default_sender must be an address, like "
            f"'wingapp <noreply@example.org>'; got {value!r}.",
        )


def _consistent(node: colander.SchemaNode, values: dict[str, Any]) -> None:
    """Settings that only make sense together."""
    transport = values["mail.transport"]
    folder = "mail.maildir" if transport == "maildir" else "mail.queue_dir"
    if values[folder] is None:
        raise colander.Invalid(
            node,
            f"Set {folder} to the directory for mail "
            f"(mail.transport is {transport!r}).",
        )
    if values["mail.starttls"] and values["mail.ssl"]:
        raise colander.Invalid(
            node,
            "Set mail.starttls or mail.ssl, not both: STARTTLS upgrades a plain "
            "connection (port 587), mail.ssl starts with TLS (port 465).",
        )
    if values["mail.keyfile"] is not None and values["mail.certfile"] is None:
        raise colander.Invalid(node, "mail.keyfile needs mail.certfile.")


MAIL = group(
    "mail",
    choice(
        "mail.transport", "maildir", TRANSPORTS, "'maildir' (development) or 'smtp'"
    ),
    path("mail.maildir"),
    path("mail.queue_dir"),
    text("mail.default_sender", DEFAULT_SENDER, validator=_an_address),
    text("mail.host", "localhost"),
    # No default here: it follows the kind of TLS (25, 587 or 465).
    setting("mail.port", WholeNumber(1, 65535), None),
    boolean("mail.starttls", False),
    boolean("mail.ssl", False),
    text("mail.username"),
    text("mail.password"),
    path("mail.password_file"),
    path("mail.certfile"),
    path("mail.keyfile"),
    path("mail.cafile"),
    text("mail.ehlo_name"),
    # Seconds to wait for the SMTP server, and between tries while it fails.
    number("mail.timeout", 30, 0.1, 600, "seconds"),
    number("mail.retry_interval", 60, 0.1, 86400, "seconds"),
    validator=_consistent,
)


def _password(
    password: str | None, path: Path | None, environ: Mapping[str, str]
) -> str | None:
    """mail.password, or, better, the file named by mail.password_file (or
    WINGAPP_MAIL_PASSWORD_FILE): like the other secrets, kept out of the
    ini file and created with mode 0600 by whoever installs it."""
    path = (
        Path(environ["WINGAPP_MAIL_PASSWORD_FILE"])
        if environ.get("WINGAPP_MAIL_PASSWORD_FILE")
        else path
    )
    if path is None:
        return password
    if password is not None:
        raise SettingsError(["Set mail.password or mail.password_file, not both."])
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError as e:
        raise SettingsError(
            [f"Cannot read the mail password file {path}: {e.strerror}."]
        ) from None


@dataclass(frozen=True)
class MailSettings:
    transport: str
    folder: Path
    """Where committed messages go: the development maildir, or the queue."""
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    ssl: bool
    certfile: Path | None
    keyfile: Path | None
    cafile: Path | None
    ehlo_name: str | None
    default_sender: str
    timeout: float
    retry_interval: float

    @property
    def sender_address(self) -> str:
        return parseaddr(self.default_sender)[1]

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> MailSettings:
        return cls.from_values(validate(MAIL, settings), environ)

    @classmethod
    def from_values(
        cls, values: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> MailSettings:
        """From the typed values of the settings schema, and the password
        file the environment may name."""
        transport = values["mail.transport"]
        username = values["mail.username"]
        password = _password(
            values["mail.password"],
            values["mail.password_file"],
            os.environ if environ is None else environ,
        )
        if (username is None) != (password is None):
            raise SettingsError(["Set mail.username and mail.password together."])
        starttls, implicit_tls = values["mail.starttls"], values["mail.ssl"]
        default_port = 465 if implicit_tls else 587 if starttls else 25
        return cls(
            transport=transport,
            folder=values[
                "mail.maildir" if transport == "maildir" else "mail.queue_dir"
            ],
            host=values["mail.host"],
            port=values["mail.port"] or default_port,
            username=username,
            password=password,
            starttls=starttls,
            ssl=implicit_tls,
            certfile=values["mail.certfile"],
            keyfile=values["mail.keyfile"],
            cafile=values["mail.cafile"],
            ehlo_name=values["mail.ehlo_name"],
            default_sender=values["mail.default_sender"],
            timeout=values["mail.timeout"],
            retry_interval=values["mail.retry_interval"],
        )
