"""Overrides whose RECURRENCE-ID names no occurrence of the rule (an extra meeting
added to a series, one before DTSTART or after UNTIL), and other odd overrides.

Such an override is a single schedule of its own under its slot "R:<rid>", with
no exclusion on the series; WeCom's version of it comes back onto the same
RECURRENCE-ID, and a cancel in WeCom removes the override (there is no
occurrence of the rule to EXDATE)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.translate import wecom_expand
from tests.translate.conftest import PROPERTIES
from tests.translate.helpers import item, vevent
from tests.translate.test_properties import THREE_YEARS, Case, representable
from tests.translate.test_properties import _rfc_instants as rfc_instants
from wesync.translate.canonical import MASTER, ScheduleDraft, group_digest
from wesync.translate.ics import ParsedItem, parse_item, serialize
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import schedule_from_draft
from wesync.translate.series import is_occurrence
from wesync.translate.to_ical import schedules_to_item
from wesync.translate.to_wecom import translate_event
from wesync.wecom.models import Schedule

NOW = 1767225600  # 2026-01-01T00:00:00Z
OPTIONS = TranslateOptions()
MONDAY_15 = 1799046000  # 2027-01-04T15:00:00+08:00
DAY = 86400
WEDNESDAY_15 = MONDAY_15 + 2 * DAY
TZ = "TZID=Asia/Shanghai"
ALL_DAY = timezone(timedelta(hours=8))  #: an all-day event's dates are read at +8


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
    # WeCom's times are uint32: a 1965 birthday series is sent from its first
    # occurrence WeCom can hold (tests/translate/test_bounds.py has the rest); a
    # 1965 one-off is left out (WeCom alone)
    birthday = ["SUMMARY:Birthday", "DTSTART;VALUE=DATE:19650423", "DURATION:P1D"]
    tr = translate_event(item(vevent(*birthday, "RRULE:FREQ=YEARLY")), options=OPTIONS, now=NOW)
    assert not tr.expanded and list(tr.slots) == [MASTER]
    assert tr.slots[MASTER].start_time == 9648000  # 1970-04-23 00:00 +08:00
    assert any("1970" in n for n in tr.notes) and tr.problems == ()
    tr = translate_event(item(vevent(*birthday)), options=OPTIONS, now=NOW)
    assert tr.skipped and tr.slots == {}
    assert any("1970" in p.message and "the event" in p.message for p in tr.problems)
    # an override WeCom cannot hold is left out, the rest is sent
    early = override("19691229T150000", "Too early")
    tr = translate_event(item(series(), early), options=OPTIONS, now=NOW)
    assert set(tr.slots) == {MASTER} and not tr.skipped


# --- a property: overrides on and off the rule ----------------------------------

SHIFT = 15 * 60  #: overrides move, and off-rule RECURRENCE-IDs sit, on a 15-minute grid


@dataclass(frozen=True)
class Moved:
    on_rule: bool
    pick: int  #: which occurrence it is at, or next to
    off_by: int  #: off the rule: grid steps (timed) or days (all-day) from it
    moved_by: int  #: grid steps (timed) or days (all-day) the override moves
    cancelled: bool


moves = st.builds(
    Moved,
    on_rule=st.booleans(),
    pick=st.integers(-1, 40),
    off_by=st.integers(-300, 300).filter(bool),
    moved_by=st.integers(-8, 8),
    cancelled=st.integers(0, 4).map(lambda n: n == 0),
)


def _value(t: int, case: Case) -> str:
    """A RECURRENCE-ID or DTSTART value for instant `t` (all-day: its date at +8)."""
    if case.zone is None:
        return f";VALUE=DATE:{datetime.fromtimestamp(t, ALL_DAY):%Y%m%d}"
    return f":{datetime.fromtimestamp(t, UTC):%Y%m%dT%H%M%SZ}"


@PROPERTIES
@given(representable(), st.lists(moves, max_size=5))
def test_overrides_on_and_off_the_rule_give_the_files_occurrences(
    case: Case, moved: list[Moved]
) -> None:
    start = int(case.aware_start().timestamp())
    horizon = start + THREE_YEARS
    rule = rfc_instants(case, horizon + 30 * DAY)
    assume(not case.off_rule() or len(rule) > 1)  # the rule has an instance of its own
    on = set(rule)
    step = DAY if case.zone is None else SHIFT
    excluded = {rule[i] for i in case.exdate_picks if i < len(rule)}
    overrides: dict[int, tuple[int, bool]] = {}  # rid -> (start, cancelled)
    for m in moved:
        at = rule[max(0, min(m.pick, len(rule) - 1))] if m.pick >= 0 else start
        rid = at if m.on_rule else at + m.off_by * step
        if rid < 0 or rid > horizon or (not m.on_rule and rid in on):
            continue
        overrides[rid] = (rid + m.moved_by * step, m.cancelled)
    # RFC 5545: the rule's instants less EXDATEs; an override replaces the
    # instance it names (an EXDATEd one too: it is the later word), or, naming
    # none, adds one; a cancelled override shows nothing
    want = [t for t in rule if t not in excluded and t not in overrides]
    want += [s for s, cancelled in overrides.values() if not cancelled]
    lines = []
    for rid, (s, cancelled) in overrides.items():
        body = [f"RECURRENCE-ID{_value(rid, case)}", f"DTSTART{_value(s, case)}", "SUMMARY:o"]
        if case.zone is None:
            body.append(f"DTEND;VALUE=DATE:{datetime.fromtimestamp(s + DAY, ALL_DAY):%Y%m%d}")
        else:
            body.append(f"DTEND{_value(s + 45 * 60, case)}")
        lines.append(vevent(*body, *(["STATUS:CANCELLED"] if cancelled else [])))
    values = [datetime.fromtimestamp(t, case.aware_start().tzinfo) for t in sorted(excluded)]
    data = case.ics(values).replace(b"END:VCALENDAR", "".join(lines).encode() + b"END:VCALENDAR")
    tr = translate_event(parse_item(data, where="case.ics"), options=OPTIONS, now=NOW)
    assert not tr.expanded and not tr.skipped, tr.problems
    master = schedule_from_draft(tr.slots[MASTER], cal_id="c")
    rec = tr.slots[MASTER].recurrence
    assert rec is not None and master.start_time is not None
    wecom_series = wecom_expand.expand(master, until=horizon + 30 * DAY)
    got = [t for t in wecom_series if t not in rec.exclude_times]
    got += [d.start_time for k, d in tr.slots.items() if k != MASTER]
    cut = horizon - 10 * DAY  # overrides move a little past where the rule was cut
    assert sorted(t for t in got if t <= cut) == sorted(t for t in want if t <= cut)
    # what push_event splits off the series (is_occurrence) is exactly
    # what the independent expander calls an occurrence; the rest is added
    for key in tr.slots:
        if key.startswith("R:"):
            rid = int(key[2:])
            split = is_occurrence(master.start_time, rec, rid)
            assert split == (rid in wecom_series) == (rid in rec.exclude_times)


def test_wecom_edit_written_into_a_file_with_overrides_before_the_master() -> None:
    # Google writes a series' overrides before its master; WeCom's version written
    # back must update that master, not add a second one
    parsed = item(override("20270106T150000", "Extra"), series())
    schedules = as_wecom(slots_of(parsed))
    edited = {**schedules, MASTER: replace(schedules[MASTER], summary="Series!")}
    back = written(parsed, edited)
    assert serialize(back.calendar).count(b"RRULE") == 1
    assert [str(e["SUMMARY"]) for e in back.events] == ["Series!", "Extra"]
