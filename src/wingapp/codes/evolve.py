"""The codes domain's data migrations (see :mod:`wingapp.evolve`)."""

from __future__ import annotations

from typing import Any


def reindex_codes(root: Any) -> None:
    """Rebuild the codes' indexes as the current code lays them out.

    Generation 3 added the indexes by owner and by expiry; generation 5
    spread the index by expiry over several sets, so that codes issued at
    the same time do not all insert into one bucket. Rebuilding does both.
    """
    root["codes"].reindex()
