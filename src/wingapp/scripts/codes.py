"""``wingapp CONFIG sweep-codes [--days N]``: forget codes long expired."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from ..codes.interfaces import ICodeService
from .env import open_app


def days(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sweep-codes",
        help="remove one-time codes that expired long ago",
        description="Removes every code that expired more than N days ago "
        "(default: the codes.retention_days setting, 7). Safe to run from cron.",
    )
    p.add_argument("--days", type=days, metavar="N")
    p.set_defaults(run=run_sweep_codes)


def run_sweep_codes(args: Any, stdin: Any, stdout: Any) -> int:
    retention = None if args.days is None else timedelta(days=args.days)
    with open_app(args.config_uri) as env, env.tm:
        removed = env.service(ICodeService).sweep(retention)
        env.tm.get().note(f"wingapp sweep-codes: {removed} removed")
    print(f"Expired codes removed: {removed}.", file=stdout)
    return 0
