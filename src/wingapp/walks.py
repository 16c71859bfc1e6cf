"""Walking sorted BTrees from a bound, in either direction, one page at a
time: the folder listings and the users catalog page this way, so the
deepest page costs what the first does.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from .folder import MAX_NAME_LENGTH

# Sorts after every name and login (U+10FFFF is not printable, and so in
# no name; see wingapp.folder.check_name).
HIGH = "\U0010ffff"


# Walking sorted trees from a bound, in either direction.
#
# Keys are names (str) or tuples whose last item is a name, such as
# (time, name): the name makes each key unique and gives the walks a
# bound just past a key.


def above(key: Any) -> Any:
    """The least key greater than ``key``: ``s + "\\0"`` for a name."""
    if isinstance(key, str):
        return key + "\0"
    return (*key[:-1], above(key[-1]))


def below(key: Any) -> Any:
    """A bound just below ``key``: every key that sorts before it sorts at
    or before the bound, and none that sorts after it.

    A name has no predecessor, but it has at most :data:`MAX_NAME_LENGTH`
    characters: the greatest name before ``name`` shares all but its last
    character, has a smaller one there, and any tail, which :data:`HIGH`
    repeated bounds. Nothing sorts below an empty name: that is a
    ValueError, which ends a walk as "no key left" does (only a floor key,
    below every real one, has an empty name).
    """
    if key == "":
        raise ValueError("nothing sorts below an empty name")
    if isinstance(key, str):
        return key[:-1] + chr(ord(key[-1]) - 1) + HIGH * MAX_NAME_LENGTH
    return (*key[:-1], below(key[-1]))


def ascending(tree: Any, bound: Any = None) -> Iterator[Any]:
    """Keys of ``tree`` at or above ``bound`` (all if None), least first.

    Stepped with ``minKey``, one descent from the root per key, rather than
    iterated as a range: a range also finds its far end, which loads a
    second path of nodes.
    """
    try:
        key = tree.minKey() if bound is None else tree.minKey(bound)
        while True:
            yield key
            key = tree.minKey(above(key))
    except ValueError:  # no key (left) at or above the bound
        return


def descending(tree: Any, bound: Any = None) -> Iterator[Any]:
    """Keys of ``tree`` at or below ``bound`` (all if None), greatest
    first. A BTree cannot walk backwards: each step is one ``maxKey``."""
    try:
        key = tree.maxKey() if bound is None else tree.maxKey(bound)
        while True:
            yield key
            key = tree.maxKey(below(key))
    except ValueError:  # no key (left) at or below the bound
        return


def walk(
    trees: Iterable[Any],
    reverse: bool = False,
    after: Any = None,
    start: Any = None,
) -> Iterator[Any]:
    """The keys of several trees merged in order (greatest first if
    ``reverse``): after the key ``after`` if given, else from ``start``
    (inclusive), else from the first. Lazy: a page reads a page."""
    if reverse:
        bound = below(after) if after is not None else start
        return heapq.merge(*(descending(t, bound) for t in trees), reverse=True)
    bound = above(after) if after is not None else start
    return heapq.merge(*(ascending(t, bound) for t in trees))


def page_of(keys: Iterator[Any], limit: int) -> tuple[list[Any], Any]:
    """The first ``limit`` keys, and the last of them if more follow (the
    next page's ``after``), else None."""
    found = list(islice(keys, limit + 1))
    if len(found) > limit:
        return found[:limit], found[limit - 1]
    return found, None
