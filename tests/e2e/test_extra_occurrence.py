"""Overrides whose RECURRENCE-ID names no occurrence of the rule, end to end.

Google and others write an extra meeting added to a series as an override at a
time the RRULE never produces. WeCom cannot split a non-occurrence off its
series (90482), so wesync sends it as a single schedule of its own, kept under
the override's slot both ways.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import TZ, Env, calendar, vevent
from tests.sync.helpers import writes

UID = "series@example.com"
#: Mondays 15:00 from 2027-01-04, eight of them
SERIES = vevent(UID, "Series", "20270104T150000", "20270104T160000", rrule="FREQ=WEEKLY;COUNT=8")
#: a Wednesday: not an occurrence of the Monday rule
EXTRA = vevent(UID, "Extra", "20270106T150000", "20270106T160000", recurrence_id="20270106T150000")
WEDNESDAY_15 = 1799218800  # 2027-01-06T15:00:00+08:00


def errcodes(env: Env) -> list[int]:
    return [r["errcode"] for r in env.server.admin("GET", "requests")["requests"] if r["errcode"]]


def by_summary(env: Env) -> dict[str, dict[str, Any]]:
    return {s["summary"]: s for s in env.schedules()}


async def test_an_extra_occurrence_is_a_single_schedule_both_ways(env: Env) -> None:
    env.know_sequence()  # the calls below are all there is
    env.write("series.ics", calendar(SERIES, EXTRA))
    env.server.admin("DELETE", "requests")
    report = await env.sync_ok()
    assert errcodes(env) == [] and report.problems == []
    # the series and one add for the extra meeting: no op_mode call, no exclusion
    assert writes(env.server) == ["/cgi-bin/oa/schedule/add", "/cgi-bin/oa/schedule/add"]
    schedules = by_summary(env)
    assert set(schedules) == {"Series", "Extra"}
    assert not schedules["Series"]["reminders"].get("exclude_time_list")
    extra = schedules["Extra"]
    assert extra["reminders"]["is_repeat"] == 0 and extra["start_time"] == WEDNESDAY_15
    await env.assert_quiet()

    # edited in WeCom: comes back onto the same RECURRENCE-ID
    body = {k: extra[k] for k in ("schedule_id", "start_time", "end_time")}
    env.server.call("/cgi-bin/oa/schedule/update", {"schedule": {**body, "summary": "Extra!"}})
    report = await env.sync_ok()
    assert report.updated_local == 1 and report.updated_remote == 0
    (text,) = env.files().values()
    assert text.count(b"RECURRENCE-ID") == 1
    assert f"RECURRENCE-ID;TZID={TZ}:20270106T150000".encode() in text
    assert b"SUMMARY:Extra!" in text and b"EXDATE" not in text
    await env.assert_quiet()

    # edited locally: the same schedule is updated in place
    env.write("series.ics", text.replace(b"SUMMARY:Extra!", b"SUMMARY:Extra (local)"))
    env.server.admin("DELETE", "requests")
    report = await env.sync_ok()
    assert report.updated_remote == 1 and errcodes(env) == []
    assert writes(env.server) == ["/cgi-bin/oa/schedule/update"]
    assert by_summary(env)["Extra (local)"]["schedule_id"] == extra["schedule_id"]
    await env.assert_quiet()

    # cancelled in WeCom: the override goes, and with it the occurrence (no EXDATE:
    # the rule never produced it)
    env.server.call("/cgi-bin/oa/schedule/del", {"schedule_id": extra["schedule_id"]})
    report = await env.sync_ok()
    assert report.updated_local == 1
    (text,) = env.files().values()
    assert b"RECURRENCE-ID" not in text and b"EXDATE" not in text
    assert b"RRULE:FREQ=WEEKLY;COUNT=8" in text
    assert list(by_summary(env)) == ["Series"]
    await env.assert_quiet()


async def test_an_extra_occurrence_added_and_removed_locally(env: Env) -> None:
    env.know_sequence()  # the calls below are all there is
    env.write("series.ics", calendar(SERIES))
    await env.sync_ok()
    env.write("series.ics", calendar(SERIES, EXTRA))
    env.server.admin("DELETE", "requests")
    report = await env.sync_ok()
    assert report.updated_remote == 1 and errcodes(env) == []
    assert writes(env.server) == ["/cgi-bin/oa/schedule/add"]
    await env.assert_quiet()
    env.write("series.ics", calendar(SERIES))
    env.server.admin("DELETE", "requests")
    await env.sync_ok()
    assert writes(env.server) == ["/cgi-bin/oa/schedule/del"]
    assert list(by_summary(env)) == ["Series"]
    await env.assert_quiet()


def _override(rid: str, summary: str, *, start: str | None = None, extra: str = "") -> str:
    begin = start or rid
    end = f"{begin[:9]}{int(begin[9:11]) + 1:02d}{begin[11:]}"
    return vevent(UID, summary, begin, end, recurrence_id=rid, extra=extra)


ODD = {
    # an override of an EXDATEd occurrence: the override wins (it is the later word)
    "exdated": (
        vevent(
            UID,
            "Series",
            "20270104T150000",
            "20270104T160000",
            rrule="FREQ=WEEKLY;COUNT=8",
            exdates=("20270111T150000",),
        ),
        [_override("20270111T150000", "Moved", start="20270112T100000")],
    ),
    "before DTSTART": (SERIES, [_override("20261228T150000", "Earlier")]),
    "after UNTIL": (
        vevent(
            UID,
            "Series",
            "20270104T150000",
            "20270104T160000",
            rrule="FREQ=WEEKLY;UNTIL=20270120T000000Z",
        ),
        [_override("20270125T150000", "Later")],
    ),
    "same RECURRENCE-ID twice": (
        SERIES,
        [
            _override("20270106T150000", "Old", extra="SEQUENCE:1"),
            _override("20270106T150000", "New", extra="SEQUENCE:2"),
        ],
    ),
    "off-rule DTSTART": (
        vevent(
            UID,
            "Standup",
            "20270102T093000",  # a Saturday
            "20270102T103000",
            rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10",
        ),
        [_override("20270103T093000", "Sunday extra")],
    ),
    "expand fallback": (
        vevent(
            UID,
            "Last Friday",
            "20270129T150000",
            "20270129T160000",
            rrule="FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1;COUNT=6",
        ),
        [_override("20270203T150000", "Extra Wednesday")],
    ),
}


@pytest.mark.parametrize("case", list(ODD))
async def test_odd_overrides_sync(env: Env, case: str) -> None:
    master, overrides = ODD[case]
    env.write("series.ics", calendar(master, *overrides))
    env.server.admin("DELETE", "requests")
    await env.sync_ok(now=1798732800)  # 2027-01-01: the expand window covers the series
    assert errcodes(env) == []
    summaries = env.summaries()
    wanted = {"exdated": "Moved", "before DTSTART": "Earlier", "after UNTIL": "Later",
              "same RECURRENCE-ID twice": "New", "off-rule DTSTART": "Sunday extra",
              "expand fallback": "Extra Wednesday"}[case]  # fmt: skip
    assert summaries.count(wanted) == 1, summaries
    assert "Old" not in summaries
    # a sync right after writes nothing, on either side (Env.assert_quiet, at `now`)
    env.server.admin("DELETE", "requests")
    before = env.mtimes()
    report = await env.sync_ok(now=1798732800)
    assert writes(env.server) == [] and env.mtimes() == before
    assert report.writes == 0 and report.conflicts == 0, report.to_json()
