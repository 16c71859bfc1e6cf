"""Secrets kept outside the database, and the keyring built from them.

A secret missing or unreadable stops the start with one line, as a bad
setting does (:class:`wingapp.settings.SettingsError`).

Three files, each named by a setting or an environment variable (the
variable wins, so a container or systemd unit can point elsewhere):

- the session secret, which signs the session and device cookies;
- the encryption keys, one Fernet key a line, newest first, so a
  ``MultiFernet`` decrypts with any and encrypts with the first;
- the index key, from which the keyed hashes (email index, code digests)
  are derived.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pyramid.exceptions import ConfigurationError

from .interfaces import IKeyring
from .settings import SettingsError

KEY_SETTINGS = {
    "session_secret": ("wingapp.session_secret_file", "WINGAPP_SESSION_SECRET_FILE"),
    "encryption_keys": (
        "wingapp.encryption_keys_file",
        "WINGAPP_ENCRYPTION_KEYS_FILE",
    ),
    "index_key": ("wingapp.index_key_file", "WINGAPP_INDEX_KEY_FILE"),
}


@dataclass(frozen=True)
class KeyPaths:
    session_secret: Path
    encryption_keys: Path
    index_key: Path


def key_paths(settings: dict, environ: dict | None = None) -> KeyPaths:
    environ = os.environ if environ is None else environ
    found = {}
    for field, (setting, variable) in KEY_SETTINGS.items():
        value = environ.get(variable) or settings.get(setting)
        if not value:
            raise SettingsError(
                [
                    f"Set {setting} in the ini file (or {variable} in the "
                    "environment) to the file that holds this secret."
                ]
            )
        found[field] = Path(value)
    return KeyPaths(**found)


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_EXCL: never overwrite a secret another process has just written.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)


def ensure_keys(paths: KeyPaths) -> list[Path]:
    """Create whichever secret files are missing; return those created."""
    makers = {
        paths.session_secret: lambda: secrets.token_urlsafe(48) + "\n",
        paths.encryption_keys: lambda: Fernet.generate_key().decode() + "\n",
        paths.index_key: lambda: secrets.token_urlsafe(48) + "\n",
    }
    created = []
    for path, make in makers.items():
        if not path.exists():
            _write_secret(path, make())
            created.append(path)
    return created


def _read(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise SettingsError(
            [
                f"The secret file {path} is missing. Create the secrets with "
                "'wingapp CONFIG init'."
            ]
        ) from None
    if not text:
        raise SettingsError([f"The secret file {path} is empty."])
    return text


class Keyring:
    """Encryption and keyed hashing for personal data."""

    def __init__(self, session_secret: str, fernet_keys: list[bytes], index_key: bytes):
        if not fernet_keys:
            raise ConfigurationError("At least one encryption key is needed.")
        self.session_secret = session_secret
        self.fernet_keys = list(fernet_keys)
        self._fernet = MultiFernet([Fernet(k) for k in fernet_keys])
        self._index_key = index_key
        # purpose -> key: a few purposes, each asked for on most requests.
        self._derived: dict[str, bytes] = {}

    def encrypt(self, text: str, now: float | None = None) -> bytes:
        data = text.encode("utf-8")
        if now is None:
            return self._fernet.encrypt(data)
        return self._fernet.encrypt_at_time(data, int(now))

    def decrypt(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode("utf-8")

    def decrypt_fresh(self, token: bytes, ttl: int, now: float) -> str:
        """Plaintext of ``token`` if it was made less than ``ttl`` seconds
        before ``now`` (Fernet tokens carry their creation time)."""
        return self._fernet.decrypt_at_time(token, ttl, int(now)).decode("utf-8")

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt ``token`` under the newest key."""
        return self._fernet.rotate(token)

    def is_current(self, token: bytes) -> bool:
        try:
            Fernet(self.fernet_keys[0]).decrypt(token)
        except InvalidToken:
            return False
        return True

    def derive(self, purpose: str) -> bytes:
        """A key of its own for each use, so one hash never stands for another."""
        key = self._derived.get(purpose)
        if key is None:
            key = hmac.new(self._index_key, purpose.encode(), hashlib.sha256).digest()
            self._derived[purpose] = key
        return key

    def mac(self, purpose: str, value: str) -> str:
        """The keyed hash (HMAC-SHA256) of ``value`` for ``purpose``."""
        digest = hmac.new(self.derive(purpose), value.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()


def load_keyring(paths: KeyPaths) -> Keyring:
    session_secret = _read(paths.session_secret)
    keys = [line.strip().encode() for line in _read(paths.encryption_keys).splitlines()]
    keys = [k for k in keys if k]
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise SettingsError(
                [f"{paths.encryption_keys} holds a line that is not a Fernet key."]
            ) from None
    index_key = base64.urlsafe_b64decode(_pad(_read(paths.index_key)))
    return Keyring(session_secret, keys, index_key)


def _pad(text: str) -> str:
    return text + "=" * (-len(text) % 4)


def add_encryption_key(path: Path) -> bytes:
    """Put a new key first in the keys file, keeping the old ones after it."""
    new = Fernet.generate_key()
    old = path.read_text(encoding="ascii")
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(new.decode() + "\n" + old)
    os.replace(tmp, path)
    return new


def retire_encryption_keys(path: Path) -> int:
    """Keep only the newest key; return how many were dropped."""
    lines = [line for line in path.read_text(encoding="ascii").splitlines() if line]
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(lines[0] + "\n")
    os.replace(tmp, path)
    return len(lines) - 1


def includeme(config) -> None:
    keyring = load_keyring(key_paths(config.registry.settings))
    config.register_service(keyring, IKeyring)
    # Also at configuration time, for what is built then (the cookie
    # session factory signs with the session secret).
    config.registry.registerUtility(keyring, IKeyring)
