"""One template compiled at a time.

Chameleon compiles a template the first time it is used, and a page loads
its layout (``load: ../layout.pt``) while it renders. Several threads
compiling at once can fail inside CPython 3.11's ``ast`` module ("AST
constructor recursion depth mismatch"), so the first requests after a
start could answer 500. Compiling takes a process-wide lock; once a
template is compiled, rendering it takes no lock at all.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from chameleon.template import BaseTemplate

COMPILING = threading.Lock()


def one_at_a_time(cook: Any) -> Any:
    @functools.wraps(cook)
    def locked_cook(template: Any, body: str) -> None:
        with COMPILING:
            cook(template, body)

    locked_cook.wingapp_locked = True
    return locked_cook


def lock_compilation() -> None:
    """Make Chameleon compile one template at a time in this process."""
    if not getattr(BaseTemplate.cook, "wingapp_locked", False):
        BaseTemplate.cook = one_at_a_time(BaseTemplate.cook)
