"""Recurring events end to end: overrides, cancellations, the expand fallback's window."""

from __future__ import annotations

import time

from tests.e2e.conftest import Env, calendar, vevent
from tests.sync.helpers import writes

LUNCH = calendar(vevent("lunch@example.com", "Lunch", "20270105T120000", "20270105T130000"))
SERIES = vevent(
    "series@example.com",
    "Series",
    "20270104T150000",
    "20270104T160000",
    rrule="FREQ=WEEKLY;COUNT=8",
)
MOVED = vevent(
    "series@example.com",
    "Series (moved)",
    "20270119T170000",
    "20270119T180000",
    recurrence_id="20270118T150000",
)
LAST_FRIDAY = calendar(
    vevent(
        "lastfri@example.com",
        "Last Friday",
        "20261127T170000",
        "20261127T180000",
        rrule="FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1",
    )
)


async def test_override_added_and_removed_locally(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("series.ics", calendar(SERIES))
    await env.sync_ok()
    env.write("series.ics", calendar(SERIES, MOVED))
    report = await env.sync_ok()
    assert report.updated_remote == 1
    assert env.summaries() == ["Lunch", "Series", "Series (moved)"]
    await env.assert_quiet()
    env.write("series.ics", calendar(SERIES))
    await env.sync_ok()
    assert env.summaries() == ["Lunch", "Series"]
    (master,) = [s for s in env.schedules() if s["summary"] == "Series"]
    assert not master["reminders"].get("exclude_time_list")
    await env.assert_quiet()


async def test_cancelled_event_leaves_wecom_and_stays_in_the_file(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("series.ics", calendar(SERIES))
    await env.sync_ok()
    env.write(
        "series.ics", calendar(SERIES.replace("END:VEVENT", "STATUS:CANCELLED\r\nEND:VEVENT"))
    )
    report = await env.sync_ok()
    assert report.updated_remote == 1 and env.summaries() == ["Lunch"]
    assert "series.ics" in env.files()
    await env.assert_quiet()


async def test_change_beats_deletion(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("series.ics", calendar(SERIES))
    await env.sync_ok()
    (lunch,) = [s for s in env.schedules() if s["summary"] == "Lunch"]
    env.server.call("/cgi-bin/oa/schedule/del", {"schedule_id": lunch["schedule_id"]})
    env.write("lunch.ics", LUNCH.replace(b"SUMMARY:Lunch", b"SUMMARY:Lunch (kept)"))
    report = await env.sync_ok()
    assert report.created_remote == 1
    assert env.summaries() == ["Lunch (kept)", "Series"]
    await env.assert_quiet()


async def test_expanded_series_follows_its_window(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("lastfri.ics", LAST_FRIDAY)
    now = int(time.time())
    report = await env.sync_ok(now=now)
    assert any("BYSETPOS" in str(p) for p in report.problems)
    first = sorted(s["start_time"] for s in env.schedules() if s["summary"] == "Last Friday")
    assert len(first) >= 11
    await env.sync_ok(now=now)
    # forty days later: one occurrence retires (kept, not deleted), one more enters
    later = now + 40 * 86400
    report = await env.sync_ok(now=later)
    assert report.updated_remote == 1 and report.conflicts == 0
    assert report.problems == []
    starts = sorted(s["start_time"] for s in env.schedules() if s["summary"] == "Last Friday")
    assert set(first) < set(starts)
    env.server.admin("DELETE", "requests")
    report = await env.sync_ok(now=later)
    assert report.writes == 0
    # an edit in WeCom of one occurrence comes home as an override (tests/e2e/
    # test_expanded_edits.py has the rest), and WeCom keeps it
    target = next(s for s in env.schedules() if s["start_time"] == starts[-1])
    body = {k: target[k] for k in ("schedule_id", "start_time", "end_time")}
    env.server.call("/cgi-bin/oa/schedule/update", {"schedule": {**body, "summary": "Edited"}})
    report = await env.sync_ok(now=later)
    assert report.updated_remote == 0 and report.updated_local == 1
    assert "Edited" in env.summaries()
    assert b"RECURRENCE-ID" in env.files()["lastfri.ics"]


async def test_lost_answer_to_a_split_is_adopted(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("series.ics", calendar(SERIES))
    await env.sync_ok()
    env.write("series.ics", calendar(SERIES, MOVED))
    env.fault("/cgi-bin/oa/schedule/update", kind="drop_after_commit", times=1)
    report = await env.sync()
    assert not report.ok
    report = await env.sync_ok()
    assert any("adopted" in str(p) for p in report.problems)
    assert env.summaries() == ["Lunch", "Series", "Series (moved)"]
    await env.assert_quiet()


async def test_one_failing_event_does_not_stop_the_others(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("series.ics", calendar(SERIES))
    # a summary WeCom refuses (over 128 characters is cut by the translator, so use
    # an errcode fault on the first add instead)
    env.fault("/cgi-bin/oa/schedule/add", kind="errcode", errcode=40058, times=1)
    report = await env.sync()
    assert not report.ok and report.created_remote == 1
    assert len(env.summaries()) == 1
    await env.sync_ok()
    assert env.summaries() == ["Lunch", "Series"]
    await env.assert_quiet()


def utc_event(*lines: str) -> str:
    head = ["BEGIN:VEVENT", "UID:early@example.com", "DTSTAMP:20261101T000000Z"]
    return "\r\n".join([*head, *lines, "END:VEVENT"]) + "\r\n"


async def test_override_moved_to_the_day_before(env: Env) -> None:
    env.know_sequence()  # the calls below are all there is
    # a UTC series at 01:00 whose third occurrence moves to 23:00 the day before:
    # WeCom cannot split an occurrence off to an earlier day (90488), so the
    # occurrence is excluded and the override added as a schedule of its own
    series = utc_event(
        "SUMMARY:Early",
        "DTSTART:20270104T010000Z",
        "DTEND:20270104T020000Z",
        "RRULE:FREQ=DAILY;COUNT=5",
    )
    moved = utc_event(
        "SUMMARY:Early (moved)",
        "RECURRENCE-ID:20270106T010000Z",
        "DTSTART:20270105T230000Z",
        "DTEND:20270106T000000Z",
    )
    env.write("early.ics", calendar(series, moved))
    env.server.admin("DELETE", "requests")
    report = await env.sync_ok()
    assert report.created_remote == 1
    log = env.server.admin("GET", "requests")["requests"]
    assert [r["errcode"] for r in log] == [0] * len(log)
    assert writes(env.server) == [
        "/cgi-bin/oa/schedule/add",
        "/cgi-bin/oa/schedule/del",
        "/cgi-bin/oa/schedule/add",
    ]
    jan6_0100 = 1799197200  # 2027-01-06T01:00:00Z
    by_summary = {s["summary"]: s for s in env.schedules()}
    assert set(by_summary) == {"Early", "Early (moved)"}
    master = by_summary["Early"]
    assert master["reminders"]["is_repeat"] == 1
    assert master["reminders"]["exclude_time_list"] == [{"start_time": jan6_0100}]
    single = by_summary["Early (moved)"]
    assert single["reminders"]["is_repeat"] == 0
    assert (single["start_time"], single["end_time"]) == (jan6_0100 - 2 * 3600, jan6_0100 - 3600)
    await env.assert_quiet()
    # it stays one override: edited, it is updated in place; removed, it is deleted
    env.write("early.ics", calendar(series, moved.replace("(moved)", "(moved again)")))
    await env.sync_ok()
    assert env.summaries() == ["Early", "Early (moved again)"]
    await env.assert_quiet()
    env.write("early.ics", calendar(series))
    await env.sync_ok()
    (back,) = env.schedules()
    assert back["summary"] == "Early" and not back["reminders"]["exclude_time_list"]
    await env.assert_quiet()


STANDUP = vevent(
    "standup@example.com",
    "Standup",
    "20270102T093000",  # a Saturday
    "20270102T094500",
    rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10",
)


async def test_workday_series_starting_on_a_saturday(env: Env) -> None:
    # DTSTART is not a workday, yet RFC 5545 counts it: one series from Monday
    # plus one single schedule on the Saturday, not ten expanded singles
    env.write("standup.ics", calendar(STANDUP))
    report = await env.sync_ok()
    assert report.created_remote == 1 and not report.problems
    schedules = sorted(env.schedules(), key=lambda s: s["start_time"])
    assert [s["reminders"]["is_repeat"] for s in schedules] == [0, 1]
    saturday, monday = schedules
    assert saturday["start_time"] == 1798853400  # 2027-01-02T09:30+08:00
    assert monday["start_time"] == 1798853400 + 2 * 86400
    assert monday["reminders"]["repeat_day_of_week"] == [1, 2, 3, 4, 5]
    await env.assert_quiet()
    # the Saturday edited in WeCom comes back as an override of DTSTART
    body = {k: saturday[k] for k in ("schedule_id", "start_time", "end_time")}
    env.server.call("/cgi-bin/oa/schedule/update", {"schedule": {**body, "summary": "Kickoff"}})
    report = await env.sync_ok()
    assert report.updated_local == 1
    (text,) = env.files().values()
    assert b"RECURRENCE-ID;TZID=Asia/Shanghai:20270102T093000" in text
    assert b"SUMMARY:Kickoff" in text
    await env.assert_quiet()
    # cancelled in WeCom: an EXDATE on DTSTART, the series untouched
    env.server.call("/cgi-bin/oa/schedule/del", {"schedule_id": saturday["schedule_id"]})
    report = await env.sync_ok()
    assert report.updated_local == 1
    (text,) = env.files().values()
    assert b"EXDATE;TZID=Asia/Shanghai:20270102T093000" in text
    assert b"Kickoff" not in text
    assert [s["summary"] for s in env.schedules()] == ["Standup"]
    await env.assert_quiet()
