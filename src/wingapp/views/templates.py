"""One piece of Python syntax tree built at a time.

CPython 3.11 (up to 3.11.7 at least, and the system Python mod_wsgi runs,
3.11.2) keeps the recursion depth of its ``ast`` conversions in one place
for all threads: two threads converting syntax trees at once can fail
with "SystemError: AST constructor recursion depth mismatch". Two things
do that in a running app:

- Chameleon, which compiles a template the first time it is used (and a
  page loads its layout, ``load: ../layout.pt``, while it renders);
- the ``traceback`` module, which parses each source line it shows
  (``ast.parse``) to underline the failing expression. ``transaction``
  formats a traceback for every failed commit, a conflict included, and
  the storages log their lost connections with one.

So a conflict in one thread while another compiled the "busy" page, or
two failed commits at once, could turn into a 500. Compiling and parsing
take one process-wide lock (re-entrant: Chameleon parses while it
compiles); once a template is compiled, rendering it takes no lock at all.
"""

from __future__ import annotations

import ast
import functools
import threading
from typing import Any

from chameleon.template import BaseTemplate

COMPILING = threading.RLock()


def one_at_a_time(work: Any) -> Any:
    @functools.wraps(work)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with COMPILING:
            return work(*args, **kwargs)

    locked.wingapp_locked = True
    return locked


def lock_compilation() -> None:
    """Make Chameleon's compiling and ``ast.parse`` (which ``traceback``
    looks up at each call) take turns in this process."""
    if not getattr(BaseTemplate.cook, "wingapp_locked", False):
        BaseTemplate.cook = one_at_a_time(BaseTemplate.cook)
    if not getattr(ast.parse, "wingapp_locked", False):
        ast.parse = one_at_a_time(ast.parse)
