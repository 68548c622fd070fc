"""Times WeCom cannot hold: its times are uint32 Unix seconds (1970-01-01T00:00:00Z
to 2106-02-07T06:28:15Z).

A series from before 1970 (a birthday calendar) goes to WeCom from its first
occurrence WeCom can hold, and WeCom's edits come back onto the original
DTSTART; what lies wholly outside the range stays in the file, reported, and
is `skipped` (never read as deleted)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from tests.translate.helpers import item, vevent
from wesync.translate.canonical import (
    MASTER,
    EventTranslation,
    ProblemKind,
    ScheduleDraft,
    group_digest,
)
from wesync.translate.ics import ParsedItem, parse_item, serialize
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import draft_from_schedule, schedule_from_draft
from wesync.translate.to_ical import schedules_to_item
from wesync.translate.to_wecom import translate_event

NOW = 1767225600  # 2026-01-01T00:00:00Z
OPTIONS = TranslateOptions()
PLUS8 = timezone(timedelta(hours=8))
LAST = 2**32 - 1  # 2106-02-07T06:28:15Z
HOUR = 3600
DAY = 86400


def midnight8(d: date) -> int:
    """00:00 of `d` at UTC+8: where wesync puts an all-day date."""
    return int(datetime(d.year, d.month, d.day, tzinfo=PLUS8).timestamp())


def at(zone: str, *parts: int) -> int:
    return int(datetime(*parts, tzinfo=ZoneInfo(zone)).timestamp())  # type: ignore[misc]


def translate(*lines: str, overrides: tuple[tuple[str, ...], ...] = ()) -> EventTranslation:
    return translate_event(parsed(*lines, overrides=overrides), options=OPTIONS, now=NOW)


def parsed(*lines: str, overrides: tuple[tuple[str, ...], ...] = ()) -> ParsedItem:
    return item(vevent(*lines), *(vevent(*o) for o in overrides))


def kinds(tr: EventTranslation) -> set[ProblemKind]:
    return {p.kind for p in tr.problems}


BIRTHDAY = ("SUMMARY:Mum", "DTSTART;VALUE=DATE:19650423", "RRULE:FREQ=YEARLY")


# --- to WeCom ------------------------------------------------------------------


def test_a_birthday_from_1965_starts_in_1970() -> None:
    tr = translate(*BIRTHDAY)
    assert set(tr.slots) == {MASTER} and not tr.skipped and not tr.problems
    master = tr.slots[MASTER]
    assert master.is_whole_day
    assert (master.start_time, master.end_time) == (
        midnight8(date(1970, 4, 23)),
        midnight8(date(1970, 4, 24)),
    )
    assert master.recurrence is not None and master.recurrence.repeat_type == 5
    assert master.recurrence.repeat_until == 0
    (note,) = tr.notes
    assert "1965-04-23" in note and "1970-04-23" in note


def test_the_series_zone_decides_the_first_holdable_occurrence() -> None:
    # 1970-01-01 00:00 at UTC+8 is 1969-12-31T16:00Z: negative, so 1971
    tr = translate("SUMMARY:New year", "DTSTART;VALUE=DATE:19600101", "RRULE:FREQ=YEARLY")
    assert tr.slots[MASTER].start_time == midnight8(date(1971, 1, 1))
    tr = translate("SUMMARY:d", "DTSTART;VALUE=DATE:19691225", "RRULE:FREQ=DAILY")
    assert tr.slots[MASTER].start_time == midnight8(date(1970, 1, 2))
    # in UTC, 1970-01-01T00:00:00Z is 0, which WeCom can hold
    tr = translate(
        "SUMMARY:d", "DTSTART:19691230T000000Z", "DTEND:19691230T010000Z", "RRULE:FREQ=DAILY"
    )
    assert (tr.slots[MASTER].start_time, tr.slots[MASTER].end_time) == (0, HOUR)
    tr = translate(
        "SUMMARY:w",
        "DTSTART;TZID=Asia/Tokyo:19600610T100000",
        "DURATION:PT2H",
        "RRULE:FREQ=WEEKLY;BYDAY=FR,MO",
    )
    master = tr.slots[MASTER]
    assert master.start_time == at("Asia/Tokyo", 1970, 1, 2, 10)  # the first Friday
    assert master.end_time - master.start_time == 2 * HOUR
    assert master.recurrence is not None and master.recurrence.repeat_day_of_week == (1, 5)


def test_a_count_is_counted_from_the_original_dtstart() -> None:
    tr = translate("SUMMARY:c", "DTSTART;VALUE=DATE:19650423", "RRULE:FREQ=YEARLY;COUNT=10")
    rec = tr.slots[MASTER].recurrence
    assert rec is not None  # 1965..1974: the five from 1970 on
    assert tr.slots[MASTER].start_time == midnight8(date(1970, 4, 23))
    assert rec.repeat_until == midnight8(date(1974, 4, 23))


def test_a_zone_that_changed_its_offset_since_1970_is_not_a_series() -> None:
    # Asia/Shanghai kept daylight saving 1986-1991: WeCom's one offset cannot say that
    tr = translate(
        "SUMMARY:w",
        "DTSTART;TZID=Asia/Shanghai:19650610T100000",
        "DURATION:PT1H",
        "RRULE:FREQ=WEEKLY",
    )
    assert tr.expanded and MASTER not in tr.slots
    assert ProblemKind.RECURRENCE_EXPANDED in kinds(tr)
    assert any("UTC offset" in p.message for p in tr.problems)


def test_exdates_and_overrides_before_1970_are_not_sent() -> None:
    tr = translate(
        *BIRTHDAY,
        "EXDATE;VALUE=DATE:19660423,19720423",
        overrides=(
            ("RECURRENCE-ID;VALUE=DATE:19670423", "DTSTART;VALUE=DATE:19670424", "SUMMARY:late"),
            ("RECURRENCE-ID;VALUE=DATE:19730423", "DTSTART;VALUE=DATE:19730425", "SUMMARY:moved"),
        ),
    )
    assert not tr.problems and not tr.skipped
    rec = tr.slots[MASTER].recurrence
    assert rec is not None
    assert rec.exclude_times == (midnight8(date(1972, 4, 23)), midnight8(date(1973, 4, 23)))
    assert set(tr.slots) == {MASTER, f"R:{midnight8(date(1973, 4, 23))}"}


def test_an_override_moved_from_before_1970_into_the_range_is_sent() -> None:
    rid = midnight8(date(1969, 4, 23))
    tr = translate(
        *BIRTHDAY,
        overrides=(("RECURRENCE-ID;VALUE=DATE:19690423", "DTSTART;VALUE=DATE:19700105"),),
    )
    assert tr.slots[f"R:{rid}"].start_time == midnight8(date(1970, 1, 5))


def test_a_series_that_ends_before_1970_is_left_local() -> None:
    for rule in ("FREQ=YEARLY;UNTIL=19691231", "FREQ=YEARLY;COUNT=5", "FREQ=DAILY;UNTIL=19700101"):
        tr = translate("SUMMARY:old", "DTSTART;VALUE=DATE:19650423", f"RRULE:{rule}")
        assert tr.skipped and not tr.slots, rule
        assert kinds(tr) == {ProblemKind.OUT_OF_RANGE}, rule


def test_a_single_event_before_1970_is_left_local() -> None:
    for lines in (
        ("DTSTART;VALUE=DATE:19650423",),
        ("DTSTART:19691231T230000Z", "DTEND:19700101T010000Z"),  # starts before
    ):
        tr = translate("SUMMARY:old", *lines)
        assert tr.skipped and not tr.slots and kinds(tr) == {ProblemKind.OUT_OF_RANGE}, lines
    # a single event at 0 exactly is fine
    tr = translate("SUMMARY:zero", "DTSTART:19700101T000000Z", "DTEND:19700101T010000Z")
    assert not tr.skipped and tr.slots[MASTER].start_time == 0


def test_after_2106() -> None:
    for lines in (
        ("DTSTART:21070101T000000Z", "DTEND:21070101T010000Z"),
        ("DTSTART:21060207T060000Z", "DTEND:21060207T070000Z"),  # ends after
        ("DTSTART:21070101T000000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY"),
    ):
        tr = translate("SUMMARY:far", *lines)
        assert tr.skipped and not tr.slots and kinds(tr) == {ProblemKind.OUT_OF_RANGE}, lines
    tr = translate("SUMMARY:edge", "DTSTART:21060207T052815Z", "DTEND:21060207T062815Z")
    assert (tr.slots[MASTER].start_time, tr.slots[MASTER].end_time) == (LAST - HOUR, LAST)


def test_a_series_ending_after_2106_is_cut_there() -> None:
    start = ("SUMMARY:y", "DTSTART;TZID=Asia/Tokyo:20600610T100000", "DURATION:PT1H")
    tr = translate(*start, "RRULE:FREQ=YEARLY;UNTIL=22000101T000000Z")
    rec = tr.slots[MASTER].recurrence
    assert rec is not None and rec.repeat_until == at("Asia/Tokyo", 2105, 6, 10, 10)
    assert not tr.problems and len(tr.notes) == 1 and "2106" in tr.notes[0]
    # a series that never ends stays so: "forever" means the same in WeCom
    tr = translate(*start, "RRULE:FREQ=YEARLY", "EXDATE;TZID=Asia/Tokyo:21100610T100000")
    rec = tr.slots[MASTER].recurrence
    assert rec is not None and rec.repeat_until == 0 and rec.exclude_times == ()
    assert not tr.problems and not tr.notes


def test_an_occurrence_moved_past_2106_is_reported_and_stays_excluded() -> None:
    rid = at("Asia/Tokyo", 2105, 6, 10, 10)
    tr = translate(
        "SUMMARY:y",
        "DTSTART;TZID=Asia/Tokyo:20600610T100000",
        "DURATION:PT1H",
        "RRULE:FREQ=YEARLY",
        overrides=(
            (
                "RECURRENCE-ID;TZID=Asia/Tokyo:21050610T100000",
                "DTSTART;TZID=Asia/Tokyo:21070610T100000",
                "DURATION:PT1H",
            ),
        ),
    )
    assert set(tr.slots) == {MASTER} and not tr.skipped
    assert kinds(tr) == {ProblemKind.OUT_OF_RANGE}
    rec = tr.slots[MASTER].recurrence
    assert rec is not None and rec.exclude_times == (rid,)


# --- back from WeCom -----------------------------------------------------------


def written(
    existing: ParsedItem, edit: dict[str, ScheduleDraft] | None = None
) -> tuple[bytes, EventTranslation]:
    """The file after WeCom's version (the translation, with `edit` on top) is
    written back onto `existing`, and that file translated again."""
    slots = {**translate_event(existing, options=OPTIONS, now=NOW).slots, **(edit or {})}
    schedules = {k: schedule_from_draft(d, cal_id="c") for k, d in slots.items()}
    cal = schedules_to_item("ev-1", schedules, options=OPTIONS, existing=existing, now=NOW)
    data = serialize(cal)
    again = translate_event(parse_item(data, where="again.ics"), options=OPTIONS, now=NOW)
    assert group_digest(again.slots, with_responses=False) == group_digest(
        {k: draft_from_schedule(s) for k, s in schedules.items()}, with_responses=False
    )
    return data, again


def lines_of(data: bytes) -> list[str]:
    return data.decode().replace("\r\n ", "").split("\r\n")


def test_read_back_unchanged_changes_nothing() -> None:
    existing = parsed(
        *BIRTHDAY,
        "EXDATE;VALUE=DATE:19660423",
        overrides=(
            ("RECURRENCE-ID;VALUE=DATE:19670423", "DTSTART;VALUE=DATE:19670424", "SUMMARY:late"),
        ),
    )
    data, _ = written(existing)
    assert data == serialize(existing.calendar)


def test_a_wecom_edit_lands_on_the_1965_dtstart() -> None:
    existing = parsed(*BIRTHDAY, "EXDATE;VALUE=DATE:19660423")
    master = translate_event(existing, options=OPTIONS, now=NOW).slots[MASTER]
    edited = replace(master, summary="Mum's birthday", remind_time_diffs=(-86400,))
    data, _ = written(existing, {MASTER: edited})
    lines = lines_of(data)
    assert "DTSTART;VALUE=DATE:19650423" in lines and "RRULE:FREQ=YEARLY" in lines
    assert "EXDATE;VALUE=DATE:19660423" in lines  # WeCom never had it: it stays
    assert "SUMMARY:Mum's birthday" in lines and "TRIGGER:-P1D" in lines


def test_a_wecom_move_shifts_the_1965_dtstart_and_keeps_the_rule() -> None:
    existing = parsed(*BIRTHDAY)
    master = translate_event(existing, options=OPTIONS, now=NOW).slots[MASTER]
    data, _ = written(
        existing,
        {
            MASTER: replace(
                master, start_time=master.start_time + DAY, end_time=master.end_time + DAY
            )
        },
    )
    lines = lines_of(data)
    assert "DTSTART;VALUE=DATE:19650424" in lines and "RRULE:FREQ=YEARLY" in lines
    timed = parsed(
        "SUMMARY:anniversary",
        "DTSTART;TZID=Asia/Tokyo:19600610T100000",
        "DTEND;TZID=Asia/Tokyo:19600610T110000",
        "RRULE:FREQ=YEARLY;COUNT=100",
    )
    master = translate_event(timed, options=OPTIONS, now=NOW).slots[MASTER]
    later = replace(
        master, start_time=master.start_time + HOUR, end_time=master.end_time + 2 * HOUR
    )
    data, _ = written(timed, {MASTER: later})
    lines = lines_of(data)
    assert "DTSTART;TZID=Asia/Tokyo:19600610T110000" in lines
    assert "DTEND;TZID=Asia/Tokyo:19600610T130000" in lines
    # the last occurrence (2059 at 11:00) is past the one WeCom kept, 2059 at 10:00,
    # so the rule ends a year earlier: WeCom's own end, written as UNTIL
    assert "RRULE:FREQ=YEARLY;UNTIL=20580610T020000Z" in lines


def test_a_new_rule_the_1965_start_cannot_carry_is_written_from_1970() -> None:
    existing = parsed(*BIRTHDAY)
    master = translate_event(existing, options=OPTIONS, now=NOW).slots[MASTER]
    assert master.recurrence is not None
    monthly = replace(master.recurrence, repeat_type=2, repeat_day_of_month=(23,))
    data, again = written(existing, {MASTER: replace(master, recurrence=monthly)})
    lines = lines_of(data)
    assert "DTSTART;VALUE=DATE:19700423" in lines
    assert "RRULE:FREQ=MONTHLY;BYMONTHDAY=23" in lines
    assert not again.notes  # nothing before 1970 is left


def test_an_override_wecom_cannot_hold_stays_in_the_file() -> None:
    existing = parsed(
        "SUMMARY:y",
        "DTSTART;TZID=Asia/Tokyo:20600610T100000",
        "DURATION:PT1H",
        "RRULE:FREQ=YEARLY",
        overrides=(
            (
                "RECURRENCE-ID;TZID=Asia/Tokyo:21050610T100000",
                "DTSTART;TZID=Asia/Tokyo:21070610T100000",
                "DURATION:PT1H",
            ),
        ),
    )
    data, _ = written(existing)
    assert data == serialize(existing.calendar)
    master = translate_event(existing, options=OPTIONS, now=NOW).slots[MASTER]
    data, _ = written(existing, {MASTER: replace(master, summary="renamed")})
    lines = lines_of(data)
    assert "RECURRENCE-ID;TZID=Asia/Tokyo:21050610T100000" in lines
    assert "DTSTART;TZID=Asia/Tokyo:21070610T100000" in lines
    assert not any(line.startswith("EXDATE") for line in lines)


def test_until_after_2106_reads_back_unchanged() -> None:
    existing = parsed(
        "SUMMARY:y",
        "DTSTART;TZID=Asia/Tokyo:20600610T100000",
        "DURATION:PT1H",
        "RRULE:FREQ=YEARLY;UNTIL=22000101T000000Z",
        "EXDATE;TZID=Asia/Tokyo:21500610T100000",
    )
    data, _ = written(existing)
    assert data == serialize(existing.calendar)
    assert datetime.fromtimestamp(LAST, UTC) == datetime(2106, 2, 7, 6, 28, 15, tzinfo=UTC)
