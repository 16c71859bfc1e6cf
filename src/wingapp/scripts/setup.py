"""``wingapp CONFIG init``: secrets, database and the first admin."""

from __future__ import annotations

from typing import Any

from pyramid.paster import get_appsettings

from ..interfaces import IKeyring
from ..keys import ensure_keys, key_paths
from ..users.interfaces import IPasswordHasher
from ..users.passwords import generate_password
from ..users.services import create_user
from .env import open_app

DEFAULT_ADMIN_EMAIL = "admin@example.invalid"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "init",
        help="create missing secrets, the database and an admin account",
        description="Safe to run again: existing secrets and data are kept and no "
        "new password is printed.",
    )
    p.add_argument("--admin-login", default="admin")
    p.add_argument("--admin-email", default=DEFAULT_ADMIN_EMAIL)
    p.set_defaults(run=run_init)


def run_init(args: Any, stdin: Any, stdout: Any) -> int:
    settings = get_appsettings(args.config_uri)
    for path in ensure_keys(key_paths(settings)):
        print(f"Created secret file {path} (mode 0600).", file=stdout)
    with open_app(args.config_uri) as env, env.tm:
        users = env.root["users"]
        if len(users):
            print("The database has accounts already; nothing to do.", file=stdout)
            return 0
        password = generate_password()
        create_user(
            users,
            args.admin_login,
            args.admin_email,
            password,
            hasher=env.service(IPasswordHasher),
            keyring=env.service(IKeyring),
            now=env.now,
            roles=("user", "admin"),
            email_confirmed=True,
        )
        env.tm.get().note("wingapp init: first admin")
    print(
        f"Created the admin account {args.admin_login!r} with password:\n\n"
        f"    {password}\n\n"
        "It is shown only this once.",
        file=stdout,
    )
    return 0
