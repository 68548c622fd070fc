"""A birthday calendar end to end: yearly events from before 1970, which WeCom's
uint32 start_time cannot hold, go to WeCom from their first occurrence from
1970 on, and WeCom's edits come back onto the original DTSTART."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.e2e.conftest import Env
from tests.sync.helpers import writes

PLUS8 = timezone(timedelta(hours=8))
TOKYO = timezone(timedelta(hours=9))  # Asia/Tokyo has kept +9 since 1951


def ics(uid: str, *lines: str) -> bytes:
    body = "\r\n".join(lines)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//birthdays//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\n{body}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


BIRTHDAY = ics(
    "mum@example.com",
    "SUMMARY:Mum",
    "DTSTART;VALUE=DATE:19650423",
    "DTEND;VALUE=DATE:19650424",
    "RRULE:FREQ=YEARLY",
    "EXDATE;VALUE=DATE:19680423",
    "CATEGORIES:birthday",
)
WEDDING = ics(
    "wedding@example.com",
    "SUMMARY:Wedding day",
    "DTSTART;TZID=Asia/Tokyo:19600610T100000",
    "DTEND;TZID=Asia/Tokyo:19600610T120000",
    "RRULE:FREQ=YEARLY",
)
MOON = ics(
    "moon@example.com",
    "SUMMARY:Moon landing",
    "DTSTART:19690720T201700Z",
    "DTEND:19690720T211700Z",
)


def midnight8(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=PLUS8).timestamp())


def only(env: Env, summary: str) -> dict[str, Any]:
    (schedule,) = [s for s in env.schedules() if s["summary"] == summary]
    return schedule


def edit_in_wecom(env: Env, schedule: dict[str, Any], **changes: Any) -> None:
    """What a WeCom user's edit of the whole series sends (update overwrites)."""
    fields = ("schedule_id", "summary", "start_time", "end_time", "is_whole_day", "reminders")
    body = {k: schedule[k] for k in fields}
    body["reminders"] = {k: v for k, v in schedule["reminders"].items() if k != "exclude_time_list"}
    for key, value in changes.items():
        if key == "remind_time_diffs":
            body["reminders"] = {**body["reminders"], "is_remind": 1, key: value}
        else:
            body[key] = value
    answer = env.server.call("/cgi-bin/oa/schedule/update", {"schedule": body})
    assert answer["errcode"] == 0, answer


def lines(data: bytes) -> list[str]:
    return data.decode().replace("\r\n ", "").split("\r\n")


async def test_a_birthday_calendar(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    env.write("mum.ics", BIRTHDAY)
    env.write("wedding.ics", WEDDING)
    env.write("moon.ics", MOON)
    with caplog.at_level(logging.INFO, logger="wesync"):
        report = await env.sync_ok()
    assert report.created_remote == 2
    mum = only(env, "Mum")
    assert mum["is_whole_day"] == 1
    assert (mum["start_time"], mum["end_time"]) == (
        midnight8(date(1970, 4, 23)),
        midnight8(date(1970, 4, 24)),
    )
    assert mum["reminders"]["is_repeat"] == 1 and mum["reminders"]["repeat_type"] == 5
    assert not mum["reminders"].get("exclude_time_list")  # 1968 is not WeCom's
    wedding = only(env, "Wedding day")
    assert wedding["start_time"] == int(datetime(1970, 6, 10, 10, tzinfo=TOKYO).timestamp())
    # the 1969 single event cannot be held: reported, left local, never a deletion
    assert env.summaries() == ["Mum", "Wedding day"]
    assert any(
        p.kind == "out-of-range"
        and p.path
        and p.path.endswith("moon.ics")
        and "1969-07-20" in p.message
        for p in report.problems
    ), report.problems
    assert "moon.ics" in env.files()
    # the occurrences before 1970 are said once, at info, not as a problem
    notes = [r for r in caplog.records if "before what WeCom can hold" in r.getMessage()]
    assert {r.levelno for r in notes} == {logging.INFO} and len(notes) == 2
    assert not any("mum.ics" in str(p) or "wedding.ics" in str(p) for p in report.problems)
    before = env.files()
    caplog.clear()
    await env.assert_quiet()
    assert env.files() == before
    assert not [r for r in caplog.records if "before what WeCom can hold" in r.getMessage()]

    # WeCom edits come back onto DTSTART 1965 / 1960 with the rule intact
    edit_in_wecom(env, only(env, "Mum"), summary="Mum's birthday", remind_time_diffs=[-86400])
    wedding = only(env, "Wedding day")
    edit_in_wecom(
        env,
        wedding,
        start_time=wedding["start_time"] + 3600,
        end_time=wedding["end_time"] + 3600,
    )
    report = await env.sync_ok()
    assert report.updated_local == 2
    mum_file = lines(env.files()["mum.ics"])
    assert "DTSTART;VALUE=DATE:19650423" in mum_file and "RRULE:FREQ=YEARLY" in mum_file
    assert "SUMMARY:Mum's birthday" in mum_file and "TRIGGER:-P1D" in mum_file
    assert "EXDATE;VALUE=DATE:19680423" in mum_file and "CATEGORIES:birthday" in mum_file
    wedding_file = lines(env.files()["wedding.ics"])
    assert "DTSTART;TZID=Asia/Tokyo:19600610T110000" in wedding_file
    assert "DTEND;TZID=Asia/Tokyo:19600610T130000" in wedding_file
    assert "RRULE:FREQ=YEARLY" in wedding_file
    assert env.files()["moon.ics"] == MOON
    await env.assert_quiet()

    # and a local edit goes to WeCom as the same series from 1970
    env.write("mum.ics", env.files()["mum.ics"].replace(b"Mum's birthday", b"Mum (75)"))
    env.server.admin("DELETE", "requests")
    report = await env.sync_ok()
    assert report.updated_remote == 1 and writes(env.server) == ["/cgi-bin/oa/schedule/update"]
    mum = only(env, "Mum (75)")
    assert mum["start_time"] == midnight8(date(1970, 4, 23))
    await env.assert_quiet()
