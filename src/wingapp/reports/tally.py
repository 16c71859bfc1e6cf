"""Counters that concurrent transactions can all write.

A week's report counts every event recorded that week, so every request
that records one writes the same few counters. A plain persistent dict
would make each pair of such requests conflict. A :class:`Tally` instead
resolves the conflict itself, as ``BTrees.Length`` does for one number:
both transactions only added to counts, so the merged state is the
committed one plus what this transaction added, key by key.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

from persistent import Persistent


class Tally(Persistent):
    """Counts by key; keys are small plain values (strings, numbers,
    tuples of them), never persistent objects."""

    def __init__(self) -> None:
        self.counts: dict[Hashable, int] = {}

    def add(self, key: Hashable, n: int = 1) -> None:
        counts = self.counts
        counts[key] = counts.get(key, 0) + n
        self._p_changed = True

    def items(self) -> Iterator[tuple[Hashable, int]]:
        return iter(self.counts.items())

    def _p_resolveConflict(
        self, old: dict[str, Any], committed: dict[str, Any], mine: dict[str, Any]
    ) -> dict[str, Any]:
        base = old.get("counts", {})
        merged = dict(committed.get("counts", {}))
        for key, n in mine.get("counts", {}).items():
            added = n - base.get(key, 0)
            if added:
                merged[key] = merged.get(key, 0) + added
        return {**committed, "counts": merged}
