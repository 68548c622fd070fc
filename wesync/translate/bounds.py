"""The instants WeCom can hold: its times are unsigned 32-bit Unix seconds.

start_time, end_time, repeat_until, op_start_time and an exclusion's
start_time are uint32 in WeCom's API, so nothing before 1970-01-01T00:00:00Z
or after 2106-02-07T06:28:15Z can be sent. What an event holds outside that
range stays in the file (never approximated, never read as deleted):

- a series whose DTSTART lies before it goes to WeCom as the same series from
  its first occurrence WeCom can hold (to_wecom.py finds it before checking
  the rule, since the check must cover what WeCom will hold); the earlier
  occurrences cannot exist in WeCom, said once as a note, not a problem;
- a series that ends after it is cut at its last occurrence WeCom can hold
  (a note); one that never ends stays "forever" (repeat_until 0), which is
  exactly what it means in WeCom too;
- exclusions outside it are not sent;
- a single schedule (an event, an override, an off-rule DTSTART, an expanded
  occurrence) that does not fit wholly inside it is not sent and is reported;
  when nothing of the event is left the event is `skipped` (left alone on both
  sides, like the `skip` fallback), so it never reads as a deletion;
- a series that starts after it, or ends before it, likewise.

Reading WeCom's version back (to_ical.py) keeps the file's DTSTART before the
range: WeCom's change is carried over as a shift of it (`shifted`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from itertools import chain
from typing import TYPE_CHECKING, Any

from dateutil import rrule as du

from wesync.translate import rules, series
from wesync.translate.canonical import (
    MASTER,
    EventTranslation,
    Problem,
    ProblemKind,
    Recurrence,
    ScheduleDraft,
    SlotKey,
    slot_start,
)
from wesync.translate.zones import at_wall, constant_offset, epoch

if TYPE_CHECKING:
    from wesync.translate.to_wecom import Times

EPOCH_MIN = 0
EPOCH_MAX = 2**32 - 1


def holds(t: int) -> bool:
    """Whether WeCom can hold the instant `t`."""
    return EPOCH_MIN <= t <= EPOCH_MAX


def when(t: int) -> str:
    """An instant for a message, in UTC (the range's own terms)."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")


RANGE = f"{when(EPOCH_MIN)}..{when(EPOCH_MAX)}"


def first_holdable(instances: Iterable[datetime]) -> datetime | None:
    """The first instance WeCom can hold (None: they all lie outside the range)."""
    for dt in instances:
        t = epoch(dt)
        if t > EPOCH_MAX:
            return None
        if t >= EPOCH_MIN:
            return dt
    return None


def holdable_series(
    recur: Any, dtstart: datetime, rule: du.rrule, *, now: int
) -> tuple[datetime, Recurrence | str] | str:
    """For a DTSTART before what WeCom can hold: the series' first occurrence it
    can hold and the WeCom series from there (or why WeCom cannot hold it
    exactly), checked from there since that is what WeCom will hold; or, when
    no occurrence is left to hold, the message saying so.

    rules.exact checks a few years from that start and then that the zone
    keeps its offset for ten more; a series from 1970 has decades behind it
    (Asia/Shanghai kept daylight saving 1986-1991), so the zone must keep one
    offset from then until ten years after `now` for WeCom's fixed offset to
    give the same instants."""
    zone = dtstart.tzinfo
    assert zone is not None  # to_wecom reads every DTSTART as an aware time
    # a fixed-step rule jumps close to 1970 instead of walking every day since DTSTART
    base = rules.rebased(recur, dtstart, datetime.fromtimestamp(EPOCH_MIN, zone))
    if base != dtstart:
        rule = rules.to_dateutil(recur, base)
    # RFC 5545 counts DTSTART even off the rule; a rebased start is no DTSTART
    instances = iter(rule) if base != dtstart else rules.rfc_starts(rule, dtstart)
    first = first_holdable(instances)
    if first is None:
        return (
            f"{rules.describe(recur)} from {dtstart:%Y-%m-%d}: no occurrence lies in what "
            f"WeCom can hold ({RANGE}); the event is kept in the file and not sent"
        )
    found = rules.exact_from(recur, first, rule, chain([first], instances))
    years = max(0, now - epoch(first)) // (366 * 86400) + rules.STABLE_YEARS
    fixed = isinstance(zone, timezone)  # (all-day: UTC+8) cannot change
    if not (isinstance(found, str) or fixed) and constant_offset(zone, first, years) is None:
        found = f"{rules.describe(recur)}: the time zone changes its UTC offset since {first:%Y}"
    return first, found


def before_1970(dtstart: datetime, first: datetime, *, all_day: bool) -> str:
    shown = f"{first:%Y-%m-%d}" if all_day else first.isoformat()
    return (
        f"DTSTART {dtstart:%Y-%m-%d} lies before what WeCom can hold (1970 on): WeCom has "
        f"the series from {shown} on; the occurrences before stay in the file only"
    )


def anchor(
    file: Times | None, old: ScheduleDraft | None, new: ScheduleDraft | None
) -> tuple[int, int] | None:
    """For a series whose file DTSTART (`file`) lies before what WeCom can hold,
    so that WeCom's series (`old` as sent, `new` as WeCom has it now) starts at
    its first occurrence from 1970 on: that DTSTART, and where WeCom's change
    moves it (as far on DTSTART's wall clock as the series moved)."""
    if old is None or old.recurrence is None or new is None or new.recurrence is None:
        return None
    if file is None or holds(file.start) or file.dtstart.tzinfo is None:
        return None
    return file.start, _shifted(file.start, old.start_time, new.start_time, file.dtstart.tzinfo)


def _shifted(dtstart: int, old_start: int, new_start: int, zone: tzinfo) -> int:
    old = datetime.fromtimestamp(old_start, zone).replace(tzinfo=None)
    new = datetime.fromtimestamp(new_start, zone).replace(tzinfo=None)
    wall = datetime.fromtimestamp(dtstart, zone).replace(tzinfo=None)
    return epoch(at_wall(wall + (new - old), zone))


def left_local(rid: int, own: Times | None) -> bool:
    """Whether an override was never sent as WeCom cannot hold it: its own times
    (`own`; None for a cancelled one or one without DTSTART: its RECURRENCE-ID)
    lie outside the range. It stays in the file as it is."""
    if own is None:
        return not holds(rid)
    return not (holds(own.start) and holds(own.end))


def fit(tr: EventTranslation, notes: Iterable[str]) -> EventTranslation:
    """The translation without what WeCom cannot hold (see the module's doc)."""
    said = [*tr.notes, *notes]
    problems = list(tr.problems)

    def problem(message: str) -> None:
        p = Problem(kind=ProblemKind.OUT_OF_RANGE, message=message)
        if p not in problems:
            problems.append(p)

    slots: dict[SlotKey, ScheduleDraft] = {}
    for key, d in tr.slots.items():
        if d.recurrence is not None:
            kept = _series(d, problem, said)
            if kept is not None:
                slots[key] = kept
        elif holds(d.start_time) and holds(d.end_time):
            slots[key] = d
        elif _before_series(key, tr.slots.get(MASTER)):
            continue  # an override of an occurrence WeCom cannot hold: the note says so
        else:
            what = "the event" if key == MASTER else "this occurrence"
            problem(
                f"{what} at {when(d.start_time)}..{when(d.end_time)} lies outside what WeCom "
                f"can hold ({RANGE}); it is kept in the file and not sent"
            )
    if tr.slots and ((MASTER in tr.slots and MASTER not in slots) or not slots):
        # left alone on both sides: WeCom's copy, if any, is not a deletion to sync
        return replace(tr, slots={}, problems=tuple(problems), notes=tuple(said), skipped=True)
    return replace(tr, slots=slots, problems=tuple(problems), notes=tuple(said))


def _before_series(key: SlotKey, master: ScheduleDraft | None) -> bool:
    rid = slot_start(key)
    return (
        key.startswith("R:")
        and rid is not None
        and master is not None
        and master.recurrence is not None
        and not holds(rid)
    )


def _series(
    d: ScheduleDraft, problem: Callable[[str], None], notes: list[str]
) -> ScheduleDraft | None:
    rec = d.recurrence
    assert rec is not None
    if not (holds(d.start_time) and holds(d.end_time)):
        problem(
            f"the series starts at {when(d.start_time)}, outside what WeCom can hold "
            f"({RANGE}); it is kept in the file and not sent"
        )
        return None
    if rec.repeat_until > EPOCH_MAX:
        cut = series.normalize(d.start_time, replace(rec, repeat_until=EPOCH_MAX))
        notes.append(
            f"occurrences after {when(EPOCH_MAX)} cannot exist in WeCom; the series "
            f"ends there at {when(cut.repeat_until)} (the file keeps all of it)"
        )
        rec = cut
    kept = tuple(t for t in rec.exclude_times if holds(t))
    return replace(d, recurrence=replace(rec, exclude_times=kept))
