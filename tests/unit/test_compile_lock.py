"""Syntax trees built one at a time: a traceback formatted while a template
compiles (a failed commit's, say) waits for it, since CPython 3.11 cannot
build two at once (see wingapp.views.templates)."""

from __future__ import annotations

import ast
import threading
import traceback

from wingapp.views.templates import COMPILING, lock_compilation


def fails() -> None:
    # A line with a subscript: traceback parses it to underline the part
    # that failed.
    {"conflict": 1}["missing"]


def formatted_traceback() -> str:
    try:
        fails()
    except KeyError:
        return traceback.format_exc()
    raise AssertionError("fails() did not fail")


def test_a_traceback_waits_while_a_template_compiles(app):
    lock_compilation()  # main() did it; a second time changes nothing
    assert ast.parse.wingapp_locked
    formatted = []
    with COMPILING:
        # As when Chameleon compiles a page in this thread.
        worker = threading.Thread(
            target=lambda: formatted.append(formatted_traceback())
        )
        worker.start()
        worker.join(0.3)
        assert worker.is_alive() and formatted == []
        # The lock is re-entrant: compiling parses expressions itself.
        assert isinstance(ast.parse("a[b]"), ast.Module)
    worker.join(5)
    # Released: the traceback was formatted once compiling was done.
    assert not worker.is_alive()
    assert "KeyError: 'missing'" in formatted[0]
    assert '{"conflict": 1}["missing"]' in formatted[0]


def test_parsing_keeps_its_signature(app):
    tree = ast.parse("x = 1", mode="exec", type_comments=True)
    assert isinstance(tree.body[0], ast.Assign)
    assert ast.literal_eval("[1, 2]") == [1, 2]
