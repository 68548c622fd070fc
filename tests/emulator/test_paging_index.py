"""get_by_calendar pages through a per-calendar index (O(page), not O(all
schedules)); it must list exactly what a scan of every schedule would."""

from __future__ import annotations

from typing import Any

from wesync.emulator.state import State


def scan(state: State, cal_id: str) -> list[Any]:
    return [rec for rec in state.schedules.values() if rec["data"]["cal_id"] == cal_id]


def add(state: State, sid: str, cal_id: str) -> None:
    state.schedules[sid] = {"app": "a", "sequence": 0, "data": {"schedule_id": sid,
                                                                 "cal_id": cal_id}}


def test_index_follows_adds_edits_and_clears() -> None:
    state = State(apps={})
    assert state.calendar_schedules("A") == []
    for i in range(10):
        add(state, f"s{i}", "A" if i % 3 else "B")
        for cal in ("A", "B", "C"):
            assert state.calendar_schedules(cal) == scan(state, cal)
    # records are shared: an edit shows without a rebuild
    state.schedules["s1"]["data"]["summary"] = "edited"
    assert state.calendar_schedules("A")[0]["data"]["summary"] == "edited"
    # cleared and refilled with as many schedules: the index is rebuilt
    count = len(state.schedules)
    state.schedules.clear()
    assert state.calendar_schedules("A") == []
    for i in range(count):
        add(state, f"t{i}", "A")
    assert [r["data"]["schedule_id"] for r in state.calendar_schedules("A")] == [
        f"t{i}" for i in range(count)
    ]
    assert state.calendar_schedules("B") == []


def test_index_is_not_persisted() -> None:
    state = State(apps={})
    add(state, "s0", "A")
    state.calendar_schedules("A")
    assert set(state.to_json()) == {
        "version", "apps", "calendars", "schedules", "tokens", "clock_offset"
    }
    assert State.from_json(state.to_json()).calendar_schedules("A") == scan(state, "A")


def test_copy_json_is_a_deep_copy() -> None:
    from wesync.emulator.schedules import copy_json

    data = {"a": [1, {"b": [2, 3]}], "c": {"d": None, "e": "x"}, "f": 1.5, "g": True}
    copied = copy_json(data)
    assert copied == data
    copied["a"][1]["b"].append(4)
    copied["c"]["e"] = "y"
    assert data == {"a": [1, {"b": [2, 3]}], "c": {"d": None, "e": "x"}, "f": 1.5, "g": True}
