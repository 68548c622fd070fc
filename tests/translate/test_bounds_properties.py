"""Series that start before 1970 (birthdays, anniversaries), over generated rules.

WeCom's times are uint32, so such a series goes to WeCom from its first
occurrence WeCom can hold. Properties: WeCom's series (read by the
independent expander in wecom_expand.py) has exactly the file's own RFC 5545
instants from that first one on, for a few years; writing WeCom's version
back onto the file changes nothing; and a WeCom edit (a new summary, a new
reminder, a new time of day) written back keeps the DTSTART before 1970,
moved by that edit, and translates to exactly the edited schedule again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.translate import wecom_expand
from tests.translate.conftest import PROPERTIES
from tests.translate.test_properties import FREQS, Case
from wesync.translate.canonical import MASTER, ProblemKind, group_digest
from wesync.translate.ics import parse_item, serialize
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import draft_from_schedule, schedule_from_draft
from wesync.translate.to_ical import schedules_to_item
from wesync.translate.to_wecom import translate_event

NOW = 1767225600  # 2026-01-01T00:00:00Z
FEW_YEARS = 4 * 366 * 86400
#: zones that kept one whole-hour offset since 1970 (before, some did not: it
#: must not matter, only what WeCom holds is compared)
ZONES = ("UTC", "Asia/Tokyo", "Asia/Dubai", "Etc/GMT+3", "Etc/GMT-8")
OPTIONS = TranslateOptions()
#: each example walks a rule from the 1960s (and the edits write and read a file
#: three times): 400 keep these two within the suite's time
EXAMPLES = settings(PROPERTIES, max_examples=400)


@st.composite
def before_1970(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from((None, None, *ZONES)))  # all-day: birthdays
    # mostly the last decade before 1970; daily rules from 1900 are slow to walk
    low = draw(st.sampled_from((date(1960, 1, 1), date(1960, 1, 1), date(1900, 1, 1))))
    day = draw(st.dates(min_value=low, max_value=date(1969, 12, 31)))
    start = datetime(day.year, day.month, day.day, draw(st.integers(0, 23)), 0)
    freq = draw(st.sampled_from(tuple(FREQS)))
    if low.year == 1900 and freq == "DAILY":
        freq = "YEARLY"
    interval = draw(st.integers(1, 3))
    byday: tuple[int, ...] = ()
    bymonthday: tuple[int, ...] = ()
    if freq == "WEEKLY" and draw(st.booleans()):
        byday = tuple(sorted(draw(st.sets(st.integers(0, 6), min_size=1, max_size=4))))
    if freq == "MONTHLY" and draw(st.booleans()):
        bymonthday = tuple(sorted(draw(st.sets(st.integers(1, 31), min_size=1, max_size=3))))
    end = draw(st.sampled_from(("", "", "COUNT", "UNTIL")))
    span = (datetime(1975, 1, 1) - start).days
    count = draw(st.integers(1, 80))
    until_days = draw(st.integers(0, span))
    picks = tuple(draw(st.lists(st.integers(0, 40), max_size=4)))
    return Case(zone, start, freq, interval, byday, bymonthday, end, count, until_days, picks)


def _instants(case: Case, until: int) -> list[int]:
    out = [int(case.aware_start().timestamp())] if case.off_rule() else []
    for dt in case.dateutil_rule():
        t = int(dt.timestamp())
        if t > until:
            break
        out.append(t)
    return out


def _setup(case: Case) -> tuple[list[int], list[int], bytes]:
    """The RFC instants up to a few years after 1970, the excluded ones, and the file."""
    rfc = _instants(case, FEW_YEARS)
    excluded = sorted({rfc[i] for i in case.exdate_picks if i < len(rfc)})
    zone = case.aware_start().tzinfo
    return rfc, excluded, case.ics([datetime.fromtimestamp(t, zone) for t in excluded])


@EXAMPLES
@given(before_1970())
def test_wecom_holds_the_series_from_its_first_occurrence_after_1970(case: Case) -> None:
    rfc, excluded, data = _setup(case)
    tr = translate_event(parse_item(data, where="c.ics"), options=OPTIONS, now=NOW)
    held = [t for t in rfc if t >= 0]
    if not held:
        if case.end:  # ended before 1970: left local, reported
            assert tr.skipped and not tr.slots
            assert {p.kind for p in tr.problems} == {ProblemKind.OUT_OF_RANGE}
        return
    assert not tr.expanded and not tr.skipped and set(tr.slots) == {MASTER}, tr.problems
    draft = tr.slots[MASTER]
    assert draft.start_time == held[0]
    assert draft.end_time - draft.start_time == (86400 if case.zone is None else 45 * 60)
    assert draft.recurrence is not None
    schedule = schedule_from_draft(draft, cal_id="cal")
    got = [t for t in wecom_expand.expand(schedule, until=FEW_YEARS) if t not in excluded]
    assert got == [t for t in held if t not in excluded]
    assert draft.recurrence.exclude_times == tuple(t for t in excluded if t >= 0)
    # said once; a COUNT that reaches past 2106 adds that it ends there in WeCom
    assert "before what WeCom can hold" in tr.notes[0] and not tr.problems


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, int]:
    kind = draw(st.sampled_from(("none", "summary", "reminder", "time")))
    return kind, draw(st.integers(-23, 23))


@EXAMPLES
@given(before_1970(), edits())
def test_wecom_edits_come_back_onto_the_original_dtstart(case: Case, edit: tuple[str, int]) -> None:
    rfc, _, data = _setup(case)
    held = [t for t in rfc if t >= 0]
    assume(held)
    existing = parse_item(data, where="c.ics")
    first = translate_event(existing, options=OPTIONS, now=NOW)
    assume(not first.expanded)  # no DTSTART is on the wall clock it is written on
    draft = first.slots[MASTER]
    kind, hours = edit
    shift = 0
    if kind == "summary":
        draft = replace(draft, summary="edited in WeCom")
    elif kind == "reminder":
        draft = replace(draft, remind_time_diffs=(-3600,) if case.zone else (-86400,))
    elif kind == "time":
        assume(case.zone is not None)
        shift = hours * 3600
        # a new time of day on the same day; the occurrence before the first one
        # WeCom holds stays before 1970 (else the 1965 series would have one more)
        local = case.start.hour + hours
        before = [t for t in rfc if t < 0]
        assume(0 <= local <= 23 and held[0] + shift >= 0 and before and before[-1] + shift < 0)
        draft = replace(draft, start_time=draft.start_time + shift, end_time=draft.end_time + shift)
    edited = {MASTER: draft_from_schedule(schedule_from_draft(draft, cal_id="cal"))}
    schedules = {MASTER: schedule_from_draft(draft, cal_id="cal")}
    cal = schedules_to_item("ev-1", schedules, options=OPTIONS, existing=existing, now=NOW)
    written = serialize(cal)
    if kind == "none":
        assert written == serialize(existing.calendar)  # WeCom's own copy changes nothing
        return
    again = translate_event(parse_item(written, where="w.ics"), options=OPTIONS, now=NOW)
    assert group_digest(again.slots, with_responses=False) == group_digest(
        edited, with_responses=False
    )
    (event,) = [e for e in parse_item(written, where="w.ics").events]
    start = event["DTSTART"].dt
    want = case.start + timedelta(seconds=shift)
    assert start == (want.date() if case.zone is None else want.replace(tzinfo=start.tzinfo))
    if not case.end or kind != "time":
        # the rule as the file said it (a new time of day moves an UNTIL/COUNT end)
        assert (
            event["RRULE"].to_ical() == parse_item(data, where="c.ics").events[0]["RRULE"].to_ical()
        )
    # and a second pass changes nothing
    back = {MASTER: schedule_from_draft(again.slots[MASTER], cal_id="cal")}
    reread = parse_item(written, where="w.ics")
    assert (
        serialize(schedules_to_item("ev-1", back, options=OPTIONS, existing=reread, now=NOW))
        == written
    )
