"""Two-way sync end to end: creation, edits, deletions, answers, both ways."""

from __future__ import annotations

from tests.e2e.conftest import Env, calendar, vevent

# 2027-01-04 is a Monday
WEEKLY = calendar(
    vevent(
        "weekly@example.com",
        "Team meeting",
        "20270104T100000",
        "20270104T110000",
        rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=10",
        exdates=("20270111T100000",),
    ),
    vevent(
        "weekly@example.com",
        "Team meeting (moved)",
        "20270119T150000",
        "20270119T160000",
        recurrence_id="20270118T100000",
    ),
)
LUNCH = calendar(vevent("lunch@example.com", "Lunch", "20270105T120000", "20270105T130000"))


async def test_first_sync_both_ways_then_quiet(env: Env) -> None:
    env.write("weekly.ics", WEEKLY)
    env.write("lunch.ics", LUNCH)
    env.add_schedule(summary="Made in WeCom", start_time=1799380800, end_time=1799384400)
    report = await env.sync_ok()
    assert (report.created_remote, report.created_local) == (2, 1)
    assert report.problems == []
    assert env.summaries() == ["Lunch", "Made in WeCom", "Team meeting", "Team meeting (moved)"]
    assert len(env.files()) == 3
    await env.assert_quiet()


async def test_edits_and_deletions_flow_both_ways(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("weekly.ics", WEEKLY)
    await env.sync_ok()
    env.write("lunch.ics", LUNCH.replace(b"SUMMARY:Lunch", b"SUMMARY:Long lunch"))
    report = await env.sync_ok()
    assert report.updated_remote == 1
    assert env.summaries() == ["Long lunch", "Team meeting", "Team meeting (moved)"]
    await env.assert_quiet()

    (schedule,) = [s for s in env.schedules() if s["summary"] == "Long lunch"]
    schedule["summary"] = "Lunch in WeCom"
    body = {k: schedule[k] for k in ("schedule_id", "summary", "start_time", "end_time")}
    answer = env.server.call("/cgi-bin/oa/schedule/update", {"schedule": body})
    assert answer["errcode"] == 0, answer
    report = await env.sync_ok()
    assert report.updated_local == 1
    assert b"SUMMARY:Lunch in WeCom" in env.files()["lunch.ics"]
    await env.assert_quiet()

    (env.local / "lunch.ics").unlink()
    report = await env.sync_ok()
    assert report.deleted_remote == 1
    assert env.summaries() == ["Team meeting", "Team meeting (moved)"]
    await env.assert_quiet()


async def test_wecom_deletion_removes_the_file(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("weekly.ics", WEEKLY)
    await env.sync_ok()
    (schedule,) = [s for s in env.schedules() if s["summary"] == "Lunch"]
    env.server.call("/cgi-bin/oa/schedule/del", {"schedule_id": schedule["schedule_id"]})
    report = await env.sync_ok()
    assert report.deleted_local == 1 and list(env.files()) == ["weekly.ics"]
    await env.assert_quiet()


async def test_wecom_edit_of_a_series_occurrence_and_an_answer(env: Env) -> None:
    env.write(
        "weekly.ics",
        WEEKLY.replace(
            b"END:VEVENT", b"ATTENDEE;CN=Zhang San:mailto:zhangsan@example.com\r\nEND:VEVENT", 1
        ),
    )
    env.pair = env.pair.__class__(**{**env.pair.__dict__, "user_domain": "example.com"})
    await env.sync_ok()
    master = next(s for s in env.schedules() if s["summary"] == "Team meeting")
    answer = env.server.admin(
        "POST",
        "respond",
        {"schedule_id": master["schedule_id"], "userid": "zhangsan", "response_status": 2},
    )
    assert answer
    report = await env.sync_ok()
    assert report.updated_local == 1
    assert b"PARTSTAT=ACCEPTED" in env.files()["weekly.ics"]
    await env.assert_quiet()


async def test_pulling_every_kind_of_schedule_round_trips(env: Env) -> None:
    env.pair = env.pair.__class__(**{**env.pair.__dict__, "user_domain": "example.com"})
    monday = 1799028000  # 2027-01-04 10:00 +08:00, a Monday
    env.add_schedule(
        summary="All day",
        start_time=1798905600,
        end_time=1798992000,
        is_whole_day=1,
        reminders={"is_remind": 1, "remind_time_diffs": [32400]},
    )
    series = env.add_schedule(
        summary="Weekly",
        description="with a removed occurrence",
        location="Room 1",
        start_time=monday,
        end_time=monday + 3600,
        attendees=[{"userid": "zhangsan"}, {"userid": "lisi"}],
        reminders={
            "is_remind": 1,
            "remind_time_diffs": [-900],
            "is_repeat": 1,
            "repeat_type": 1,
            "repeat_until": monday + 9 * 7 * 86400,
        },
    )
    answer = env.server.call(
        "/cgi-bin/oa/schedule/del",
        {"schedule_id": series, "op_mode": 1, "op_start_time": monday + 7 * 86400},
    )
    assert answer["errcode"] == 0, answer
    env.add_schedule(
        summary="Workdays",
        start_time=monday + 3600,
        end_time=monday + 5400,
        reminders={"is_repeat": 1, "repeat_type": 7, "repeat_until": monday + 30 * 86400},
    )
    report = await env.sync_ok()
    assert report.created_local == 3
    assert report.problems == []
    files = b"".join(env.files().values())
    assert b"EXDATE" in files and b"VALUE=DATE" in files and b"mailto:lisi@example.com" in files
    await env.assert_quiet()
