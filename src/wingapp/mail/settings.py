"""The ``mail.*`` settings, read and checked once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool

TRANSPORTS = ("maildir", "smtp")
DEFAULT_SENDER = "wingapp <noreply@localhost>"


def _text(settings: Mapping[str, Any], name: str) -> str | None:
    value = str(settings.get(name) or "").strip()
    return value or None


def _path(settings: Mapping[str, Any], name: str) -> Path | None:
    value = _text(settings, name)
    return None if value is None else Path(value)


def _password(settings: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    """mail.password, or, better, the file named by mail.password_file (or
    WINGAPP_MAIL_PASSWORD_FILE): like the other secrets, kept out of the
    ini file and created with mode 0600 by whoever installs it."""
    password = _text(settings, "mail.password")
    path = environ.get("WINGAPP_MAIL_PASSWORD_FILE") or _text(
        settings, "mail.password_file"
    )
    if not path:
        return password
    if password is not None:
        raise ConfigurationError("Set mail.password or mail.password_file, not both.")
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError as e:
        raise ConfigurationError(
            f"Cannot read the mail password file {path}: {e.strerror}."
        ) from None


def _number(
    settings: Mapping[str, Any], name: str, default: float, low: float, high: float
) -> float:
    raw = _text(settings, name) or default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}.") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be from {low:g} to {high:g}.")
    return value


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
        transport = _text(settings, "mail.transport") or "maildir"
        if transport not in TRANSPORTS:
            raise ConfigurationError(
                f"mail.transport must be 'maildir' (development) or 'smtp', "
                f"not {transport!r}."
            )
        folder_setting = "mail.maildir" if transport == "maildir" else "mail.queue_dir"
        folder = _path(settings, folder_setting)
        if folder is None:
            raise ConfigurationError(
                f"Set {folder_setting} to the directory for mail "
                f"(mail.transport is {transport!r})."
            )
        starttls = asbool(settings.get("mail.starttls", False))
        implicit_tls = asbool(settings.get("mail.ssl", False))
        if starttls and implicit_tls:
            raise ConfigurationError(
                "Set mail.starttls or mail.ssl, not both: STARTTLS upgrades a plain "
                "connection (port 587), mail.ssl starts with TLS (port 465)."
            )
        username = _text(settings, "mail.username")
        password = _password(settings, os.environ if environ is None else environ)
        if (username is None) != (password is None):
            raise ConfigurationError("Set mail.username and mail.password together.")
        certfile = _path(settings, "mail.certfile")
        keyfile = _path(settings, "mail.keyfile")
        if keyfile is not None and certfile is None:
            raise ConfigurationError("mail.keyfile needs mail.certfile.")
        default_sender = _text(settings, "mail.default_sender") or DEFAULT_SENDER
        if "@" not in parseaddr(default_sender)[1]:
            raise ConfigurationError(
                "mail.default_sender must be an address, like "
                "'wingapp <noreply@example.org>'."
            )
        default_port = 465 if implicit_tls else 587 if starttls else 25
        return cls(
            transport=transport,
            folder=folder,
            host=_text(settings, "mail.host") or "localhost",
            port=int(_number(settings, "mail.port", default_port, 1, 65535)),
            username=username,
            password=password,
            starttls=starttls,
            ssl=implicit_tls,
            certfile=certfile,
            keyfile=keyfile,
            cafile=_path(settings, "mail.cafile"),
            ehlo_name=_text(settings, "mail.ehlo_name"),
            default_sender=default_sender,
            timeout=_number(settings, "mail.timeout", 30, 0.1, 600),
            retry_interval=_number(settings, "mail.retry_interval", 60, 0.1, 86400),
        )
