"""The one container class every folder in the tree is built on."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from .events import ObjectAdded, ObjectRemoved, notify_object_event
from .interfaces import IFolder
from .shards import tree_for

MAX_NAME_LENGTH = 255


class WideTree(OOBTree):
    """An OOBTree whose buckets hold up to 500 items, not 30.

    Every bucket split rewrites the node above it, and under ZODB every
    transaction that changed anything below that node at the same time
    then conflicts; under RelStorage, one that only wrote below it also
    fails to lock it while the split commits. A container many requests
    add to at once (accounts, codes, the email and look-alike indexes)
    splits sixteen times less often this way; a write rewrites a bucket
    of some kilobytes, which costs little. The size is read at each
    split, so trees made with smaller buckets (120, before) grow to it.
    """

    max_leaf_size = 500
    max_internal_size = 500


def widened(tree: Any, kind: type = WideTree) -> Any:
    """``tree`` as a ``kind``, a tree class of wider buckets (itself if it
    is one already): what an evolve step gives a tree made before. Trees
    spread since (a tuple) were made wide, by a later step that an older
    one's rebuild can run ahead of: they stay as they are."""
    if isinstance(tree, kind | tuple):
        return tree
    wide = kind()
    wide.update(tree)
    return wide


class FolderNameError(ValueError):
    """A name a folder refuses; the message is meant for a person."""


def check_name(name: Any, folder: Folder | None = None) -> str:
    """Return ``name`` if a folder may hold an item under it, else raise.

    The rules keep every name usable as one URL path segment that traversal
    resolves to the item itself, not to a view or a parent.
    """
    if not isinstance(name, str):
        raise FolderNameError("A name must be text.")
    if not name:
        raise FolderNameError("A name may not be empty.")
    if "/" in name:
        raise FolderNameError("A name may not contain '/'.")
    if name.startswith("@@"):
        raise FolderNameError("A name may not start with '@@' (that means a view).")
    if name[0] in ".+":
        raise FolderNameError("A name may not start with '.' or '+'.")
    if len(name) > MAX_NAME_LENGTH:
        raise FolderNameError(
            f"A name may be at most {MAX_NAME_LENGTH} characters long."
        )
    if not name.isprintable():
        raise FolderNameError("A name may not contain control characters.")
    if folder is not None and name in folder:
        raise FolderNameError(f"The name {name!r} is already taken.")
    return name


@implementer(IFolder)
class Folder(Persistent):
    """A container backed by one or more wide BTrees.

    The length is a ``BTrees.Length`` so that two transactions adding items
    at once do not conflict on the count.
    """

    __name__: str | None = None
    __parent__: Any = None
    title = ""

    shards = 1
    """How many trees hold the items. A container that a crowd adds to
    sets more: each item goes to the tree its name picks
    (:func:`~wingapp.shards.shard`), so a bucket split, which every
    concurrent add to the same tree must wait for, holds up only the adds
    to that tree. Names that sort together (a sign-up campaign's
    ``team-001``, ``team-002``...) then land in different trees, instead
    of all at the end of one."""

    def __init__(self, title: str = "") -> None:
        self.data = new_trees(self.shards)
        self._num_items = Length()
        self.title = title

    @property
    def trees(self) -> tuple[WideTree, ...]:
        """The trees that hold the items: one, or a spread of them."""
        return self.data if isinstance(self.data, tuple) else (self.data,)

    def _tree(self, name: str) -> WideTree:
        return tree_for(self.data, name)

    def __getitem__(self, name: str) -> Any:
        return self._tree(name)[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self._tree(name).get(name, default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._tree(name)

    def __len__(self) -> int:
        return self._num_items()

    def __bool__(self) -> bool:
        # An empty folder is still a folder; never let `if folder:` lie.
        return True

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def keys(self) -> Iterator[str]:
        """The names in order (merged across the trees: lazily)."""
        return heapq.merge(*(tree.keys() for tree in self.trees))

    def values(self) -> Iterator[Any]:
        return (value for _, value in self.items())

    def items(self) -> Iterator[tuple[str, Any]]:
        # By name only: two items never share one, and values do not sort.
        return heapq.merge(*(tree.items() for tree in self.trees), key=itemgetter(0))

    def add(self, name: str, other: Any, send_events: bool = True) -> Any:
        """Add ``other`` under ``name``, tell it where it lives, and send
        :class:`~wingapp.events.ObjectAdded` so indexes can follow."""
        check_name(name, self)
        other.__name__ = name
        other.__parent__ = self
        self._tree(name)[name] = other
        self._num_items.change(1)
        if send_events:
            notify_object_event(ObjectAdded(other, self, name))
        return other

    def remove(self, name: str, send_events: bool = True) -> Any:
        other = self._tree(name).pop(name)
        self._num_items.change(-1)
        if send_events:
            # Sent while the object still names its parent, so a subscriber
            # can tell where it was.
            notify_object_event(ObjectRemoved(other, self, name))
        other.__parent__ = None
        return other


def new_trees(count: int) -> Any:
    """One wide tree, or a tuple of ``count``: what a folder holds its
    items in."""
    if count == 1:
        return WideTree()
    return tuple(WideTree() for _ in range(count))
