"""``wingapp CONFIG add-user LOGIN --email EMAIL [--admin]``."""

from __future__ import annotations

from typing import Any

from ..interfaces import IKeyring
from ..users.interfaces import IAccountService, IPasswordHasher, ISessionService
from ..users.models import AccountError
from ..users.passwords import generate_password
from ..users.services import create_user
from .env import open_app
from .errors import CommandError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "add-user",
        help="add an account",
        description="The password is read from standard input when it is not a "
        "terminal; otherwise (or if the input is empty) one is generated and printed.",
    )
    p.add_argument("login")
    p.add_argument("--email", required=True)
    p.add_argument("--admin", action="store_true", help="give the admin role")
    p.set_defaults(run=run_add_user)
    register_sweep(subparsers)


def read_password(stdin: Any) -> str | None:
    if stdin.isatty():
        return None
    line = stdin.readline().rstrip("\r\n")
    return line or None


def run_add_user(args: Any, stdin: Any, stdout: Any) -> int:
    given = read_password(stdin)
    password = given or generate_password()
    roles = ("user", "admin") if args.admin else ("user",)
    with open_app(args.config_uri) as env, env.tm:
        try:
            user = create_user(
                env.root["users"],
                args.login,
                args.email,
                password,
                hasher=env.service(IPasswordHasher),
                keyring=env.service(IKeyring),
                now=env.now,
                roles=roles,
                email_confirmed=True,
            )
        except AccountError as e:
            # Leaving the block on an exception aborts the transaction.
            raise CommandError(str(e)) from None
        env.tm.get().note(f"wingapp add-user {user.__name__}")
    print(f"Added {user.__name__!r} ({', '.join(roles)}).", file=stdout)
    if given is None:
        print(f"Password (shown once): {password}", file=stdout)
    return 0


def register_sweep(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sweep-sessions",
        help="remove the server records of sessions that have timed out",
        description="Records of expired sessions are removed when their user next "
        "signs in; this removes those of users who never come back (run it from cron).",
    )
    p.set_defaults(run=run_sweep_sessions)
    p = subparsers.add_parser(
        "sweep-accounts",
        help="remove accounts that never confirmed their address in time",
        description="An account that registers itself has auth.unconfirmed_lifetime "
        "(24 hours) to confirm its address; after that it opens nothing, and its "
        "name is free. This removes such accounts (run it from cron). Accounts "
        "made by an administrator or an import are never removed.",
    )
    p.set_defaults(run=run_sweep_accounts)


def run_sweep_sessions(args: Any, stdin: Any, stdout: Any) -> int:
    with open_app(args.config_uri) as env:
        service = env.service(ISessionService)
        with env.tm:
            logins = list(env.root["users"].keys())
        removed = 0
        for start in range(0, len(logins), 200):
            # Small transactions: a big site never holds one huge commit.
            with env.tm:
                users = env.root["users"]
                removed += sum(
                    service.purge_expired(users[n]) for n in logins[start : start + 200]
                )
                env.tm.get().note("wingapp sweep-sessions")
    print(f"Expired sessions removed: {removed}.", file=stdout)
    return 0


def run_sweep_accounts(args: Any, stdin: Any, stdout: Any) -> int:
    with open_app(args.config_uri) as env:
        with env.tm:
            logins = env.root["users"].unconfirmed_logins()
        service = env.service(IAccountService)
        removed = 0
        for start in range(0, len(logins), 200):
            # Small transactions, as sweep-sessions.
            with env.tm:
                removed += service.sweep_expired(logins[start : start + 200])
                env.tm.get().note("wingapp sweep-accounts")
        with env.tm:
            forgotten = service.forget_old_failures()
            env.tm.get().note("wingapp sweep-accounts: failures of nobody")
    print(f"Accounts removed (address never confirmed): {removed}.", file=stdout)
    print(
        f"Failure counts of names without an account forgotten: {forgotten}.",
        file=stdout,
    )
    return 0
