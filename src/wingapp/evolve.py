"""Data migrations as numbered steps.

The root remembers the generation its data is at. Each domain registers
the steps for its own data with ``config.add_evolve_step`` (see
:mod:`wingapp.directives`); the core owns only its own. Each step brings
the data one generation forward and runs in a transaction of its own, so a
step that fails leaves the data at the last generation that finished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .directives import Step


def pending_steps(root: Any, steps: Sequence[Step]) -> list[Step]:
    current = getattr(root, "generation", 0)
    return sorted(
        (s for s in steps if s.generation > current), key=lambda s: s.generation
    )


def evolve(
    get_root: Callable[[], Any],
    tm: Any,
    steps: Sequence[Step],
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
