"""A WeCom schedule that cannot be read is reported by id and left alone: never
deleted on either side, never counted as absent, and the rest of the calendar
syncs (wesync.sync.listing, wesync.wecom.models, wesync.translate.remote)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.badinput.helpers import Pair, ics, vevent
from tests.sync.helpers import know_sequence
from wesync.translate.remote import UnreadableSchedule, draft_from_schedule
from wesync.wecom.client import _parse_schedule
from wesync.wecom.errors import WeComTransportError
from wesync.wecom.models import BrokenSchedule, Reminders, Schedule, ScheduleList, broken_of

NOON = 1799121600  #: 2027-01-05 12:00 +08:00


@pytest.fixture
def pair(emulator_server: Any, tmp_path: Path) -> Pair:
    return Pair(emulator_server, tmp_path)


def _add(pair: Pair, summary: str, **fields: Any) -> str:
    body = {"cal_id": pair.cal_id, "summary": summary, "start_time": NOON,
            "end_time": NOON + 3600, **fields}  # fmt: skip
    answer = pair.server.call("/cgi-bin/oa/schedule/add", {"schedule": body})
    assert answer["errcode"] == 0, answer
    sid: str = answer["schedule_id"]
    return sid


def _files(pair: Pair) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in pair.local.glob("*.ics")}


def _file_of(pair: Pair, summary: str) -> Path:
    for path in pair.local.glob("*.ics"):
        if f"SUMMARY:{summary}".encode() in path.read_bytes():
            return path
    raise AssertionError(f"no file holds {summary!r}")


def _writes(pair: Pair) -> list[str]:
    return [
        r["path"]
        for r in pair.server.admin("GET", "requests")["requests"]
        if r["path"].endswith(("/add", "/update", "/del"))
    ]


def _reported(sid: str, report: Any, stderr: str) -> bool:
    return sid in f"{stderr} {json.dumps(report)}"


def test_a_known_schedule_turned_unreadable_is_held_not_deleted(pair: Pair) -> None:
    bad = _add(pair, "Standup")
    _add(pair, "Review")
    know_sequence(pair.tmp / "state", "team")  # the calls below are all there is
    assert pair.sync()[0] == 0
    standup = _file_of(pair, "Standup")
    pair.server.emulator.state.schedules[bad]["data"]["start_time"] = "soon"
    # and a local edit of the same event: it waits, it does not overwrite WeCom
    pair.put(standup.name, standup.read_bytes().replace(b"SUMMARY:Standup", b"SUMMARY:Standup!"))
    pair.put("lunch.ics", ics(vevent("lunch@example.com", "Lunch", "20270106T120000")))
    pair.server.admin("DELETE", "requests")
    code, report, stderr = pair.sync()
    assert code in (0, 1) and _reported(bad, report, stderr), (report, stderr)
    assert standup.exists() and b"SUMMARY:Standup!" in standup.read_bytes()
    assert _writes(pair) == ["/cgi-bin/oa/schedule/add"]  # Lunch only
    assert pair.server.emulator.state.schedules[bad]["data"]["start_time"] == "soon"
    # readable again: the held edit goes through, as one update of the same schedule
    pair.server.emulator.state.schedules[bad]["data"]["start_time"] = NOON
    pair.server.admin("DELETE", "requests")
    code, report, stderr = pair.sync()
    assert code == 0, (report, stderr)
    assert pair.server.emulator.state.schedules[bad]["data"]["summary"] == "Standup!"
    assert _writes(pair) == ["/cgi-bin/oa/schedule/update"]


def test_whole_day_missing_from_get_on_a_known_schedule_deletes_nothing(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = _add(pair, "Holiday", start_time=NOON - 4 * 3600, end_time=NOON + 20 * 3600 - 1,
               is_whole_day=1)  # fmt: skip
    assert pair.sync()[0] == 0
    before = _files(pair)
    assert b"VALUE=DATE" in _file_of(pair, "Holiday").read_bytes()
    pair.server.emulator.state.schedules[sid]["data"]["summary"] = "Holiday (moved)"
    emulator = pair.server.emulator
    original = emulator.handle

    def handle(method: str, path: str, query: Any, body: bytes) -> Any:
        reply = original(method, path, query, body)
        for schedule in reply.payload.get("schedule_list", []):
            schedule.pop("is_whole_day", None)
        return reply

    monkeypatch.setattr(emulator, "handle", handle)
    pair.server.admin("DELETE", "requests")
    code, report, stderr = pair.sync()
    assert code in (0, 1) and _reported(sid, report, stderr), (report, stderr)
    assert "is_whole_day" in stderr
    assert _files(pair) == before  # neither deleted nor rewritten as a timed event
    assert _writes(pair) == []


def test_draft_from_schedule_names_the_schedule_and_the_field() -> None:
    good = Schedule(schedule_id="s9", start_time=NOON, end_time=NOON + 60, is_whole_day=0,
                    reminders=Reminders(remind_time_diffs=()))  # fmt: skip
    assert draft_from_schedule(good).end_time == NOON + 60
    cases = {
        "start_time": good.with_changes(start_time=None),
        "end_time": good.with_changes(end_time=NOON - 1),
        "is_whole_day": good.with_changes(is_whole_day=None),
    }
    for field, schedule in cases.items():
        with pytest.raises(UnreadableSchedule, match=f"s9: {field}") as caught:
            draft_from_schedule(schedule)
        assert caught.value.schedule_id == "s9" and caught.value.field == field
    with pytest.raises(UnreadableSchedule, match="is_whole_day is impossible"):
        draft_from_schedule(good.with_changes(is_whole_day=2))


BASE = {"schedule_id": "s1", "start_time": NOON, "end_time": NOON + 60, "is_whole_day": 0}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reminders": {"remind_time_diffs": [0, None]}}, "remind_time_diffs"),
        ({"reminders": {"exclude_time_list": [{"start_time": None}]}}, "exclude_time_list"),
        ({"attendees": "zhangsan"}, "attendees"),
        ({"attendees": [{"userid": 7}]}, "attendees"),
        ({"admins": [None]}, "admins"),
        ({"reminders": [1]}, "reminders"),
        ({"summary": 42}, "summary"),
        ({"start_time": "soon"}, "start_time"),
    ],
)
def test_a_field_of_the_wrong_type_is_an_error_naming_it(change: Any, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Schedule.from_api({**BASE, **change})
    broken = _parse_schedule("/p", {**BASE, **change})
    assert isinstance(broken, BrokenSchedule) and broken.schedule_id == "s1"
    assert field in broken.error


def test_a_broken_schedule_without_an_id_still_fails_the_answer() -> None:
    with pytest.raises(WeComTransportError, match="start_time"):
        _parse_schedule("/p", {**BASE, "schedule_id": None, "start_time": "soon"})
    with pytest.raises(WeComTransportError):
        _parse_schedule("/p", ["not an object"])
    listed = ScheduleList([Schedule.from_api(BASE)], [BrokenSchedule("s2", "summary: ...")])
    assert [s.schedule_id for s in listed] == ["s1"]
    assert broken_of(listed) == [BrokenSchedule("s2", "summary: ...")]
    assert broken_of([Schedule.from_api(BASE)]) == []
