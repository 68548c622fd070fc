"""Overrides whose RECURRENCE-ID names no occurrence of the rule (an extra meeting
added to a series, one before DTSTART or after UNTIL), and other odd overrides.

Such an override is a single schedule of its own under its slot "R:<rid>", with
no exclusion on the series; WeCom's version of it comes back onto the same
RECURRENCE-ID, and a cancel in WeCom removes the override (there is no
occurrence of the rule to EXDATE)."""

from __future__ import annotations

from dataclasses import replace

from tests.translate.helpers import item, vevent
from wesync.translate.canonical import MASTER, ScheduleDraft, group_digest
from wesync.translate.ics import ParsedItem, parse_item, serialize
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import schedule_from_draft
from wesync.translate.to_ical import schedules_to_item
from wesync.translate.to_wecom import translate_event
from wesync.wecom.models import Schedule

NOW = 1767225600  # 2026-01-01T00:00:00Z
OPTIONS = TranslateOptions()
MONDAY_15 = 1799046000  # 2027-01-04T15:00:00+08:00
DAY = 86400
WEDNESDAY_15 = MONDAY_15 + 2 * DAY
TZ = "TZID=Asia/Shanghai"


def series(*extra: str, rule: str = "FREQ=WEEKLY;COUNT=8") -> str:
    return vevent(
        "SUMMARY:Series",
        f"DTSTART;{TZ}:20270104T150000",
        f"DTEND;{TZ}:20270104T160000",
        f"RRULE:{rule}",
        *extra,
    )


def override(
    rid: str, summary: str, *, start: str | None = None, extra: tuple[str, ...] = ()
) -> str:
    begin = start or rid
    end = f"{begin[:9]}{int(begin[9:11]) + 1:02d}{begin[11:]}"
    return vevent(
        f"RECURRENCE-ID;{TZ}:{rid}",
        f"SUMMARY:{summary}",
        f"DTSTART;{TZ}:{begin}",
        f"DTEND;{TZ}:{end}",
        *extra,
    )


def slots_of(parsed: ParsedItem) -> dict[str, ScheduleDraft]:
    tr = translate_event(parsed, options=OPTIONS, now=NOW)
    assert not tr.skipped and not tr.expanded, tr.problems
    return dict(tr.slots)


def as_wecom(slots: dict[str, ScheduleDraft]) -> dict[str, Schedule]:
    return {k: schedule_from_draft(d, cal_id="c") for k, d in slots.items()}


def written(existing: ParsedItem | None, schedules: dict[str, Schedule]) -> ParsedItem:
    cal = schedules_to_item("ev-1", schedules, options=OPTIONS, existing=existing, now=NOW)
    return parse_item(serialize(cal), where="back.ics")


def test_an_extra_occurrence_is_a_single_with_no_exclusion() -> None:
    slots = slots_of(item(series(), override("20270106T150000", "Extra")))
    assert set(slots) == {MASTER, f"R:{WEDNESDAY_15}"}
    rec = slots[MASTER].recurrence
    assert rec is not None and rec.exclude_times == ()
    extra = slots[f"R:{WEDNESDAY_15}"]
    assert (extra.summary, extra.start_time, extra.recurrence) == ("Extra", WEDNESDAY_15, None)
    # new from WeCom, it is written as that override and reads back the same
    back = slots_of(written(None, as_wecom(slots)))
    assert group_digest(back, with_responses=False) == group_digest(slots, with_responses=False)


def test_wecom_edit_and_cancel_of_an_extra_occurrence() -> None:
    existing = item(series(), override("20270106T150000", "Extra"))
    schedules = as_wecom(slots_of(existing))
    key = f"R:{WEDNESDAY_15}"
    # unchanged: the file is written back byte for byte
    assert serialize(written(existing, schedules).calendar) == serialize(existing.calendar)
    edited = written(existing, {**schedules, key: replace(schedules[key], summary="Extra!")})
    (ov,) = edited.overrides
    assert f"RECURRENCE-ID;{TZ}:20270106T150000".encode() in serialize(edited.calendar)
    assert str(ov["SUMMARY"]) == "Extra!"
    assert "EXDATE" not in edited.master  # type: ignore[operator]
    # cancelled in WeCom (gone from the listing): the override goes, no EXDATE
    gone = written(existing, {MASTER: schedules[MASTER]})
    assert gone.overrides == () and "EXDATE" not in gone.master  # type: ignore[operator]
    assert set(slots_of(gone)) == {MASTER}
    cancelled = {**schedules, key: replace(schedules[key], status=1)}
    assert serialize(written(existing, cancelled).calendar) == serialize(gone.calendar)


def test_overrides_before_dtstart_and_after_until() -> None:
    before = override("20261228T150000", "Earlier")
    after = override("20270125T150000", "Later")
    parsed = item(series(rule="FREQ=WEEKLY;UNTIL=20270120T000000Z"), before, after)
    slots = slots_of(parsed)
    assert set(slots) == {MASTER, f"R:{MONDAY_15 - 7 * DAY}", f"R:{MONDAY_15 + 21 * DAY}"}
    rec = slots[MASTER].recurrence
    assert rec is not None and rec.exclude_times == ()
    back = slots_of(written(parsed, as_wecom(slots)))
    assert group_digest(back, with_responses=False) == group_digest(slots, with_responses=False)


def test_an_override_of_an_exdated_occurrence_keeps_its_exdate() -> None:
    # the override wins over the EXDATE (it is what the file shows of that
    # occurrence); written back from WeCom, the file keeps both as they were
    exdate = f"EXDATE;{TZ}:20270111T150000"
    parsed = item(series(exdate), override("20270111T150000", "Moved", start="20270112T100000"))
    slots = slots_of(parsed)
    rid = MONDAY_15 + 7 * DAY
    assert slots[f"R:{rid}"].summary == "Moved"
    rec = slots[MASTER].recurrence
    assert rec is not None and rec.exclude_times == (rid,)
    schedules = as_wecom(slots)
    master = replace(schedules[MASTER], summary="Series!")
    back = written(parsed, {**schedules, MASTER: master})
    assert back.master is not None and "EXDATE" in back.master
    assert [o["SUMMARY"] for o in back.overrides] == ["Moved"]
    assert set(slots_of(back)) == set(slots)


def test_two_overrides_of_one_occurrence_the_higher_sequence_counts() -> None:
    old = override("20270106T150000", "Old", extra=("SEQUENCE:3",))
    new = override("20270106T150000", "New", extra=("SEQUENCE:4",))
    for events in ((old, new), (new, old)):
        slots = slots_of(item(series(), *events))
        assert slots[f"R:{WEDNESDAY_15}"].summary == "New"
    # a tie: the later in the file
    tie = override("20270106T150000", "Later", extra=("SEQUENCE:3",))
    assert slots_of(item(series(), old, tie))[f"R:{WEDNESDAY_15}"].summary == "Later"
    # cancelled in WeCom, both go: the older revision cannot come back in its place
    parsed = item(series(), old, new)
    gone = written(parsed, {MASTER: as_wecom(slots_of(parsed))[MASTER]})
    assert b"RECURRENCE-ID" not in serialize(gone.calendar)


def test_times_wecom_cannot_hold_are_reported_never_sent() -> None:
    # WeCom's times are uint32: a 1965 birthday series goes to the fallback, with
    # only the window's occurrences; a 1965 one-off is left out (WeCom alone)
    birthday = ["SUMMARY:Birthday", "DTSTART;VALUE=DATE:19650423", "DURATION:P1D"]
    tr = translate_event(item(vevent(*birthday, "RRULE:FREQ=YEARLY")), options=OPTIONS, now=NOW)
    assert tr.expanded and list(tr.slots) == ["X:1776873600"]  # 2026-04-23 00:00 +08:00
    assert any("1970" in p.message for p in tr.problems)
    tr = translate_event(item(vevent(*birthday)), options=OPTIONS, now=NOW)
    assert tr.skipped and tr.slots == {}
    assert any("1970" in p.message and "the event" in p.message for p in tr.problems)
    # an UNTIL past 2106 cannot be a repeat_until either
    tr = translate_event(
        item(series(rule="FREQ=YEARLY;UNTIL=22000101T000000Z")), options=OPTIONS, now=NOW
    )
    assert tr.expanded and all(0 < d.start_time < 2**32 for d in tr.slots.values())
    # an override WeCom cannot hold is left out, the rest is sent
    early = override("19691229T150000", "Too early")
    tr = translate_event(item(series(), early), options=OPTIONS, now=NOW)
    assert set(tr.slots) == {MASTER} and not tr.skipped
    assert any("override of 1969-12-29" in p.message for p in tr.problems)
