"""The codes domain's data migrations (see :mod:`wingapp.evolve`)."""

from __future__ import annotations

from typing import Any

from ..folder import widened


def reindex_codes(root: Any) -> None:
    """Rebuild the codes' indexes as the current code lays them out.

    Generation 3 added the indexes by owner and by expiry; generation 5
    spread the index by expiry over several sets, so that codes issued at
    the same time do not all insert into one bucket; generation 18 spread
    the index by owner, for owners that sort together. Rebuilding does all
    three.
    """
    root["codes"].reindex()


def widen_codes(root: Any) -> None:
    """Generation 8: the codes and their index by owner in trees whose
    buckets split four times less often."""
    codes = root["codes"]
    codes.data = widened(codes.data)
    codes.newest = widened(codes.newest)
