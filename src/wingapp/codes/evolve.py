"""The codes domain's data migrations (see :mod:`wingapp.evolve`)."""

from __future__ import annotations

from typing import Any


def spread_timeline(root: Any) -> None:
    """Spread the codes' index by expiry over several sets, so that codes
    issued at the same time do not all insert into one bucket."""
    root["codes"].reindex()
