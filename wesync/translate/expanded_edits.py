"""WeCom's edits of single occurrences of an expanded event, written into its file.

An event on the `expand` fallback reaches WeCom as one single schedule per
occurrence (slots "X:<start>", canonical.py). WeCom's users edit and delete
those one at a time, and each such change has an exact iCalendar form that
leaves the rule alone:

- an edited occurrence becomes (or updates) a RECURRENCE-ID override at the
  occurrence's original start. A new override starts as a copy of the master
  (so CATEGORIES, X- properties, VALARMs and attendees WeCom cannot hold stay
  with the occurrence), placed at the occurrence, and then gets WeCom's
  version of what WeCom holds, exactly as to_ical writes any event;
- a deleted or cancelled occurrence becomes an EXDATE on the master, and an
  override it had is removed.

Only the occurrences named are touched (the sync decides which, occurrence by
occurrence: wesync.sync.occurrences); the RRULE, the other occurrences and
every other property stay as they were. Translated again, the file gives
WeCom's schedules back for those slots, so the next sync finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import icalendar

from wesync.translate.canonical import ScheduleDraft, SlotKey, slot_start
from wesync.translate.ics import ParsedItem
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import draft_from_schedule
from wesync.translate.to_ical import (
    Clock,
    _add_dates,
    _add_dt,
    _add_missing_timezones,
    _apply,
    _clock_of,
    _copy,
    _moved,
    _rid,
    _Writer,
    _zone_clock,
)
from wesync.translate.to_wecom import InvalidEvent, Reader, translate_event
from wesync.translate.zones import ALL_DAY_OFFSET_HOURS
from wesync.wecom.models import Schedule

#: what a copy of the master must lose to become one occurrence
_SERIES_ONLY = ("RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID")


def pull_occurrences(
    existing: ParsedItem,
    slots: Mapping[SlotKey, Schedule],
    occurrences: Iterable[SlotKey],
    *,
    options: TranslateOptions,
    now: int,
) -> icalendar.Calendar:
    """The file with WeCom's versions of `occurrences` (slot keys "X:<start>")
    written in: a slot in `slots` is WeCom's edit, a slot missing from it (or a
    cancelled schedule) a deletion. `now` is the LAST-MODIFIED written."""
    cal = _copy(existing.calendar)
    events = [c for c in cal.subcomponents if isinstance(c, icalendar.Event)]
    item = ParsedItem(uid=existing.uid, calendar=cal, events=tuple(events))
    master = item.master
    if master is None:
        raise InvalidEvent("an expanded event without its master VEVENT")
    reader = Reader(item, options)
    writer = _Writer(reader, options)
    times = reader.times(master)
    clock = _clock_of(master, reader) or _zone_clock(UTC)
    before = translate_event(existing, options=options, now=now)
    base = reader.draft(master, times, None)
    overrides: dict[int, icalendar.Event] = {}
    for ev in item.overrides:
        try:
            overrides[_rid(reader, ev, times)] = ev
        except (InvalidEvent, icalendar.BrokenCalendarProperty):
            continue
    excluded: list[int] = []
    for key in sorted(set(occurrences)):
        at = slot_start(key)
        if at is None or not key.startswith("X:"):
            raise ValueError(f"{key!r} is not an expanded occurrence")
        schedule = slots.get(key)
        override = overrides.get(at)
        if schedule is None or schedule.is_cancelled:
            if override is not None:
                cal.subcomponents.remove(override)
            excluded.append(at)
            writer.mark()
            continue
        mine = before.slots.get(key) or _moved(base, at)
        if override is None:
            override = _occurrence(master, at, mine, clock, all_day=times.all_day, writer=writer)
            cal.add_component(override)
            overrides[at] = override
        _apply(writer, override, mine, draft_from_schedule(schedule), options)
    if excluded:
        _add_exdates(master, reader, excluded, clock, all_day=times.all_day)
    if writer.any_changed:
        master.pop("LAST-MODIFIED", None)
        master.add("LAST-MODIFIED", datetime.fromtimestamp(now, UTC))
        if writer.content_changed:
            seq = int(str(master.get("SEQUENCE", 0)) or 0)
            master.pop("SEQUENCE", None)
            master.add("SEQUENCE", seq + 1)
        _add_missing_timezones(cal)
    return cal


def _occurrence(
    master: icalendar.Event,
    at: int,
    draft: ScheduleDraft,
    clock: Clock,
    *,
    all_day: bool,
    writer: _Writer,
) -> icalendar.Event:
    """A new override for the occurrence starting at `at`: the master's copy,
    holding the file's version of that occurrence (`draft`)."""
    ev = icalendar.Event.from_ical(master.to_ical())
    assert isinstance(ev, icalendar.Event)
    for name in _SERIES_ONLY:
        ev.pop(name, None)
    if all_day:
        _add_dates(ev, "RECURRENCE-ID", [at], ALL_DAY_OFFSET_HOURS)
    else:
        _add_dt(ev, "RECURRENCE-ID", [at], clock)
    writer.times(ev, None, draft, clock)
    return ev


def _add_exdates(
    master: icalendar.Event, reader: Reader, instants: list[int], clock: Clock, *, all_day: bool
) -> None:
    """Add EXDATEs for `instants` beside the ones the master has (kept as written)."""
    times = reader.times(master)
    have: set[int] = set()
    for v in reader.list_values(master, "EXDATE"):
        try:
            have.add(reader.occurrence(v, "EXDATE", times))
        except InvalidEvent:
            continue
    new = sorted(set(instants) - have)
    if not new:
        return
    if all_day or clock.kind == "date":
        _add_dates(master, "EXDATE", new, ALL_DAY_OFFSET_HOURS)
    else:
        _add_dt(master, "EXDATE", new, clock)
