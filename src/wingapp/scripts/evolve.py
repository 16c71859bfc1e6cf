"""``wingapp CONFIG evolve [--dry-run]``: run pending data migrations."""

from __future__ import annotations

from typing import Any

from .. import evolve as migrations
from ..directives import evolve_steps
from .env import open_app


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("evolve", help="run pending data-migration steps")
    p.add_argument(
        "--dry-run", action="store_true", help="list the steps, change nothing"
    )
    p.set_defaults(run=run_evolve)


def run_evolve(args: Any, stdin: Any, stdout: Any, steps: Any = None) -> int:
    with open_app(args.config_uri, evolving=True) as env:
        steps = evolve_steps(env.registry) if steps is None else steps
        due = migrations.evolve(lambda: env.root, env.tm, steps, dry_run=True)
        if not due:
            with env.tm:
                generation = env.root.generation
            print(f"Data is at generation {generation}; nothing to do.", file=stdout)
            return 0
        verb = "Would run" if args.dry_run else "Running"
        for step in due:
            print(f"{verb} step {step.generation}: {step.description}", file=stdout)
        if not args.dry_run:
            migrations.evolve(lambda: env.root, env.tm, steps)
            print(f"Data is now at generation {due[-1].generation}.", file=stdout)
    return 0
