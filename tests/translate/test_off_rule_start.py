"""A DTSTART off its own RRULE (a workday series starting on a Saturday).

RFC 5545 counts DTSTART as the first occurrence anyway. WeCom's handling of a
start_time off its own repeat is undocumented, so wesync sends the series from
the rule's first instance plus one single schedule for DTSTART (slot "S:<t>"),
and writes that back as the original event."""

from __future__ import annotations

from dataclasses import replace

from tests.translate.helpers import item, vevent
from wesync.emulator import recurrence as emulated
from wesync.translate import series
from wesync.translate.canonical import MASTER, ProblemKind, ScheduleDraft, group_digest
from wesync.translate.ics import parse_item, serialize
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import draft_from_schedule, schedule_from_draft
from wesync.translate.to_ical import schedules_to_item
from wesync.translate.to_wecom import translate_event

NOW = 1767225600  # 2026-01-01T00:00:00Z
SATURDAY = 1798853400  # 2027-01-02T09:30:00+08:00
DAY = 86400
OPTIONS = TranslateOptions()


def event(rrule: str, *extra: str, start: str = "20270102T093000") -> list[str]:
    return [
        "SUMMARY:Standup",
        f"DTSTART;TZID=Asia/Shanghai:{start}",
        f"DTEND;TZID=Asia/Shanghai:{start[:9]}{int(start[9:11]) + 1:02d}{start[11:]}",
        f"RRULE:{rrule}",
        *extra,
    ]


def translate(*events: list[str]) -> dict[str, ScheduleDraft]:
    tr = translate_event(item(*(vevent(*e) for e in events)), options=OPTIONS, now=NOW)
    assert not tr.expanded and not tr.skipped, tr.problems
    return dict(tr.slots)


def round_trip(slots: dict[str, ScheduleDraft]) -> dict[str, ScheduleDraft]:
    schedules = {k: schedule_from_draft(d, cal_id="c") for k, d in slots.items()}
    cal = schedules_to_item("ev-1", schedules, options=OPTIONS, existing=None, now=NOW)
    again = translate_event(parse_item(serialize(cal), where="b.ics"), options=OPTIONS, now=NOW)
    return dict(again.slots)


def test_workdays_from_a_saturday_are_a_series_and_one_single() -> None:
    slots = translate(event("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10"))
    assert set(slots) == {MASTER, f"S:{SATURDAY}"}
    master, single = slots[MASTER], slots[f"S:{SATURDAY}"]
    assert master.start_time == SATURDAY + 2 * DAY
    assert master.recurrence is not None
    assert master.recurrence.repeat_day_of_week == (1, 2, 3, 4, 5)
    assert single.recurrence is None and single.start_time == SATURDAY
    assert single.end_time - single.start_time == 3600
    back = round_trip(slots)
    assert group_digest(back, with_responses=False) == group_digest(slots, with_responses=False)


def test_other_off_rule_starts_round_trip() -> None:
    for rule in (
        "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=15",
        "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=5,20;COUNT=4",
        "FREQ=DAILY;BYDAY=MO,TU",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;WKST=MO",
    ):
        slots = translate(event(rule))
        assert set(slots) == {MASTER, f"S:{SATURDAY}"}, rule
        back = round_trip(slots)
        assert group_digest(back, with_responses=False) == group_digest(
            slots, with_responses=False
        ), rule


def test_an_exdate_or_override_on_dtstart() -> None:
    rule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10"
    slots = translate(event(rule, "EXDATE;TZID=Asia/Shanghai:20270102T093000"))
    assert set(slots) == {MASTER}
    rec = slots[MASTER].recurrence
    assert rec is not None and rec.exclude_times == ()
    assert set(round_trip(slots)) == {MASTER}
    moved = [
        "SUMMARY:Kickoff",
        "RECURRENCE-ID;TZID=Asia/Shanghai:20270102T093000",
        "DTSTART;TZID=Asia/Shanghai:20270102T140000",
        "DTEND;TZID=Asia/Shanghai:20270102T150000",
    ]
    slots = translate(event(rule), moved)
    single = slots[f"S:{SATURDAY}"]
    assert (single.summary, single.start_time) == ("Kickoff", SATURDAY + 4.5 * 3600)
    back = round_trip(slots)
    assert group_digest(back, with_responses=False) == group_digest(slots, with_responses=False)


def test_a_rule_without_instances_of_its_own_is_expanded() -> None:
    lines = vevent(*event("FREQ=WEEKLY;BYDAY=MO;UNTIL=20270103T000000Z"))
    tr = translate_event(item(lines), options=OPTIONS, now=SATURDAY - DAY)
    assert tr.expanded and list(tr.slots) == [f"X:{SATURDAY}"]
    assert ProblemKind.RECURRENCE_EXPANDED in {p.kind for p in tr.problems}


def test_wecom_edits_of_the_single_come_back() -> None:
    rule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10"
    existing = item(vevent(*event(rule)))
    slots = translate(event(rule))
    schedules = {k: schedule_from_draft(d, cal_id="c") for k, d in slots.items()}
    same = schedules_to_item("ev-1", schedules, options=OPTIONS, existing=existing, now=NOW)
    assert serialize(same) == serialize(existing.calendar)
    key = f"S:{SATURDAY}"
    edited = {**schedules, key: replace(schedules[key], summary="Kickoff")}
    cal = schedules_to_item("ev-1", edited, options=OPTIONS, existing=existing, now=NOW)
    again = translate_event(parse_item(serialize(cal), where="b.ics"), options=OPTIONS, now=NOW)
    want = {k: draft_from_schedule(s) for k, s in edited.items()}
    assert group_digest(again.slots, with_responses=False) == group_digest(
        want, with_responses=False
    )
    gone = {k: s for k, s in schedules.items() if k != key}
    cal = schedules_to_item("ev-1", gone, options=OPTIONS, existing=existing, now=NOW)
    text = serialize(cal)
    assert b"DTSTART;TZID=Asia/Shanghai:20270102T093000" in text
    assert b"EXDATE;TZID=Asia/Shanghai:20270102T093000" in text


def test_the_model_and_the_emulator_count_an_off_pattern_start() -> None:
    # undocumented in WeCom; both count start_time even off the pattern
    slots = translate(event("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10"))
    master = slots[MASTER]
    assert master.recurrence is not None
    rec = replace(master.recurrence, exclude_times=())
    schedule = schedule_from_draft(
        replace(master, start_time=SATURDAY, end_time=SATURDAY + 3600), cal_id="c"
    )
    rule = emulated.rule_of(schedule.to_api(with_exclusions=True))
    assert rule is not None
    end = SATURDAY + 30 * DAY
    mine = list(series.occurrences(SATURDAY, rec, end=end))
    assert mine == emulated.occurrences(rule, SATURDAY, end + 1)
    assert mine[0] == SATURDAY and mine[1] == SATURDAY + 2 * DAY
    assert series.is_occurrence(SATURDAY, rec, SATURDAY)
