"""The operator's account commands: import and export accounts as CSV, and
the changes an admin makes in the browser (``set-password``, the way back
in when the admin password is lost; ``set-roles``, ``disable``,
``enable``).

Each change is recorded in the account's history like an admin's, with
the operating-system user as the actor.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from transaction.interfaces import TransientError

from ..admin.interfaces import IAdminService
from ..admin.services import check_reason
from ..admin.transfer import (
    ImportFileError,
    UserImport,
    decoded_lines,
    export_lines,
    read_rows,
)
from ..interfaces import IKeyring
from ..users.interfaces import ISessionService
from ..users.models import normalize_login
from ..users.services import Refused
from .env import ScriptEnv, open_app
from .errors import CommandError

DEFAULT_REASON = "from the console"


def os_actor() -> str:
    return "os:" + getpass.getuser()


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "import-users",
        help="create (or update) accounts from a CSV file",
        description="Columns: login,email,roles,password_hash,confirmed (the header "
        "line is required; roles separated by spaces; password_hash in argon2, "
        "passlib's PBKDF2-SHA512 or bcrypt form, or empty: the account then sets "
        "its password through a mailed code). Exits 1 if any row was rejected.",
    )
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument(
        "--dry-run", action="store_true", help="check and report; change nothing"
    )
    p.add_argument(
        "--update",
        action="store_true",
        help="change the email, roles and confirmation of existing accounts "
        "(their password only if the row has a hash)",
    )
    p.add_argument(
        "--reason", help='for the accounts\' history (default "import FILE")'
    )
    p.set_defaults(run=run_import_users)

    p = subparsers.add_parser(
        "export-users",
        help="write every account to a CSV file (no password hashes)",
    )
    p.add_argument("file", metavar="FILE.csv", help="- for standard output")
    p.set_defaults(run=run_export_users)

    p = add_change(
        subparsers,
        "set-password",
        "set an account's password, read from standard input",
        run_set_password,
    )
    p = add_change(subparsers, "set-roles", "replace an account's roles", run_set_roles)
    p.add_argument("roles", nargs="+", metavar="ROLE")
    add_change(
        subparsers, "disable", "refuse every sign-in and end every session", run_disable
    )
    add_change(subparsers, "enable", "let a disabled account sign in again", run_enable)


def add_change(subparsers: Any, name: str, help: str, run: Callable) -> Any:
    p = subparsers.add_parser(name, help=help, description=help.capitalize() + ".")
    p.add_argument("login")
    p.add_argument("--reason", default=DEFAULT_REASON, help="for the account's history")
    p.set_defaults(run=run)
    return p


# -- import and export --------------------------------------------------------


@contextmanager
def progress_bar(stdout: Any, total: int) -> Iterator[Callable[[int], None]]:
    """A bar on a terminal, nothing otherwise (a log or a pipe would fill
    with redraws); yields the function that moves it to a byte offset."""
    if not stdout.isatty():
        yield lambda done: None
        return
    with Progress(
        TextColumn("Importing"),
        BarColumn(),
        TaskProgressColumn(),
        console=Console(file=stdout),
    ) as progress:
        task = progress.add_task("import", total=total)
        yield lambda done: progress.update(task, completed=done)


def open_file(path: str, mode: str, **kw: Any) -> Any:
    try:
        return open(path, mode, **kw)
    except OSError as e:
        raise CommandError(f"cannot open {path}: {e.strerror}") from None


def run_import_users(args: Any, stdin: Any, stdout: Any) -> int:
    source = os.path.basename(args.file)
    try:
        reason = check_reason(args.reason or f"import {source}")
    except Refused as e:
        raise CommandError(e.message) from None
    with open_file(args.file, "rb") as raw, open_app(args.config_uri) as env:
        bad_lines: set[int] = set()
        try:
            rows = read_rows(decoded_lines(raw, bad_lines), bad_lines)
        except ImportFileError as e:
            raise CommandError(f"{args.file}: {e}") from None
        summary = import_rows(env, args, rows, reason, source, raw, stdout)
    if args.dry_run:
        print("Dry run: nothing was changed.", file=stdout)
    for line in summary.lines():
        print(line, file=stdout)
    return 1 if summary.rejected else 0


def import_rows(
    env: ScriptEnv,
    args: Any,
    rows: Any,
    reason: str,
    source: str,
    raw: Any,
    stdout: Any,
) -> Any:
    """Run the import in transactions of one batch each."""
    tm = env.tm

    def commit() -> None:
        tm.get().note(f"wingapp import-users {source}")
        tm.commit()
        tm.begin()

    tm.begin()
    try:
        importer = UserImport(
            env.request,
            users=env.root["users"],
            keyring=env.service(IKeyring),
            sessions=env.service(ISessionService),
            clock=env.now,
            actor=os_actor(),
            reason=reason,
            source=source,
            update=args.update,
            dry_run=args.dry_run,
        )
        with progress_bar(stdout, os.fstat(raw.fileno()).st_size) as moved:
            return importer.run(rows, commit, lambda result: moved(raw.tell()))
    except TransientError:
        # A sign-up or an admin's change wrote the same trees at the same
        # moment. The batches before are in; with --update, the same file
        # again finds them unchanged and imports the rest.
        raise CommandError(
            "another change was committed at the same time as a batch of this "
            "import, which was undone (the batches before it are imported). "
            "Run the same command again with --update to finish."
        ) from None
    finally:
        # What is left is nothing (every batch committed) or a dry run's reads.
        tm.abort()


def run_export_users(args: Any, stdin: Any, stdout: Any) -> int:
    to_stdout = args.file == "-"
    target = (
        nullcontext(stdout)
        if to_stdout
        else open_file(args.file, "w", encoding="utf-8", newline="")
    )
    with target as out, open_app(args.config_uri) as env, env.tm:
        users = env.root["users"]
        count = len(users)
        for chunk in export_lines(
            users, env.service(IKeyring), between_batches=env.conn.cacheGC
        ):
            out.write(chunk)
    if not to_stdout:
        print(f"Exported {count} accounts to {args.file}.", file=stdout)
    return 0


# -- changes to one account ---------------------------------------------------


def change_account(
    args: Any, stdout: Any, change: Callable[[Any, Any, str, str], None], done: str
) -> int:
    """Open the app, find the account, make ``change`` through the admin
    service, commit; a refusal becomes the command's error."""
    with open_app(args.config_uri) as env, env.tm:
        login = normalize_login(args.login)
        user = env.root["users"].get(login)
        if user is None:
            raise CommandError(f"no account named {login!r}")
        try:
            change(env.service(IAdminService), user, args.reason, os_actor())
        except Refused as e:
            # Leaving the block on an exception aborts the transaction.
            raise CommandError(e.message) from None
        env.tm.get().note(f"wingapp {args.command} {login}")
    print(f"{done} {login!r}.", file=stdout)
    return 0


def read_new_password(stdin: Any) -> str:
    if stdin.isatty():
        password = getpass.getpass("New password: ", stream=sys.stderr)
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("no password given on standard input")
    return password


def run_set_password(args: Any, stdin: Any, stdout: Any) -> int:
    password = read_new_password(stdin)
    return change_account(
        args,
        stdout,
        lambda admin, user, reason, actor: admin.set_password(
            user, password, reason, actor
        ),
        "Set the password of",
    )


def run_set_roles(args: Any, stdin: Any, stdout: Any) -> int:
    return change_account(
        args,
        stdout,
        lambda admin, user, reason, actor: admin.set_roles(
            user, tuple(args.roles), reason, actor
        ),
        f"Set roles {' '.join(args.roles)} on",
    )


def run_disable(args: Any, stdin: Any, stdout: Any) -> int:
    return change_account(
        args,
        stdout,
        lambda admin, user, reason, actor: admin.disable(user, reason, actor),
        "Disabled",
    )


def run_enable(args: Any, stdin: Any, stdout: Any) -> int:
    return change_account(
        args,
        stdout,
        lambda admin, user, reason, actor: admin.enable(user, reason, actor),
        "Enabled",
    )
