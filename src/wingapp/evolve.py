"""Data migrations as numbered steps.

The root remembers the generation its data is at. Each step brings it one
generation forward and runs in a transaction of its own, so a step that
fails leaves the data at the last generation that finished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    generation: int
    description: str
    run: Callable[[Any], None]


def add_audit_log(root: Any) -> None:
    """Generation 1: databases made before the event log existed get one."""
    from .audit import AuditLog

    if getattr(root, "audit", None) is None:
        root.audit = AuditLog()
        root.audit.__parent__ = root


def add_account_records(root: Any) -> None:
    """Generation 2: accounts get sessions, trusted places and a back-off count."""
    for user in root["users"].values():
        user.ensure_records()


def index_codes(root: Any) -> None:
    """Generation 3: the codes container indexes codes by owner and expiry."""
    root["codes"].reindex()


STEPS: tuple[Step, ...] = (
    Step(1, "add the audit log", add_audit_log),
    Step(
        2, "add sessions, trust and back-off records to accounts", add_account_records
    ),
    Step(3, "index the codes by owner, purpose and expiry", index_codes),
)

LATEST_GENERATION = max((s.generation for s in STEPS), default=0)


def pending_steps(root: Any, steps: Sequence[Step] = STEPS) -> list[Step]:
    current = getattr(root, "generation", 0)
    return sorted(
        (s for s in steps if s.generation > current), key=lambda s: s.generation
    )


def evolve(
    get_root: Callable[[], Any],
    tm: Any,
    steps: Sequence[Step] = STEPS,
    dry_run: bool = False,
) -> list[Step]:
    """Run the pending steps in order; return those run (or due, if dry).

    ``get_root`` is called inside each step's transaction, so every step
    sees what the steps before it committed.
    """
    with tm:
        todo = pending_steps(get_root(), steps)
    if dry_run:
        return todo
    for step in todo:
        with tm:
            root = get_root()
            step.run(root)
            root.generation = step.generation
            tm.get().note(f"wingapp evolve {step.generation}: {step.description}")
    return todo
