"""A real SMTP server for tests (aiosmtpd), and certificates for its TLS.

``smtp_server`` listens on 127.0.0.1 at a free port and keeps what it
receives. ``restart(**options)`` brings it back with other aiosmtpd
options (TLS, authentication) on the same port; ``stop()`` makes an outage.
"""

from __future__ import annotations

import datetime
import email.policy
import ipaddress
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .servers import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    ehlo_name: str
    tls: bool
    peer_certificate: dict | None


@dataclass
class Handler:
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        transport = server.transport
        self.received.append(
            Received(
                sender=envelope.mail_from,
                recipients=list(envelope.rcpt_tos),
                message=BytesParser(policy=email.policy.default).parsebytes(
                    envelope.original_content
                ),
                ehlo_name=session.host_name,
                tls=transport.get_extra_info("sslcontext") is not None,
                peer_certificate=transport.get_extra_info("peercert"),
            )
        )
        return "250 Message accepted for delivery"


def password_checker(login: str, password: str):
    """An aiosmtpd authenticator that knows one account."""

    def authenticate(server, session, envelope, mechanism, data) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            login.encode(),
            password.encode(),
        )
        # handled=False: aiosmtpd answers a failure with its own 535.
        return AuthResult(success=ok, handled=False)

    return authenticate


class SMTPServer:
    host = "127.0.0.1"

    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = Handler()
        self.options: dict[str, Any] = {}
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> None:
        self._controller = Controller(
            self.handler, hostname=self.host, port=self.port, **self.options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def restart(self, **options: Any) -> None:
        self.stop()
        self.options = options
        self.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(self.received)} of {count} messages arrived in {timeout} s"
                )
            time.sleep(0.02)
        return self.received


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Certificate:
    cert: Path
    key: Path


def make_certificate(
    folder: Path, name: str, usage: x509.ObjectIdentifier
) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, made now."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    found = Certificate(cert=folder / f"{name}.pem", key=folder / f"{name}.key")
    found.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    found.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return found


def server_certificate(folder: Path) -> Certificate:
    return make_certificate(folder, "smtp-server", ExtendedKeyUsageOID.SERVER_AUTH)


def client_certificate(folder: Path) -> Certificate:
    return make_certificate(folder, "wingapp-client", ExtendedKeyUsageOID.CLIENT_AUTH)


def server_tls(certificate: Certificate, trust_clients: Certificate | None = None):
    """The server's TLS context; with ``trust_clients``, a client must show
    that certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    if trust_clients is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(trust_clients.cert)
    return context
