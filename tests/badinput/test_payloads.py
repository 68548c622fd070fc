"""WeCom answers with fields wesync does not know, lacks, or cannot read.

The emulator validates what clients send, so the odd schedules are made by
editing its state through the Python object (`emulator_server.emulator`),
as if WeCom had grown a field or sent a broken one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.badinput.helpers import Pair, ics, vevent

#: 2027-01-05 12:00 +08:00
NOON = 1799121600
LUNCH = ics(vevent("lunch@example.com", "Lunch", "20270106T120000"))


@pytest.fixture
def pair(emulator_server: Any, tmp_path: Path) -> Pair:
    return Pair(emulator_server, tmp_path)


def _add(pair: Pair, summary: str, **fields: Any) -> str:
    body = {
        "cal_id": pair.cal_id,
        "summary": summary,
        "start_time": NOON,
        "end_time": NOON + 3600,
        **fields,
    }
    answer = pair.server.call("/cgi-bin/oa/schedule/add", {"schedule": body})
    assert answer["errcode"] == 0, answer
    sid: str = answer["schedule_id"]
    return sid


def _data(pair: Pair, sid: str) -> dict[str, Any]:
    data: dict[str, Any] = pair.server.emulator.state.schedules[sid]["data"]
    return data


def _capture_bodies(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Record the JSON body of every API call the emulator answers."""
    seen: list[tuple[str, Any]] = []
    emulator = pair.server.emulator
    original = emulator.handle

    def handle(method: str, path: str, query: Any, body: bytes) -> Any:
        if body.strip():
            seen.append((path, json.loads(body)))
        return original(method, path, query, body)

    monkeypatch.setattr(emulator, "handle", handle)
    return seen


def _file_of(pair: Pair, summary: str) -> Path:
    for path in pair.local.glob("*.ics"):
        if f"SUMMARY:{summary}".encode() in path.read_bytes():
            return path
    raise AssertionError(f"no file holds {summary!r}")


UNKNOWN = {"x_meeting_room": {"room_id": "r-17", "floor": 3}, "color_tag": "#00FF00"}


def test_unknown_fields_do_not_break_a_sync(pair: Pair) -> None:
    sid = _add(pair, "Team sync")
    _data(pair, sid).update(UNKNOWN)
    pair.put("lunch.ics", LUNCH)
    code, report, stderr = pair.sync()
    assert code == 0, (report, stderr)
    assert b"SUMMARY:Team sync" in _file_of(pair, "Team sync").read_bytes()
    assert pair.summaries() == ["Lunch", "Team sync"]
    pair.server.admin("DELETE", "requests")
    assert pair.sync()[0] == 0
    writes = [
        r
        for r in pair.server.admin("GET", "requests")["requests"]
        if r["path"].endswith(("/add", "/update", "/del"))
    ]
    assert writes == []


def test_unknown_fields_survive_a_read_modify_write(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = _add(pair, "Team sync")
    _data(pair, sid).update(UNKNOWN)
    assert pair.sync()[0] == 0
    path = _file_of(pair, "Team sync")
    pair.put(path.name, path.read_bytes().replace(b"SUMMARY:Team sync", b"SUMMARY:Team sync!"))
    seen = _capture_bodies(pair, monkeypatch)
    code, report, stderr = pair.sync()
    assert code == 0, (report, stderr)
    updates = [b["schedule"] for p, b in seen if p.endswith("/schedule/update")]
    assert updates and updates[-1]["summary"] == "Team sync!"
    for key, value in UNKNOWN.items():
        assert updates[-1].get(key) == value, (key, updates[-1])


def _rewrite_replies(pair: Pair, monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """Pass every schedule the emulator answers with (get, get_by_calendar) through
    `change`, leaving its state alone: WeCom sending less than the emulator keeps."""
    emulator = pair.server.emulator
    original = emulator.handle

    def handle(method: str, path: str, query: Any, body: bytes) -> Any:
        reply = original(method, path, query, body)
        for schedule in reply.payload.get("schedule_list", []):
            change(schedule)
        return reply

    monkeypatch.setattr(emulator, "handle", handle)


def _strip_optional(schedule: dict[str, Any]) -> None:
    for key in ("description", "location", "admins", "attendees"):
        schedule.pop(key, None)
    for key in (
        "remind_before_event_secs",
        "is_custom_repeat",
        "repeat_day_of_week",
        "repeat_day_of_month",
        "repeat_interval",
        "repeat_until",
        "timezone",
    ):
        schedule["reminders"].pop(key, None)


def test_missing_optional_fields(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    _add(pair, "Bare")
    _rewrite_replies(pair, monkeypatch, _strip_optional)
    pair.put("lunch.ics", LUNCH)
    code, report, stderr = pair.sync()
    assert code == 0, (report, stderr)
    assert pair.summaries() == ["Bare", "Lunch"]
    text = _file_of(pair, "Bare").read_bytes()
    assert b"DTSTART" in text and b"VALUE=DATE" not in text
    pair.server.admin("DELETE", "requests")
    assert pair.sync()[0] == 0
    assert [
        r
        for r in pair.server.admin("GET", "requests")["requests"]
        if r["path"].endswith(("/add", "/update", "/del"))
    ] == []
    # a read-modify-write of the bare schedule: it stays the one schedule, updated
    pair.put(_file_of(pair, "Bare").name, text.replace(b"SUMMARY:Bare", b"SUMMARY:Bare edited"))
    code, report, stderr = pair.sync()
    assert code == 0, (report, stderr)
    assert pair.summaries() == ["Bare edited", "Lunch"]


def test_whole_day_flag_missing_even_from_get(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    """DESIGN.md: the absence of is_whole_day must never be read as 0."""
    sid = _add(
        pair, "All day", start_time=NOON - 4 * 3600, end_time=NOON + 20 * 3600 - 1, is_whole_day=1
    )
    _rewrite_replies(pair, monkeypatch, lambda s: s.pop("is_whole_day", None))
    pair.put("lunch.ics", LUNCH)
    code, report, stderr = pair.sync()
    assert "Lunch" in pair.summaries()
    files = {p.name for p in pair.local.glob("*.ics")}
    if code == 0 and len(files) == 2:
        # taken in: then it must not have turned into a timed event
        text = _file_of(pair, "All day").read_bytes()
        assert b"VALUE=DATE" in text, text
    else:
        assert sid in stderr or sid in json.dumps(report), (report, stderr)
        assert files == {"lunch.ics"}


#: how a field of one schedule is broken -> what the message must name besides its id
BROKEN = {
    "start_time-text": lambda d: d.update(start_time="soon"),
    "start_time-missing": lambda d: d.pop("start_time"),
    "summary-number": lambda d: d.update(summary=42),
    "end-before-start": lambda d: d.update(end_time=d["start_time"] - 7200),
    "attendees-not-a-list": lambda d: d.update(attendees="zhangsan"),
}


@pytest.mark.parametrize(
    "breakage",
    [
        "start_time-text",
        "start_time-missing",
        "summary-number",
        "end-before-start",
        "attendees-not-a-list",
    ],
)
def test_broken_schedule_is_reported_by_id_and_the_rest_syncs(pair: Pair, breakage: str) -> None:
    bad = _add(pair, "Broken")
    _add(pair, "Fine")
    BROKEN[breakage](_data(pair, bad))
    pair.put("lunch.ics", LUNCH)
    code, report, stderr = pair.sync()
    assert code in (0, 1)
    assert bad in f"{stderr} {json.dumps(report)}", (report, stderr)
    # the rest of the calendar synced (not pair.summaries(): it sorts, and 42 is no str)
    assert "Lunch" in [s.get("summary") for s in pair.schedules()]
    assert b"SUMMARY:Fine" in _file_of(pair, "Fine").read_bytes()
    # and nothing was written back over the broken schedule
    assert _data(pair, bad)["summary"] in ("Broken", 42)
