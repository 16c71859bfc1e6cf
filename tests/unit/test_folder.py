from __future__ import annotations

import re

import pytest
from BTrees.Length import Length

from wingapp.folder import MAX_NAME_LENGTH, Folder, FolderNameError, check_name
from wingapp.shards import shard


class Item:
    pass


def filled(n: int) -> Folder:
    folder = Folder()
    for i in range(n):
        folder.add(f"item-{i:03d}", Item())
    return folder


def test_add_sets_name_and_parent_and_length():
    folder = Folder(title="Things")
    item = folder.add("one", Item())
    assert item.__name__ == "one"
    assert item.__parent__ is folder
    assert folder["one"] is item
    assert len(folder) == 1
    assert isinstance(folder._num_items, Length)
    assert "one" in folder
    assert folder.get("two") is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "empty"),
        ("a/b", "'/'"),
        ("@@view", "'@@'"),
        (".hidden", "'.' or '+'"),
        ("+add", "'.' or '+'"),
        ("x" * (MAX_NAME_LENGTH + 1), "at most"),
        ("tab\there", "control"),
        (42, "text"),
    ],
)
def test_bad_names_are_refused_with_a_reason(name, message):
    folder = Folder()
    with pytest.raises(FolderNameError, match=re.escape(message)):
        folder.add(name, Item())
    assert len(folder) == 0


def test_duplicate_name_is_refused_and_keeps_the_first():
    folder = Folder()
    first = folder.add("same", Item())
    with pytest.raises(FolderNameError, match="already taken"):
        folder.add("same", Item())
    assert folder["same"] is first
    assert len(folder) == 1


def test_longest_allowed_name_is_accepted():
    assert check_name("x" * MAX_NAME_LENGTH) == "x" * MAX_NAME_LENGTH


def test_missing_name_raises_key_error():
    with pytest.raises(KeyError):
        Folder()["nope"]


def test_iteration_is_in_name_order_whatever_the_insertion_order():
    folder = Folder()
    for name in ["pear", "apple", "fig"]:
        folder.add(name, Item())
    assert list(folder) == ["apple", "fig", "pear"]
    assert list(folder.keys()) == ["apple", "fig", "pear"]
    assert [n for n, _ in folder.items()] == ["apple", "fig", "pear"]
    assert [v.__name__ for v in folder.values()] == ["apple", "fig", "pear"]


def test_remove_forgets_the_item_and_the_count():
    folder = filled(3)
    item = folder.remove("item-001")
    assert item.__parent__ is None
    assert list(folder) == ["item-000", "item-002"]
    assert len(folder) == 2
    with pytest.raises(KeyError):
        folder.remove("item-001")
    assert len(folder) == 2


def test_empty_folder_is_truthy_and_contains_only_strings():
    folder = Folder()
    assert folder
    assert 3 not in folder


class Spread(Folder):
    shards = 16


def test_a_spread_folder_holds_each_item_in_the_tree_its_name_picks():
    folder = Spread()
    names = [f"item-{i:03d}" for i in range(100)]
    for name in reversed(names):
        folder.add(name, Item())
    assert len(folder.trees) == 16
    for name in names:
        (holder,) = [tree for tree in folder.trees if name in tree]
        assert holder is folder.trees[shard(name, 16)]
    # Read as one folder: in name order, each item where it was put.
    assert list(folder) == names
    assert list(folder.keys()) == names
    assert [name for name, _ in folder.items()] == names
    assert [item.__name__ for item in folder.values()] == names
    assert folder["item-042"] is folder.get("item-042")
    assert folder.get("missing") is None
    assert "item-042" in folder and "missing" not in folder
    assert len(folder) == 100


def test_a_spread_folder_removes_from_the_tree_that_holds_the_item():
    folder = Spread()
    for i in range(20):
        folder.add(f"item-{i:03d}", Item())
    removed = folder.remove("item-007")
    assert removed.__parent__ is None
    assert "item-007" not in folder
    assert all("item-007" not in tree for tree in folder.trees)
    assert len(folder) == 19
    with pytest.raises(KeyError):
        folder["item-007"]


def test_a_plain_folder_holds_its_items_in_one_tree():
    folder = filled(3)
    assert folder.trees == (folder.data,)
    assert [name for name, _ in folder.items()] == ["item-000", "item-001", "item-002"]
