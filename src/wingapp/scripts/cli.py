"""``wingapp CONFIG COMMAND ...``: the operator's command line.

The config file comes first, as with pserve and pshell; each domain adds
its commands through a ``register(subparsers)`` function.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from . import admin, codes, evolve, keys, mail, ops, reports, setup, users
from .errors import CommandError

COMMAND_MODULES = (setup, users, admin, evolve, keys, codes, mail, ops, reports)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wingapp", description="Operate a wingapp site from its ini file."
    )
    parser.add_argument(
        "config_uri", metavar="CONFIG", help="the ini file, e.g. development.ini"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        return args.run(args, stdin=stdin, stdout=stdout) or 0
    except CommandError as e:
        print(f"wingapp: {e}", file=stderr)
        return 2
