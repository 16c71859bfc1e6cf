"""``wingapp CONFIG init``: secrets, database and the first admin."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import plaster
from pyramid.paster import get_appsettings

from ..interfaces import IKeyring
from ..keys import ensure_keys, key_paths
from ..mail.settings import MailSettings
from ..users.interfaces import IPasswordHasher
from ..users.passwords import generate_password
from ..users.services import create_user
from .env import open_app, shown_path

DEFAULT_ADMIN_EMAIL = "admin@example.invalid"
# A server listening on every interface is reached from this machine by name.
ANY_HOST = ("", "*", "0.0.0.0", "[::]")  # noqa: S104 (read, never bound)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "init",
        help="create missing secrets, the database and an admin account",
        description="Safe to run again: existing secrets and data are kept and no "
        "new password is printed.",
    )
    p.add_argument("--admin-login", default="admin")
    p.add_argument(
        "--admin-email",
        default=DEFAULT_ADMIN_EMAIL,
        help="the admin's address, where sign-in codes go (default %(default)s: "
        "enough in development, where mail stays in mail.maildir)",
    )
    p.set_defaults(run=run_init)


def site_address(config_uri: str) -> str | None:
    """The address pserve serves the ini on, from its ``[server:main]``."""
    listen = plaster.get_settings(config_uri, "server:main").get("listen")
    if not listen:
        return None
    host, _, port = listen.split()[0].rpartition(":")
    return f"http://{'localhost' if host in ANY_HOST else host}:{port}"


def mail_note(settings: Any) -> list[str]:
    """Where development mail, sign-in codes included, can be read."""
    mail = MailSettings.from_settings(settings)
    if mail.transport != "maildir":
        return []
    return [
        "Mail is not sent in development: each message, sign-in codes too, is "
        f"a file in {shown_path(mail.folder / 'new')}/."
    ]


def create_first_admin(env: Any, args: Any) -> str | None:
    """The new admin's password, or None when there are accounts already."""
    users = env.root["users"]
    if len(users):
        return None
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
    return password


def database_folder(settings: Any) -> Path | None:
    """The folder of a FileStorage database (``file://`` URI), else None."""
    uri = urlsplit(settings.get("zodbconn.uri", ""))
    if uri.scheme != "file":
        return None
    return Path(uri.netloc + uri.path).parent


def run_init(args: Any, stdin: Any, stdout: Any) -> int:
    settings = get_appsettings(args.config_uri)
    folder = database_folder(settings)
    if folder is not None and not folder.exists():
        # Before the secrets, which would create it open to every user.
        folder.mkdir(mode=0o700, parents=True)
    for path in ensure_keys(key_paths(settings)):
        print(f"Created secret file {path} (mode 0600).", file=stdout)
    with open_app(args.config_uri) as env, env.tm:
        password = create_first_admin(env, args)
    address = site_address(args.config_uri)
    login_page = f"{address}/login" if address else "/login"
    if password is None:
        lines = ["The database has accounts already; nothing to do."]
        if args.admin_email != DEFAULT_ADMIN_EMAIL:
            lines.append("(--admin-email counts only when init creates the admin.)")
        lines.append(f"Sign in at {login_page}.")
    else:
        lines = [
            f"Created the admin account {args.admin_login!r} with password:",
            "",
            f"    {password}",
            "",
            f"It is shown only this once. Sign in at {login_page} "
            f"as {args.admin_login!r}.",
            f"The first sign-in asks for a code mailed to {args.admin_email}.",
        ]
    lines += mail_note(settings)
    if password is not None and args.admin_email == DEFAULT_ADMIN_EMAIL:
        lines.append(
            f"Your own address instead: wingapp {args.config_uri} init "
            "--admin-email you@example.org, on an empty database."
        )
    print("\n".join(lines), file=stdout)
    return 0
