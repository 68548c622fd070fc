"""Writing WeCom's version back keeps everything WeCom does not hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from wesync.errors import DuplicateUidError, ItemParseError
from wesync.translate.canonical import MASTER
from wesync.translate.ics import NoEventError, build_item, parse_item, serialize, split_calendar
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import schedule_from_draft
from wesync.translate.to_ical import schedules_to_item
from wesync.translate.to_wecom import translate_event

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ics"
NOW = 1772323200
OPTIONS = TranslateOptions(user_domain="example.com")


def load(name: str, uid: str):
    cal, grouped = split_calendar((FIXTURES / name).read_bytes(), where=name)
    return parse_item(serialize(build_item(cal, grouped[uid])), where=name)


def wecom_side(item):
    tr = translate_event(item, options=OPTIONS, now=NOW)
    return {k: schedule_from_draft(d, cal_id="c") for k, d in tr.slots.items()}


def test_no_change_writes_the_same_bytes() -> None:
    item = load("google_export.ics", "7kq2c9h1sd8f0g3j5l6n4p2r1t@google.com")
    cal = schedules_to_item(item.uid, wecom_side(item), options=OPTIONS, existing=item, now=NOW)
    assert serialize(cal) == serialize(item.calendar)


def test_moving_an_exchange_event_keeps_its_windows_tzid_and_x_properties() -> None:
    uid = next(
        u
        for u in split_calendar((FIXTURES / "outlook_exchange.ics").read_bytes(), where="o")[1]
        if u.startswith("0400")
    )
    item = load("outlook_exchange.ics", uid)
    slots = wecom_side(item)
    master = slots[MASTER]
    assert master.start_time is not None and master.end_time is not None
    slots[MASTER] = master.with_changes(
        start_time=master.start_time + 3600, end_time=master.end_time + 3600, location="Room 1"
    )
    cal = schedules_to_item(uid, slots, options=OPTIONS, existing=item, now=NOW)
    ev = cal.walk("VEVENT")[0]
    text = serialize(cal).decode()
    assert "DTSTART;TZID=China Standard Time:20260303T100000" in text
    assert str(ev["X-MICROSOFT-CDO-BUSYSTATUS"]) == "BUSY"
    assert str(ev["LOCATION"]) == "Room 1"
    assert int(ev["SEQUENCE"]) == 1 and "LAST-MODIFIED" in ev
    assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["China Standard Time"]
    again = translate_event(parse_item(serialize(cal), where="x"), options=OPTIONS, now=NOW)
    assert again.slots[MASTER].start_time == master.start_time + 3600


def test_apple_item_keeps_categories_unsupported_alarms_and_duration() -> None:
    data = (FIXTURES / "apple_calendar.ics").read_bytes()
    item = parse_item(
        data.replace(b"BEGIN:VEVENT\r\nUID:A1B2", b"BEGIN:VXX\r\nUID:A1B2").replace(
            b"END:VEVENT\r\nBEGIN:VTODO", b"END:VXX\r\nBEGIN:VTODO"
        ),
        where="apple",
    )
    slots = wecom_side(item)
    slots[MASTER] = slots[MASTER].with_changes(summary="Anniversary!")
    cal = schedules_to_item(item.uid, slots, options=OPTIONS, existing=item, now=NOW)
    ev = cal.walk("VEVENT")[0]
    assert str(ev["SUMMARY"]) == "Anniversary!"
    assert ev["CATEGORIES"].to_ical() == b"Company"
    assert [str(a["ACTION"]) for a in ev.walk("VALARM")] == ["DISPLAY", "NONE"]
    assert "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR" in ev
    assert len(cal.walk("VTODO")) == 1


def test_remote_reminder_change_replaces_only_mappable_alarms() -> None:
    item = load("google_export.ics", "7kq2c9h1sd8f0g3j5l6n4p2r1t@google.com")
    slots = wecom_side(item)
    reminders = slots[MASTER].reminders
    assert reminders is not None
    slots[MASTER] = slots[MASTER].with_changes(
        reminders=reminders.__class__(**{**reminders.__dict__, "remind_time_diffs": (-3600,)})
    )
    cal = schedules_to_item(item.uid, slots, options=OPTIONS, existing=item, now=NOW)
    triggers = sorted(a["TRIGGER"].to_ical().decode() for a in cal.walk("VEVENT")[0].walk("VALARM"))
    assert triggers == ["-PT10M", "-PT1H"]  # the unsupported -10 min alarm stays


def test_remote_occurrence_edit_and_deletion_become_override_and_exdate() -> None:
    item = load("google_export.ics", "7kq2c9h1sd8f0g3j5l6n4p2r1t@google.com")
    slots = wecom_side(item)
    master = slots[MASTER]
    r = master.reminders
    assert r is not None and r.exclude_time_list is not None
    monday = 1772416800 + 7 * 86400  # 2026-03-09 10:00 +08
    new_r = r.__class__(**{**r.__dict__, "exclude_time_list": (*r.exclude_time_list, monday)})
    slots[MASTER] = master.with_changes(reminders=new_r)
    del slots["R:1772762400"]  # the moved Friday was deleted in WeCom
    cal = schedules_to_item(item.uid, slots, options=OPTIONS, existing=item, now=NOW)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    exdates = events[0]["EXDATE"].to_ical().decode()
    assert exdates == "20260304T100000,20260306T100000,20260309T100000"


def test_new_item_is_complete() -> None:
    item = load("thunderbird.ics", "3e1c9f1a-5d7b-4c2e-8f6a-0b9d8c7e6f5a")
    cal = schedules_to_item("new-uid", wecom_side(item), options=OPTIONS, existing=None, now=NOW)
    assert str(cal["PRODID"]) == "-//wesync//wesync//EN" and str(cal["VERSION"]) == "2.0"
    ev = cal.walk("VEVENT")[0]
    assert str(ev["UID"]) == "new-uid" and "DTSTAMP" in ev
    assert cal.get_missing_tzids() == set()


def test_parse_errors_name_the_file_and_problem() -> None:
    with pytest.raises(ItemParseError, match=r"a\.ics: .*one UID"):
        parse_item(
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\n"
            b"BEGIN:VEVENT\r\nUID:2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            where="a.ics",
        )
    with pytest.raises(NoEventError):
        parse_item(
            b"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:1\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
            where="t.ics",
        )
    with pytest.raises(ItemParseError, match="UTF-8"):
        parse_item(b"\xff\xfe", where="b.ics")
    with pytest.raises(DuplicateUidError):
        split_calendar(
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\n"
            b"BEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            where="c.ics",
        )


def test_the_time_of_writing_is_passed_in_never_read_from_the_clock() -> None:
    """translate is pure: `now` is required, and a new event's DTSTAMP is exactly it."""
    import inspect

    from wesync.wecom.models import Reminders, Schedule

    param = inspect.signature(schedules_to_item).parameters["now"]
    assert param.default is inspect.Parameter.empty
    schedule = Schedule(
        schedule_id="s1",
        summary="Stamp",
        start_time=NOW + 3600,
        end_time=NOW + 7200,
        is_whole_day=0,
        reminders=Reminders(is_remind=0, remind_time_diffs=(), is_repeat=0),
    )
    cal = schedules_to_item("stamp", {MASTER: schedule}, options=OPTIONS, existing=None, now=NOW)
    assert b"DTSTAMP:20260301T000000Z" in serialize(cal)
