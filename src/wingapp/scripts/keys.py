"""``wingapp CONFIG rotate-keys [--retire]``: new encryption key, re-encrypt.

The new key goes first in the keys file (the old ones stay, so every
token still opens); then every encrypted value in the database is
re-encrypted under it. With ``--retire`` the old keys are dropped once
that has committed. Old ciphertext lives on in the database's history
until it is packed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pyramid.paster import get_appsettings

from ..interfaces import IKeyring
from ..keys import add_encryption_key, key_paths, retire_encryption_keys
from .env import open_app

BATCH = 200


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "rotate-keys",
        help="add a new encryption key and re-encrypt all personal data under it",
    )
    p.add_argument(
        "--retire",
        action="store_true",
        help="afterwards keep only the new key (then pack the database)",
    )
    p.set_defaults(run=run_rotate_keys)


def user_tokens(user: Any) -> Iterator[tuple[Any, str]]:
    """(object, attribute) for every encrypted value an account holds."""
    yield user, "email_token"
    for record in user.sessions.values():
        yield record, "ip_token"
        yield record, "ua_token"
    for records in (user.trusted_devices, user.trusted_networks):
        for trusted in records.values():
            yield trusted, "label_token"


def entry_tokens(entry: Any) -> Iterator[tuple[Any, str]]:
    yield entry, "ip_token"
    yield entry, "ua_token"


def rotate(obj: Any, attribute: str, keyring: Any) -> bool:
    token = getattr(obj, attribute)
    if token is None or keyring.is_current(token):
        return False
    setattr(obj, attribute, keyring.rotate(token))
    return True


def rotate_all(env: Any, names: list[Any], get: Any, tokens: Any) -> int:
    """Re-encrypt in batches, each in its own transaction, so a large
    database never needs one huge commit."""
    keyring = env.service(IKeyring)
    changed = 0
    for start in range(0, len(names), BATCH):
        with env.tm:
            for name in names[start : start + BATCH]:
                for obj, attribute in tokens(get(name)):
                    changed += rotate(obj, attribute, keyring)
            env.tm.get().note("wingapp rotate-keys")
    return changed


def run_rotate_keys(args: Any, stdin: Any, stdout: Any) -> int:
    paths = key_paths(get_appsettings(args.config_uri))
    add_encryption_key(paths.encryption_keys)
    print(f"Added a new key at the top of {paths.encryption_keys}.", file=stdout)
    with open_app(args.config_uri) as env:
        with env.tm:
            logins = list(env.root["users"].keys())
            entry_keys = list(env.root.audit.entries.keys())
        users = rotate_all(env, logins, lambda n: env.root["users"][n], user_tokens)
        entries = rotate_all(
            env, entry_keys, lambda k: env.root.audit.entries[k], entry_tokens
        )
    print(
        f"Re-encrypted {users} values in {len(logins)} accounts and {entries} "
        f"in {len(entry_keys)} events.",
        file=stdout,
    )
    if args.retire:
        dropped = retire_encryption_keys(paths.encryption_keys)
        print(
            f"Retired {dropped} old key(s). Pack the database "
            "('wingapp CONFIG pack') so no old ciphertext stays in its history.",
            file=stdout,
        )
    return 0
