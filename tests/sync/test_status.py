"""The status database: round trips, modes, intents, schema version."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from wesync.errors import StatusError
from wesync.sync.actions import Side
from wesync.sync.status import Intent, SlotStatus, StatusDB, StatusItem, status_path


def item(uid: str = "u", sid: str = "s1") -> StatusItem:
    return StatusItem(
        uid=uid,
        href=f"{uid}.ics",
        local_etag="1;2;3",
        summary="Standup",
        slots={"": SlotStatus(slot="", schedule_id=sid, local_digest="l", remote_digest="r")},
    )


def test_round_trip_and_private_modes(tmp_path: Path) -> None:
    path = status_path(tmp_path / "state", "team")
    with StatusDB(path) as db, db.transaction():
        db.put(item())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with StatusDB(path) as db:
        loaded = db.load()
    assert loaded == {"u": item()}
    assert loaded["u"].schedule_ids() == {"": "s1"}


def test_a_schedule_belongs_to_one_slot(tmp_path: Path) -> None:
    with StatusDB(tmp_path / "p.sqlite") as db:
        db.put(item("a", "s1"))
        db.put(item("b", "s1"))
        items = db.load()
        assert items["a"].schedule_ids() == {}
        assert items["b"].schedule_ids() == {"": "s1"}
        db.map_slot("a", "R:5", "s1")
        items = db.load()
        assert items["a"].schedule_ids() == {"R:5": "s1"}
        assert items["b"].schedule_ids() == {}


def test_transaction_rolls_back(tmp_path: Path) -> None:
    with StatusDB(tmp_path / "p.sqlite") as db:
        with pytest.raises(RuntimeError), db.transaction():
            db.put(item())
            raise RuntimeError("boom")
        assert db.load() == {}


def test_pending_and_intents(tmp_path: Path) -> None:
    with StatusDB(tmp_path / "p.sqlite") as db:
        db.set_pending("new", Side.REMOTE)
        i = db.add_intent(Intent(uid="new", slot="", op="add", summary="x", start_time=1))
        assert db.load()["new"].pending is Side.REMOTE
        assert [x.id for x in db.intents()] == [i]
        assert db.intents()[0].start_time == 1
        db.clear_intent(i)
        assert db.intents() == []
        db.set_pending("new", None)
        assert db.load()["new"].pending is None


def test_meta_and_conflicts(tmp_path: Path) -> None:
    with StatusDB(tmp_path / "p.sqlite") as db:
        db.set_json("counts", {"a": 1})
        assert db.get_json("counts") == {"a": 1}
        db.log_conflict("u", "keep-both")
        assert [c[:2] for c in db.conflicts_since(0)] == [("u", "keep-both")]


def test_readonly_never_creates_a_file(tmp_path: Path) -> None:
    path = tmp_path / "none" / "p.sqlite"
    with StatusDB(path, readonly=True) as db:
        assert db.load() == {}
        with pytest.raises(StatusError):
            db.put(item())
    assert not path.parent.exists()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    StatusDB(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StatusError, match="newer"):
        StatusDB(path)
