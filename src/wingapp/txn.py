"""How a request's transaction ends.

A response of 400 or more aborts: a request that failed changes nothing.
The one exception is a view that must remember the failure itself (a
wrong password counts towards the back-off); it says so with
:func:`keep_changes_on_error`.
"""

from __future__ import annotations

from typing import Any

KEEP = "wingapp.keep_changes_on_error"


def keep_changes_on_error(request: Any) -> None:
    request.environ[KEEP] = True


def commit_veto(request: Any, response: Any) -> bool:
    if request.environ.get(KEEP):
        return False
    return response.status_int >= 400
