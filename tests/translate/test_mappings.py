"""One test per mapping rule: alarms, people, all-day, text, COUNT, workdays, zones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.translate.helpers import item, vevent
from wesync.translate.canonical import MASTER, ProblemKind
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import draft_from_schedule, schedule_from_draft
from wesync.translate.to_ical import schedules_to_item
from wesync.translate.to_wecom import translate_event
from wesync.wecom.models import Attendee, Reminders, Schedule

NOW = 1767225600
OPTS = TranslateOptions(users={"Zhang.San@Example.com": "zhangsan"}, user_domain="corp.cn")


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def translate(*lines: str, alarms: tuple[str, ...] = (), options: TranslateOptions = OPTS):
    return translate_event(item(vevent(*lines, alarms=alarms)), options=options, now=NOW)


TIMED = ("DTSTART;TZID=Asia/Shanghai:20260310T100000", "DTEND;TZID=Asia/Shanghai:20260310T110000")
ALL_DAY = ("DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260312")


@pytest.mark.parametrize(
    ("trigger", "all_day", "diff"),
    [
        (":-PT15M", False, -900),
        (":-PT5M", False, -300),
        (":PT0S", False, 0),
        (":-PT1H", False, -3600),
        (":-P1D", False, -86400),
        (";RELATED=END:-PT1H", False, 0),  # 1 h before the end of a 1 h event
        (";VALUE=DATE-TIME:20260310T014500Z", False, -900),
        (":PT9H", True, 32400),
        (":-P2D", True, -172800),
        (":-P1W", True, -604800),
    ],
)
def test_alarm_triggers_that_map(trigger: str, all_day: bool, diff: int) -> None:
    tr = translate(*(ALL_DAY if all_day else TIMED), alarms=(trigger,))
    assert tr.slots[MASTER].remind_time_diffs == (diff,)
    assert not tr.problems


@pytest.mark.parametrize(
    ("trigger", "all_day"),
    [(":-PT10M", False), (":PT9H", False), (":-P1DT15H", True), (":-PT30M", True)],
)
def test_alarm_triggers_that_do_not_map_are_reported_not_moved(trigger: str, all_day: bool) -> None:
    tr = translate(*(ALL_DAY if all_day else TIMED), alarms=(trigger,))
    assert tr.slots[MASTER].remind_time_diffs == ()
    [problem] = tr.problems
    assert problem.kind is ProblemKind.ALARM_UNSUPPORTED
    assert trigger.lstrip(":") in problem.message


def test_attendees_map_through_users_then_domain_and_unmapped_are_reported() -> None:
    tr = translate(
        *TIMED,
        "ORGANIZER;CN=Boss:mailto:boss@corp.cn",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:zhang.san@example.com",
        "ATTENDEE;ROLE=CHAIR:mailto:LiSi@corp.cn",
        "ATTENDEE:mailto:guest@gmail.com",
        "ATTENDEE:wecom:wangwu",
    )
    d = tr.slots[MASTER]
    assert d.attendees == ("LiSi", "boss", "wangwu", "zhangsan")
    assert d.admins == ("LiSi", "boss")
    [p] = tr.problems
    assert p.kind is ProblemKind.ATTENDEE_UNMAPPED and "guest@gmail.com" in p.message


@pytest.mark.parametrize(
    ("status", "partstat"),
    [(0, "NEEDS-ACTION"), (1, "TENTATIVE"), (2, "ACCEPTED"), (3, "ACCEPTED"), (4, "DECLINED")],
)
def test_response_status_becomes_partstat(status: int, partstat: str) -> None:
    existing = item(vevent(*TIMED, "SUMMARY:x", "ATTENDEE;CN=Zhang:mailto:zhang.san@example.com",
                           "ATTENDEE:mailto:guest@gmail.com"))  # fmt: skip
    d = translate_event(existing, options=OPTS, now=NOW).slots[MASTER]
    s = schedule_from_draft(d, cal_id="c").with_changes(
        attendees=(Attendee(userid="zhangsan", response_status=status),)
    )
    cal = schedules_to_item("ev-1", {MASTER: s}, options=OPTS, existing=existing, now=NOW)
    event = cal.walk("VEVENT")[0]
    attendees = {str(a): a.params for a in event["ATTENDEE"]}
    # RFC 5545: no PARTSTAT means NEEDS-ACTION, so that case needs no parameter.
    assert attendees["mailto:zhang.san@example.com"].get("PARTSTAT", "NEEDS-ACTION") == partstat
    assert attendees["mailto:zhang.san@example.com"]["CN"] == "Zhang"
    assert "mailto:guest@gmail.com" in attendees  # unmapped attendees stay in the file
    assert int(event.get("SEQUENCE", 0)) == 0  # an RSVP is not a new revision


def test_userid_without_email_is_written_as_wecom_uri_and_reads_back() -> None:
    opts = TranslateOptions()
    s = Schedule(
        summary="s",
        start_time=ts("2026-03-10T10:00+08:00"),
        end_time=ts("2026-03-10T11:00+08:00"),
        is_whole_day=0,
        attendees=(Attendee(userid="zhao liu"),),
        reminders=Reminders(),
    )
    cal = schedules_to_item("u", {MASTER: s}, options=opts, existing=None, now=NOW)
    assert str(cal.walk("VEVENT")[0]["ATTENDEE"]) == "wecom:zhao%20liu"
    again = translate_event(item(cal.walk("VEVENT")[0].to_ical().decode()), options=opts, now=NOW)
    assert again.slots[MASTER].attendees == ("zhao liu",)


def test_all_day_is_midnight_utc8_and_end_is_the_next_midnight() -> None:
    d = translate(*ALL_DAY).slots[MASTER]
    assert d.is_whole_day
    assert d.start_time == ts("2026-03-10T00:00+08:00")
    assert d.end_time == ts("2026-03-12T00:00+08:00")
    no_end = translate("DTSTART;VALUE=DATE:20260310").slots[MASTER]
    assert no_end.end_time - no_end.start_time == 86400


def test_all_day_read_from_wecom_with_2359_end_convention() -> None:
    s = Schedule(start_time=ts("2026-03-10T00:00+08:00"), end_time=ts("2026-03-11T23:59:59+08:00"),
                 is_whole_day=1, reminders=Reminders(remind_time_diffs=()))  # fmt: skip
    d = draft_from_schedule(s)
    assert d.end_time == ts("2026-03-12T00:00+08:00")
    cal = schedules_to_item("a", {MASTER: s}, options=OPTS, existing=None, now=NOW)
    ev = cal.walk("VEVENT")[0]
    assert ev["DTSTART"].to_ical() == b"20260310" and ev["DTEND"].to_ical() == b"20260312"


def test_text_is_cut_to_wecom_limits_and_reported() -> None:
    tr = translate(*TIMED, "SUMMARY:" + "长" * 130, "LOCATION:" + "l" * 129,
                   "DESCRIPTION:" + "d" * 1001)  # fmt: skip
    d = tr.slots[MASTER]
    assert (len(d.summary), len(d.location), len(d.description)) == (128, 128, 1000)
    assert [p.kind for p in tr.problems] == [ProblemKind.TRUNCATED] * 3


def test_cut_text_is_kept_whole_in_the_file_when_wecom_changes_something_else() -> None:
    existing = item(vevent(*TIMED, "DESCRIPTION:" + "d" * 1500))
    d = translate_event(existing, options=OPTS, now=NOW).slots[MASTER]
    s = schedule_from_draft(d, cal_id="c").with_changes(summary="new title")
    cal = schedules_to_item("ev-1", {MASTER: s}, options=OPTS, existing=existing, now=NOW)
    ev = cal.walk("VEVENT")[0]
    assert str(ev["DESCRIPTION"]) == "d" * 1500 and str(ev["SUMMARY"]) == "new title"


def test_count_becomes_the_start_of_the_last_occurrence() -> None:
    d = translate(*TIMED, "RRULE:FREQ=DAILY;INTERVAL=2;COUNT=5").slots[MASTER]
    assert d.recurrence is not None
    assert d.recurrence.repeat_until == ts("2026-03-18T10:00+08:00")
    assert d.recurrence.timezone == 8


def test_repeat_type_7_reads_as_custom_weekly_workdays_and_writes_byday() -> None:
    start = ts("2026-03-09T09:00+08:00")  # a Monday
    s = Schedule(summary="daily", start_time=start, end_time=start + 900, is_whole_day=0,
                 reminders=Reminders(is_repeat=1, repeat_type=7, timezone=8,
                                     remind_time_diffs=(), exclude_time_list=()))  # fmt: skip
    d = draft_from_schedule(s)
    assert d.recurrence is not None
    assert (d.recurrence.repeat_type, d.recurrence.repeat_day_of_week) == (1, (1, 2, 3, 4, 5))
    local = translate(*TIMED, "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR").slots[MASTER]
    custom = draft_from_schedule(schedule_from_draft(local, cal_id="c"))
    assert custom.recurrence == local.recurrence
    cal = schedules_to_item("w", {MASTER: s}, options=OPTS, existing=None, now=NOW)
    assert cal.walk("VEVENT")[0]["RRULE"].to_ical() == b"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"


@pytest.mark.parametrize(
    ("tzid", "offset"),
    [
        ("China Standard Time", 8),
        ("Tokyo Standard Time", 9),
        ("/mozilla.org/20070129_1/Asia/Shanghai", 8),
    ],
)
def test_windows_and_vendor_tzids_map_to_real_zones(tzid: str, offset: int) -> None:
    tr = translate(f"DTSTART;TZID={tzid}:20260310T100000", "RRULE:FREQ=WEEKLY")
    d = tr.slots[MASTER]
    assert d.recurrence is not None and d.recurrence.timezone == offset
    assert d.start_time == int(datetime(2026, 3, 10, 10 - offset, tzinfo=UTC).timestamp())


def test_daylight_saving_zone_weekly_is_expanded_not_approximated() -> None:
    tr = translate("DTSTART;TZID=Europe/Berlin:20260105T100000", "RRULE:FREQ=WEEKLY")
    assert tr.expanded and MASTER not in tr.slots
    assert any("daylight saving" in p.message for p in tr.problems)


def test_cancelled_master_has_no_slots_and_cancelled_override_only_excludes() -> None:
    assert translate(*TIMED, "STATUS:CANCELLED").slots == {}
    tr = translate_event(item(
        vevent(*TIMED, "RRULE:FREQ=DAILY;COUNT=3"),
        vevent("RECURRENCE-ID;TZID=Asia/Shanghai:20260311T100000", "STATUS:CANCELLED", *TIMED[:1]),
    ), options=OPTS, now=NOW)  # fmt: skip
    assert list(tr.slots) == [MASTER]
    rec = tr.slots[MASTER].recurrence
    assert rec is not None and rec.exclude_times == (ts("2026-03-11T10:00+08:00"),)


def test_floating_time_uses_the_default_timezone() -> None:
    tr = translate(
        "DTSTART:20260310T100000", options=TranslateOptions(default_timezone="Asia/Tokyo")
    )
    assert tr.slots[MASTER].start_time == ts("2026-03-10T10:00+09:00")


def test_missing_dtstart_is_invalid_and_skipped_not_deleted() -> None:
    tr = translate("SUMMARY:no start")
    assert tr.skipped and not tr.slots
    assert tr.problems[0].kind is ProblemKind.INVALID
