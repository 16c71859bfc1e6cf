"""One index spread over several trees by its keys.

Every write to a BTree asks that the nodes above the bucket it changed be
unchanged when it commits, and a small tree is one bucket held in its
root: an index that every request of a kind writes (a registration, a
week's first sign-in) conflicts with itself whenever two of them commit at
once. Spread over several trees, each key in the one its name picks, two
such requests meet only when their keys share a tree; reading merges the
trees, or asks the one tree a key is in.

A database made before an index was spread holds one tree where the code
now expects a tuple of them. :func:`tree_for` reads and writes that one
tree until an evolve step calls :func:`spread`, so an upgraded application
works before ``wingapp evolve`` has run.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any


def shard(key: str, count: int) -> int:
    """Which of ``count`` trees holds ``key``: crc32, which is the same in
    every process, unlike hash()."""
    return zlib.crc32(key.encode()) % count


def tree_for(trees: Any, key: str) -> Any:
    """The tree of ``trees`` (a tuple of them, or one tree from before the
    index was spread) that holds, or would hold, ``key``."""
    if not isinstance(trees, tuple):
        return trees
    return trees[shard(key, len(trees))]


def spread(tree: Any, make: Callable[[], Any], count: int) -> tuple[Any, ...]:
    """``count`` trees made by ``make`` holding what ``tree`` held (keys and
    values of a BTree, keys of a set), each key in its shard's; ``tree``
    itself if it is spread already."""
    if isinstance(tree, tuple):
        return tree
    trees = tuple(make() for _ in range(count))
    if hasattr(tree, "items"):
        for key, value in tree.items():
            trees[shard(key, count)][key] = value
    else:
        for key in tree:
            trees[shard(key, count)].add(key)
    return trees
