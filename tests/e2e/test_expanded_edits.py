"""Two-way editing of an event on the `expand` fallback, end to end.

A Berlin meeting at a fixed wall time across daylight saving cannot be one WeCom
series (WeCom's offsets are fixed), so it reaches WeCom as one schedule per
occurrence. WeCom's users edit and delete those one at a time; each edit must
come home as a RECURRENCE-ID override, each deletion as an EXDATE.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tests.e2e.conftest import Env
from tests.sync.helpers import writes
from wesync.config import ConflictPolicy

BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = 60


def _meeting(byday: str = "MO", summary: str = "Standup", extra: str = "") -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//test//test//EN",
        "BEGIN:VEVENT",
        "UID:standup@example.com",
        "DTSTAMP:20261101T000000Z",
        f"SUMMARY:{summary}",
        "CATEGORIES:TEAM",
        "DTSTART;TZID=Europe/Berlin:20261102T093000",
        "DTEND;TZID=Europe/Berlin:20261102T100000",
        f"RRULE:FREQ=WEEKLY;BYDAY={byday}",
        *([extra] if extra else []),
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


class ExpandedEnv(Env):
    """An Env whose syncs all run at one fixed `now` (the window does not move
    under the test's feet)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, expand_window_days=WINDOW, **kw)
        self.now = int(time.time())

    async def at_now(self, **kw: Any) -> Any:
        return await self.sync_ok(now=self.now, **kw)

    async def quiet(self) -> None:
        self.server.admin("DELETE", "requests")
        before = self.mtimes()
        report = await self.at_now()
        assert writes(self.server) == [], writes(self.server)
        assert self.mtimes() == before
        assert report.writes == 0 and report.conflicts == 0, report.to_json()

    def standups(self) -> list[dict[str, Any]]:
        return sorted(
            (s for s in self.schedules() if "Standup" in s.get("summary", "")),
            key=lambda s: s["start_time"],
        )

    def event(self) -> icalendar.Calendar:
        return icalendar.Calendar.from_ical(self.files()["standup.ics"])

    def wecom_update(self, schedule: dict[str, Any], **fields: Any) -> None:
        body = {k: schedule[k] for k in ("schedule_id", "summary", "start_time", "end_time")}
        answer = self.server.call("/cgi-bin/oa/schedule/update", {"schedule": {**body, **fields}})
        assert answer["errcode"] == 0, answer

    def wecom_delete(self, schedule: dict[str, Any]) -> None:
        answer = self.server.call(
            "/cgi-bin/oa/schedule/del", {"schedule_id": schedule["schedule_id"]}
        )
        assert answer["errcode"] == 0, answer


def _rfc_starts(cal: icalendar.Calendar, lo: int, hi: int) -> dict[int, str]:
    """The file's own occurrences in [lo, hi]: start -> summary, read with
    dateutil over the master's RRULE/EXDATE and the overrides (not wesync's code)."""
    from dateutil.rrule import rrulestr

    events = [c for c in cal.walk("VEVENT")]
    master = next(e for e in events if "RECURRENCE-ID" not in e)
    start = master["DTSTART"].dt
    rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)
    exdates: set[int] = set()
    for prop in (
        master.get("EXDATE", [])
        if isinstance(master.get("EXDATE"), list)
        else ([master["EXDATE"]] if "EXDATE" in master else [])
    ):
        exdates.update(int(v.dt.timestamp()) for v in prop.dts)
    out: dict[int, str] = {}
    for dt in rule.between(
        datetime.fromtimestamp(lo, BERLIN) - timedelta(days=1),
        datetime.fromtimestamp(hi, BERLIN),
        inc=True,
    ):
        t = int(dt.timestamp())
        if t not in exdates:
            out[t] = str(master["SUMMARY"])
    for ev in events:
        if "RECURRENCE-ID" in ev:
            rid = int(ev["RECURRENCE-ID"].dt.timestamp())
            out.pop(rid, None)
            if str(ev.get("STATUS", "")).upper() != "CANCELLED":
                out[int(ev["DTSTART"].dt.timestamp())] = str(ev["SUMMARY"])
    return {t: s for t, s in out.items() if lo - 86400 <= t <= hi}


@pytest.fixture
def xenv(emulator_server: Any, tmp_path: Path) -> ExpandedEnv:
    return ExpandedEnv(emulator_server, tmp_path)


async def test_wecom_edit_and_delete_of_occurrences_come_home(xenv: ExpandedEnv) -> None:
    env = xenv
    env.write("standup.ics", _meeting())
    report = await env.at_now()
    assert report.created_remote == 1
    first = env.standups()
    assert len(first) >= 8
    await env.quiet()

    moved, gone = first[2], first[4]
    env.wecom_update(
        moved,
        summary="Standup (moved, in room 2)",
        start_time=moved["start_time"] + 3600,
        end_time=moved["end_time"] + 3600,
    )
    env.wecom_delete(gone)
    report = await env.at_now()
    assert (report.updated_local, report.updated_remote, report.conflicts) == (1, 0, 0)
    assert report.ok

    cal = env.event()
    (override,) = [e for e in cal.walk("VEVENT") if "RECURRENCE-ID" in e]
    assert int(override["RECURRENCE-ID"].dt.timestamp()) == moved["start_time"]
    assert int(override["DTSTART"].dt.timestamp()) == moved["start_time"] + 3600
    assert str(override["SUMMARY"]) == "Standup (moved, in room 2)"
    assert str(override["DTSTART"].params["TZID"]) == "Europe/Berlin"
    assert "TEAM" in override.to_ical().decode()  # the master's other properties
    master = next(e for e in cal.walk("VEVENT") if "RECURRENCE-ID" not in e)
    assert str(master["RRULE"].to_ical().decode()) == "FREQ=WEEKLY;BYDAY=MO"
    assert [int(v.dt.timestamp()) for v in master["EXDATE"].dts] == [gone["start_time"]]

    # WeCom keeps the user's version, and the file's own expansion equals WeCom's
    now_wecom = {s["start_time"]: s["summary"] for s in env.standups()}
    assert now_wecom[moved["start_time"] + 3600] == "Standup (moved, in room 2)"
    assert gone["start_time"] not in now_wecom
    horizon = env.now + WINDOW * 86400
    assert _rfc_starts(cal, env.now, horizon) == now_wecom
    await env.quiet()


async def test_a_new_rule_keeps_the_overrides_and_untouched_schedules(xenv: ExpandedEnv) -> None:
    env = xenv
    env.write("standup.ics", _meeting())
    await env.at_now()
    first = env.standups()
    edited, gone = first[1], first[3]
    env.wecom_update(edited, summary="Standup (edited)")
    env.wecom_delete(gone)
    await env.at_now()
    ids_before = {s["start_time"]: s["schedule_id"] for s in env.standups()}

    # the file now meets on Wednesdays too: its overrides and EXDATEs stay
    data = env.files()["standup.ics"].replace(b"BYDAY=MO", b"BYDAY=MO,WE")
    env.write("standup.ics", data)
    env.server.admin("DELETE", "requests")
    report = await env.at_now()
    assert report.updated_remote == 1 and report.updated_local == 0
    calls = writes(env.server)
    assert calls and all(c.endswith("schedule/add") for c in calls), calls
    after = {s["start_time"]: s for s in env.standups()}
    for start, sid in ids_before.items():
        assert after[start]["schedule_id"] == sid  # not re-created
    assert after[edited["start_time"]]["summary"] == "Standup (edited)"
    assert gone["start_time"] not in after
    wednesdays = [t for t in after if datetime.fromtimestamp(t, BERLIN).isoweekday() == 3]
    assert len(wednesdays) >= 8
    assert _rfc_starts(env.event(), env.now, env.now + WINDOW * 86400) == {
        t: s["summary"] for t, s in after.items()
    }
    await env.quiet()


async def test_the_window_moves_while_wecom_deletes_one(xenv: ExpandedEnv) -> None:
    env = xenv
    env.write("standup.ics", _meeting())
    await env.at_now()
    first = env.standups()
    env.wecom_delete(first[-1])
    # three weeks later the window holds three more Mondays: a local change
    # (new occurrences) and a WeCom change (one deleted), with no conflict
    env.now += 21 * 86400
    report = await env.at_now()
    assert (report.updated_local, report.updated_remote, report.conflicts) == (1, 1, 0)
    starts = [s["start_time"] for s in env.standups()]
    assert first[-1]["start_time"] not in starts
    assert max(starts) > first[-1]["start_time"]
    master = next(e for e in env.event().walk("VEVENT") if "RECURRENCE-ID" not in e)
    assert [int(v.dt.timestamp()) for v in master["EXDATE"].dts] == [first[-1]["start_time"]]
    await env.quiet()


@pytest.mark.parametrize(
    ("policy", "winner", "copies"),
    [
        (ConflictPolicy.WECOM_WINS, "Standup (WeCom)", 0),
        (ConflictPolicy.LOCAL_WINS, "Daily", 0),
        (ConflictPolicy.KEEP_BOTH, "Standup (WeCom)", 1),
    ],
)
async def test_the_same_occurrence_changed_on_both_sides(
    emulator_server: Any, tmp_path: Path, policy: ConflictPolicy, winner: str, copies: int
) -> None:
    file_summary = wecom_summary = winner
    env = ExpandedEnv(emulator_server, tmp_path, conflict=policy)
    env.write("standup.ics", _meeting())
    await env.at_now()
    target = env.standups()[2]
    env.wecom_update(target, summary="Standup (WeCom)")
    env.write("standup.ics", _meeting(summary="Daily"))  # every occurrence changes locally
    report = await env.at_now()
    assert report.conflicts == 1
    assert report.created_local == copies
    at = target["start_time"]
    at_target = sorted(s["summary"] for s in env.schedules() if s["start_time"] == at)
    # keep-both: the file's version of that occurrence is an event of its own
    assert at_target == sorted([wecom_summary, *(["Daily"] * copies)])
    others = {s["summary"] for s in env.schedules() if s["start_time"] != target["start_time"]}
    assert others == {"Daily"}
    cal = env.event()
    overrides = [e for e in cal.walk("VEVENT") if "RECURRENCE-ID" in e]
    if file_summary == "Daily":
        assert overrides == []
    else:
        assert [str(e["SUMMARY"]) for e in overrides] == [file_summary]
    if copies:
        (copy,) = [n for n in env.files() if n != "standup.ics"]
        copy_cal = icalendar.Calendar.from_ical(env.files()[copy])
        (single,) = copy_cal.walk("VEVENT")
        assert str(single["SUMMARY"]) == "Daily" and "RRULE" not in single
        assert int(single["DTSTART"].dt.timestamp()) == target["start_time"]
    await env.quiet()


async def test_a_change_beats_a_deletion_for_one_occurrence(xenv: ExpandedEnv) -> None:
    env = xenv
    env.write("standup.ics", _meeting())
    await env.at_now()
    target = env.standups()[2]
    env.wecom_delete(target)
    env.write("standup.ics", _meeting(summary="Daily"))
    report = await env.at_now()
    assert report.conflicts == 0
    assert {s["start_time"]: s["summary"] for s in env.standups()} == {}
    summaries = {s["start_time"]: s["summary"] for s in env.schedules()}
    assert summaries[target["start_time"]] == "Daily"  # the file's change re-created it
    await env.quiet()
