"""The Codes container: its indexes, paging and filtering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import transaction
from BTrees.OOBTree import OOTreeSet
from ZODB import DB
from ZODB.MappingStorage import MappingStorage

from wingapp.codes.models import Code, Codes
from wingapp.folder import Folder

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make(owner="alice", purpose="sign-in", minutes=0, state="pending"):
    created = START + timedelta(minutes=minutes)
    code = Code(
        purpose=purpose,
        owner=owner,
        binding="b",
        digest="d",
        created=created,
        expires=created + timedelta(minutes=10),
    )
    code.state = state
    return code


@pytest.fixture
def codes():
    codes = Codes()
    for i in range(30):
        owner = "alice" if i % 2 else "bob"
        purpose = "sign-in" if i % 3 else "reset-password"
        codes.add(f"id{i:02d}", make(owner, purpose, minutes=i))
    return codes


def test_a_code_needs_a_known_purpose():
    with pytest.raises(ValueError, match="Unknown code purpose"):
        make(purpose="anything")


def test_newest_code_per_owner_and_purpose(codes):
    assert codes.newest_code("alice", "sign-in").__name__ == "id29"
    assert codes.newest_code("bob", "reset-password").__name__ == "id24"
    assert codes.newest_code("carol", "sign-in") is None


def test_unfiltered_pages_go_newest_first(codes):
    now = START
    page, more = codes.select(now, offset=0, limit=10)
    assert [c.__name__ for c in page] == [f"id{i:02d}" for i in range(29, 19, -1)]
    assert more is True
    page, more = codes.select(now, offset=20, limit=10)
    assert [c.__name__ for c in page][-1] == "id00"
    assert more is False
    assert codes.select(now, offset=30, limit=10) == ([], False)


def test_filters_by_purpose_and_by_state_as_of_now(codes):
    codes["id28"].state = "used"
    now = START + timedelta(minutes=25)  # codes made before minute 15 expired
    used, _ = codes.select(now, state="used")
    assert [c.__name__ for c in used] == ["id28"]
    expired, more = codes.select(now, state="expired", limit=100)
    assert [c.__name__ for c in expired] == [f"id{i:02d}" for i in range(15, -1, -1)]
    assert more is False
    resets, _ = codes.select(now, purpose="reset-password", state="pending")
    assert [c.__name__ for c in resets] == ["id27", "id24", "id21", "id18"]
    page, more = codes.select(now, purpose="reset-password", offset=2, limit=2)
    assert [c.__name__ for c in page] == ["id21", "id18"]
    assert more is True


def test_removing_keeps_the_indexes_right(codes):
    codes.remove("id29")
    assert codes.newest_code("alice", "sign-in") is None
    assert "id29" not in [c.__name__ for c in codes.select(START, limit=100)[0]]
    codes.remove("id01")  # not the newest of its owner and purpose
    assert codes.newest_code("alice", "reset-password").__name__ == "id27"
    assert len(codes) == 28
    assert len(codes.select(START, limit=100)[0]) == 28


def test_expired_before_is_inclusive(codes):
    cutoff = START + timedelta(minutes=12)  # id02 expires at exactly 12
    assert codes.expired_before(cutoff) == ["id02", "id01", "id00"]


def test_reindex_brings_an_old_container_up_to_date():
    # A container from before the indexes: a plain folder's state.
    old = Codes()
    Folder.add(old, "a", make(minutes=1))
    Folder.add(old, "b", make(minutes=2))
    del old.newest, old.timelines
    old.reindex()
    assert old.newest_code("alice", "sign-in").__name__ == "b"
    assert [c.__name__ for c in old.newest_first()] == ["b", "a"]


def test_reindex_spreads_the_one_timeline_of_an_older_container():
    from wingapp.codes.evolve import reindex_codes

    old = Codes()
    for i in range(20):
        Folder.add(old, f"c{i:02d}", make(minutes=i))
    # Before the timeline was spread: one set of every code.
    del old.timelines
    old.timeline = OOTreeSet((-c.expires.timestamp(), n) for n, c in old.items())
    reindex_codes({"codes": old})
    assert not hasattr(old, "timeline")
    assert sum(len(t) for t in old.timelines) == 20
    assert len([t for t in old.timelines if len(t)]) > 1
    assert [c.__name__ for c in old.newest_first()] == [
        f"c{i:02d}" for i in range(19, -1, -1)
    ]


def test_codes_and_indexes_survive_a_commit():
    db = DB(MappingStorage())
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    with tm:
        conn.root()["codes"] = codes = Codes()
        codes.add("x1", make())
    other = db.open(transaction_manager=transaction.TransactionManager(explicit=True))
    with other.transaction_manager:
        loaded = other.root()["codes"]
        assert loaded.newest_code("alice", "sign-in").expires == START + timedelta(
            minutes=10
        )
        assert [c.__name__ for c in loaded.newest_first()] == ["x1"]
    other.close()
    conn.close()
    db.close()
