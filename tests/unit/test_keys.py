from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet, InvalidToken
from pyramid.exceptions import ConfigurationError

from wingapp.keys import (
    KeyPaths,
    add_encryption_key,
    ensure_keys,
    key_paths,
    load_keyring,
    retire_encryption_keys,
)


def paths_in(directory) -> KeyPaths:
    return KeyPaths(directory / "s", directory / "e", directory / "i")


def test_ensure_keys_creates_private_files_once(tmp_path):
    paths = paths_in(tmp_path / "new")
    created = ensure_keys(paths)
    assert set(created) == {
        paths.session_secret,
        paths.encryption_keys,
        paths.index_key,
    }
    for path in created:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = paths.session_secret.read_text()
    assert ensure_keys(paths) == []
    assert paths.session_secret.read_text() == before


def test_key_paths_from_settings_and_environment(tmp_path):
    settings = {
        "wingapp.session_secret_file": "/a",
        "wingapp.encryption_keys_file": "/b",
        "wingapp.index_key_file": "/c",
    }
    assert key_paths(settings, environ={}).encryption_keys.as_posix() == "/b"
    env = {"WINGAPP_ENCRYPTION_KEYS_FILE": "/elsewhere"}
    assert key_paths(settings, environ=env).encryption_keys.as_posix() == "/elsewhere"
    with pytest.raises(ConfigurationError, match=r"wingapp\.index_key_file"):
        key_paths({**settings, "wingapp.index_key_file": ""}, environ={})


def test_missing_and_empty_and_bad_files_are_named(tmp_path):
    paths = paths_in(tmp_path)
    with pytest.raises(ConfigurationError, match=r"missing.*wingapp CONFIG init"):
        load_keyring(paths)
    ensure_keys(paths)
    paths.index_key.write_text("\n")
    with pytest.raises(ConfigurationError, match="empty"):
        load_keyring(paths)
    paths.index_key.unlink()
    ensure_keys(paths)
    paths.encryption_keys.write_text("not-a-key\n")
    with pytest.raises(ConfigurationError, match="not a Fernet key"):
        load_keyring(paths)


def test_encrypt_decrypt_and_keyed_hash(key_paths):
    keyring = load_keyring(key_paths)
    token = keyring.encrypt("ada@example.org")
    assert b"ada" not in token
    assert keyring.decrypt(token) == "ada@example.org"
    assert keyring.mac("email", "x") == keyring.mac("email", "x")
    assert keyring.mac("email", "x") != keyring.mac("code", "x")
    assert len(keyring.mac("email", "x")) == 64


def test_rotation_puts_new_key_first_and_old_tokens_still_open(key_paths):
    old = load_keyring(key_paths)
    token = old.encrypt("secret")
    add_encryption_key(key_paths.encryption_keys)
    assert stat.S_IMODE(key_paths.encryption_keys.stat().st_mode) == 0o600
    new = load_keyring(key_paths)
    assert len(new.fernet_keys) == 2
    assert not new.is_current(token)
    rotated = new.rotate(token)
    assert new.is_current(rotated)
    assert new.decrypt(rotated) == "secret"
    assert retire_encryption_keys(key_paths.encryption_keys) == 1
    newest = load_keyring(key_paths)
    assert newest.decrypt(rotated) == "secret"
    with pytest.raises(InvalidToken):
        newest.decrypt(token)


def test_keyring_needs_a_key():
    from wingapp.keys import Keyring

    with pytest.raises(ConfigurationError):
        Keyring("s", [], b"i")
    assert Keyring("s", [Fernet.generate_key()], b"i").session_secret == "s"


def test_a_missing_secret_stops_the_start_with_one_line(settings, key_paths):
    from wingapp import main

    key_paths.index_key.unlink()
    with pytest.raises(SystemExit) as stopped:
        main({}, **settings)
    assert str(stopped.value) == (
        f"wingapp: The secret file {key_paths.index_key} is missing. "
        "Create the secrets with 'wingapp CONFIG init'."
    )
