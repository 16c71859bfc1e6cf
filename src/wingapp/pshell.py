"""``pshell development.ini``: the tree and a transaction ready to use."""

from __future__ import annotations

from typing import Any

from .interfaces import IKeyring


def setup(env: dict[str, Any]) -> None:
    request = env["request"]
    # root_factory has begun a transaction on request.tm: tm.commit() saves.
    env["tm"] = request.tm
    env["keyring"] = request.find_service(IKeyring)
    env["users"] = env["root"]["users"]
    env["codes"] = env["root"]["codes"]
    env["reports"] = env["root"]["reports"]
