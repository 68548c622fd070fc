"""One local event (a UID: master + overrides) -> WeCom slots (ScheduleDraft).

Never raises for what an event says: whatever cannot be carried over exactly
becomes a Problem. An event too broken to translate (no DTSTART, a date that
does not parse, an invalid RRULE) is reported as INVALID and `skipped`, so the
engine leaves WeCom alone rather than reading it as a deletion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import icalendar

from wesync.config import Fallback
from wesync.translate import bounds, rules, series
from wesync.translate.alarms import read_alarms
from wesync.translate.canonical import (
    MASTER,
    EventTranslation,
    Problem,
    ProblemKind,
    Recurrence,
    ScheduleDraft,
    SlotKey,
    expanded_slot,
    override_slot,
    start_slot,
)
from wesync.translate.ics import ParsedItem, ical_text
from wesync.translate.options import TranslateOptions
from wesync.translate.people import read_people
from wesync.translate.zones import ALL_DAY_ZONE, ZoneResolver, all_day_start, at_wall, epoch
from wesync.wecom.constants import DESCRIPTION_MAX, LOCATION_MAX, SUMMARY_MAX

DAY = 86400


class InvalidEvent(ValueError):
    """The event cannot be translated at all; the message names the property."""


@dataclass(frozen=True)
class Times:
    start: int
    end: int
    all_day: bool
    #: aware DTSTART on the wall clock the rule runs on (all-day: 00:00 UTC+8)
    dtstart: datetime


def _props(event: icalendar.Event, name: str) -> list[Any]:
    value = event.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _is_cancelled(event: icalendar.Event) -> bool:
    return str(event.get("STATUS", "")).upper() == "CANCELLED"


class Reader:
    """Reads one item's events on WeCom's terms, collecting problems."""

    def __init__(self, item: ParsedItem, options: TranslateOptions) -> None:
        self.item = item
        self.options = options
        self.zones = ZoneResolver(item.calendar, options.default_timezone)
        self.problems: list[Problem] = []
        #: the override being read (its RECURRENCE-ID instant), so its problems name it
        self.recurrence_id: int | None = None
        self.notes: list[str] = []

    def problem(self, kind: ProblemKind, message: str) -> None:
        p = Problem(kind=kind, message=message, recurrence_id=self.recurrence_id)
        if p not in self.problems:
            self.problems.append(p)

    # --- times -------------------------------------------------------------

    def _zone(self, params: Any, name: str) -> tzinfo:
        tzid = params.get("TZID") if params is not None else None
        if not tzid:
            return self.zones.floating
        zone = self.zones.resolve(str(tzid))
        if zone is None:
            self.problem(
                ProblemKind.UNSUPPORTED,
                f"{name};TZID={tzid}: unknown time zone with no VTIMEZONE; "
                f"read as {self.options.default_timezone}",
            )
            return self.zones.floating
        return zone

    def value(self, prop: Any, name: str) -> datetime | date:
        """A date, or an aware datetime in the zone the TZID really means."""
        if isinstance(prop, icalendar.vBroken):
            raise InvalidEvent(f"{name}:{prop} is not a date or date-time")
        value = getattr(prop, "dt", None)
        if isinstance(value, datetime):
            if value.tzinfo is not None and not prop.params.get("TZID"):
                return value
            # a wall time, read as RFC 5545 reads one in a gap or fold (zones.epoch)
            return at_wall(value.replace(tzinfo=None), self._zone(prop.params, name))
        if isinstance(value, date):
            return value
        shown = ical_text(prop) if hasattr(prop, "to_ical") else repr(prop)
        raise InvalidEvent(f"{name}:{shown} is not a date or date-time")

    def times(self, event: icalendar.Event, default_duration: int | None = None) -> Times:
        prop = event.get("DTSTART")
        if prop is None:
            raise InvalidEvent("VEVENT has no DTSTART")
        start_v = self.value(prop, "DTSTART")
        if not isinstance(start_v, datetime):
            return self._all_day(event, start_v)
        start = epoch(start_v)
        end = start if default_duration is None else start + default_duration
        if "DTEND" in event:
            end_v = self.value(event["DTEND"], "DTEND")
            if not isinstance(end_v, datetime):
                end_v = datetime.combine(end_v, time(0), start_v.tzinfo)
            end = epoch(end_v)
        elif "DURATION" in event:
            dur = getattr(event["DURATION"], "dt", None)
            if not isinstance(dur, timedelta):
                raise InvalidEvent(f"DURATION:{ical_text(event['DURATION'])} is not valid")
            # Days are nominal (wall clock), the rest exact (RFC 5545 3.3.6).
            end = epoch(start_v + timedelta(days=dur.days)) + dur.seconds
        if end < start:
            self.problem(
                ProblemKind.INVALID, "DTEND is before DTSTART; the event ends at its start"
            )
            end = start
        return Times(start, end, False, start_v)

    def _all_day(self, event: icalendar.Event, day: date) -> Times:
        days = 1
        if "DTEND" in event:
            end_v = self.value(event["DTEND"], "DTEND")
            end_day = end_v.date() if isinstance(end_v, datetime) else end_v
            days = (end_day - day).days
        elif "DURATION" in event:
            dur = getattr(event["DURATION"], "dt", None)
            if not isinstance(dur, timedelta):
                raise InvalidEvent(f"DURATION:{ical_text(event['DURATION'])} is not valid")
            days = dur.days + (1 if dur.seconds else 0)
        if days < 1:
            self.problem(ProblemKind.INVALID, "DTEND is not after DTSTART; one day is used")
            days = 1
        start = all_day_start(day)
        return Times(start, start + days * DAY, True, datetime.combine(day, time(0), ALL_DAY_ZONE))

    def occurrence(self, prop: Any, name: str, t: Times) -> int:
        """The start instant of the occurrence a RECURRENCE-ID/EXDATE value names."""
        v = self.value(prop, name)
        if t.all_day:
            return all_day_start(v.date() if isinstance(v, datetime) else v)
        if isinstance(v, datetime):
            return epoch(v)
        assert t.dtstart.tzinfo is not None
        wall = t.dtstart.replace(tzinfo=None).time()
        return epoch(at_wall(datetime.combine(v, wall), t.dtstart.tzinfo))

    def list_values(self, event: icalendar.Event, name: str) -> list[Any]:
        out: list[Any] = []
        for prop in _props(event, name):
            if isinstance(prop, icalendar.vBroken):
                raise InvalidEvent(f"{name}:{prop} is not a list of dates")
            out.extend(getattr(prop, "dts", [prop]))
        return out

    # --- content -----------------------------------------------------------

    def text(self, event: icalendar.Event, name: str, limit: int) -> str:
        value = event.get(name)
        if isinstance(value, list):
            value = value[0]
        text = "" if value is None else str(value)
        if len(text) > limit:
            self.problem(
                ProblemKind.TRUNCATED,
                f"{name} has {len(text)} characters; WeCom keeps {limit} (the file keeps all)",
            )
            text = text[:limit]
        return text

    def draft(
        self, event: icalendar.Event, t: Times, recurrence: Recurrence | None
    ) -> ScheduleDraft:
        alarms = read_alarms(
            event,
            start=t.start,
            duration=t.end - t.start,
            all_day=t.all_day,
            recurring=recurrence is not None,
        )
        people = read_people(event, self.options)
        for p in (*alarms.problems, *people.problems):
            self.problem(p.kind, p.message)
        return ScheduleDraft(
            summary=self.text(event, "SUMMARY", SUMMARY_MAX),
            description=self.text(event, "DESCRIPTION", DESCRIPTION_MAX),
            location=self.text(event, "LOCATION", LOCATION_MAX),
            start_time=t.start,
            end_time=t.end,
            is_whole_day=t.all_day,
            remind_time_diffs=alarms.diffs,
            attendees=people.attendees,
            admins=people.admins,
            recurrence=recurrence,
        )


def _override_draft(
    reader: Reader, event: icalendar.Event, master_times: Times | None
) -> tuple[int, ScheduleDraft | None]:
    """(RECURRENCE-ID instant, draft or None when cancelled)."""
    try:
        return _read_override(reader, event, master_times)
    finally:
        reader.recurrence_id = None


def _read_override(
    reader: Reader, event: icalendar.Event, master_times: Times | None
) -> tuple[int, ScheduleDraft | None]:
    """The RECURRENCE-ID need not be an occurrence of the rule: Google writes a
    meeting added to a series that way. It is still slot "R:<rid>"; the series'
    exclusions keep only real occurrences (series.normalize), so such a slot is
    a single schedule of its own. An override of an EXDATEd occurrence is sent
    too: it is the file's later word on that occurrence."""
    rid_prop = event["RECURRENCE-ID"]
    if master_times is not None:
        rid = reader.occurrence(rid_prop, "RECURRENCE-ID", master_times)
    else:
        v = reader.value(rid_prop, "RECURRENCE-ID")
        rid = epoch(v) if isinstance(v, datetime) else all_day_start(v)
    reader.recurrence_id = rid
    if str(rid_prop.params.get("RANGE", "")).upper() == "THISANDFUTURE":
        reader.problem(
            ProblemKind.UNSUPPORTED,
            "RECURRENCE-ID;RANGE=THISANDFUTURE: only this one occurrence is changed in WeCom",
        )
    if _is_cancelled(event):
        return rid, None
    if "RRULE" in event or "RDATE" in event:
        reader.problem(
            ProblemKind.UNSUPPORTED, "an override (RECURRENCE-ID) with its own RRULE/RDATE: ignored"
        )
    duration = master_times.end - master_times.start if master_times else None
    if "DTSTART" in event:
        t = reader.times(event, duration)
    else:
        # Some producers leave DTSTART out of an override that only changes text.
        v = reader.value(rid_prop, "RECURRENCE-ID")
        all_day = not isinstance(v, datetime)
        t = Times(
            rid,
            rid + (duration if duration is not None else (DAY if all_day else 0)),
            all_day,
            datetime.fromtimestamp(rid, ALL_DAY_ZONE),
        )
    return rid, reader.draft(event, t, None)


def _sorted_slots(slots: dict[SlotKey, ScheduleDraft]) -> dict[SlotKey, ScheduleDraft]:
    return dict(sorted(slots.items(), key=lambda kv: (kv[0] != MASTER, len(kv[0]), kv[0])))


def _done(
    item: ParsedItem, reader: Reader, slots: dict[SlotKey, ScheduleDraft]
) -> EventTranslation:
    return EventTranslation(
        uid=item.uid, slots=_sorted_slots(slots), problems=tuple(reader.problems)
    )


def translate_event(item: ParsedItem, *, options: TranslateOptions, now: int) -> EventTranslation:
    reader = Reader(item, options)
    try:
        return bounds.fit(_translate(reader, item, options, now), reader.notes)
    except (InvalidEvent, rules.RuleError, icalendar.BrokenCalendarProperty) as exc:
        reader.problem(ProblemKind.INVALID, str(exc))
        return EventTranslation(uid=item.uid, problems=tuple(reader.problems), skipped=True)


def _translate(
    reader: Reader, item: ParsedItem, options: TranslateOptions, now: int
) -> EventTranslation:
    master = item.master
    if master is not None and _is_cancelled(master):
        return EventTranslation(uid=item.uid)
    slots: dict[SlotKey, ScheduleDraft] = {}
    if master is None:
        for ev in item.overrides:
            rid, d = _override_draft(reader, ev, None)
            if d is not None:
                slots[override_slot(rid)] = d
        return _done(item, reader, slots)

    t = reader.times(master)
    rrules = _props(master, "RRULE")
    rdates = reader.list_values(master, "RDATE")
    exrules = _props(master, "EXRULE")
    exdates = reader.list_values(master, "EXDATE")
    if not rrules and not rdates:
        if exdates:
            reader.problem(ProblemKind.UNSUPPORTED, "EXDATE on an event without RRULE is ignored")
        slots[MASTER] = reader.draft(master, t, None)
        for ev in item.overrides:
            rid, d = _override_draft(reader, ev, t)
            if d is not None:
                slots[override_slot(rid)] = d
        return _done(item, reader, slots)

    dt_rules = [rules.to_dateutil(r, t.dtstart) for r in rrules]
    reason: str | None = None
    found: Recurrence | str | None = None
    after_start: tuple[datetime, Recurrence] | None = None
    series_t = t  #: where the series WeCom holds starts (DTSTART, unless before 1970)
    if len(rrules) > 1:
        reason = f"{len(rrules)} RRULEs in one event have no WeCom equivalent"
    elif rdates:
        reason = "RDATE (extra dates) has no WeCom equivalent"
    elif exrules:
        reason = "EXRULE has no WeCom equivalent"
    elif not bounds.holds(t.start):
        # DTSTART before 1970: the series from its first occurrence WeCom can hold
        held = bounds.holdable_series(rrules[0], t.dtstart, dt_rules[0], now=now)
        if isinstance(held, str):
            reader.problem(ProblemKind.OUT_OF_RANGE, held)
            return EventTranslation(uid=item.uid, problems=tuple(reader.problems), skipped=True)
        first, found = held
        series_t = Times(epoch(first), epoch(first) + t.end - t.start, t.all_day, first)
        if isinstance(found, str):
            reason = found
        else:
            reader.notes.append(bounds.before_1970(t.dtstart, first, all_day=t.all_day))
    elif rules.off_rule(dt_rules[0], t.dtstart):
        # DTSTART off its own rule: never sent as a series start (series.py)
        after_start = rules.exact_after_start(rrules[0], t.dtstart, dt_rules[0])
        if after_start is None:
            why = rules.exact(rrules[0], t.dtstart, dt_rules[0])  # the likelier reason
            if not isinstance(why, str):
                why = f"{rules.describe(rrules[0])}: DTSTART is off the rule, and WeCom "
                why += "cannot hold the rule's own occurrences"
            reason = why
    else:
        found = rules.exact(rrules[0], t.dtstart, dt_rules[0])
        if isinstance(found, str):
            reason = found

    excluded = [reader.occurrence(v, "EXDATE", t) for v in exdates]
    overrides: dict[int, ScheduleDraft | None] = {}
    for ev in item.overrides:
        rid, d = _override_draft(reader, ev, t)
        overrides[rid] = d

    if after_start is not None:
        return _off_rule_start(
            reader,
            item=item,
            master=master,
            t=t,
            after_start=after_start,
            excluded=excluded,
            overrides=overrides,
        )

    if isinstance(found, Recurrence):
        # exclusions before the series' start (before 1970) are dropped here
        rec = series.normalize(
            series_t.start, replace(found, exclude_times=(*excluded, *overrides))
        )
        slots[MASTER] = reader.draft(master, series_t, rec)
        for rid, d in overrides.items():
            if d is not None:
                slots[override_slot(rid)] = d
        return _done(item, reader, slots)

    assert reason is not None
    if options.fallback is Fallback.SKIP:
        reader.problem(ProblemKind.RECURRENCE_SKIPPED, f"{reason}; the event is not sent to WeCom")
        return EventTranslation(uid=item.uid, problems=tuple(reader.problems), skipped=True)
    return _expand(
        reader,
        item=item,
        master=master,
        t=t,
        rrules=rrules,
        exrules=exrules,
        rdates=rdates,
        excluded=excluded,
        overrides=overrides,
        reason=reason,
        now=now,
    )


def _off_rule_start(
    reader: Reader,
    *,
    item: ParsedItem,
    master: icalendar.Event,
    t: Times,
    after_start: tuple[datetime, Recurrence],
    excluded: list[int],
    overrides: dict[int, ScheduleDraft | None],
) -> EventTranslation:
    """A DTSTART that is not an instance of its own rule (RFC 5545 counts it as the
    first occurrence; WeCom's handling is undocumented): the series from the rule's
    first instance, plus one single schedule (slot "S:<DTSTART>") for DTSTART,
    unless an EXDATE removes it; an override of it (RECURRENCE-ID = DTSTART)
    is that schedule's content."""
    first, found = after_start
    start = epoch(first)
    rec = series.normalize(start, replace(found, exclude_times=(*excluded, *overrides)))
    whole = reader.draft(master, t, rec)
    slots: dict[SlotKey, ScheduleDraft] = {
        MASTER: replace(whole, start_time=start, end_time=start + (t.end - t.start))
    }
    if t.start not in excluded:
        single = overrides[t.start] if t.start in overrides else replace(whole, recurrence=None)
        if single is not None:
            slots[start_slot(t.start)] = single
    for rid, d in overrides.items():
        if d is not None and rid != t.start:
            slots[override_slot(rid)] = d
    return _done(item, reader, slots)


def _expand(
    reader: Reader,
    *,
    item: ParsedItem,
    master: icalendar.Event,
    t: Times,
    rrules: list[Any],
    exrules: list[Any],
    rdates: Iterable[Any],
    excluded: list[int],
    overrides: dict[int, ScheduleDraft | None],
    reason: str,
    now: int,
) -> EventTranslation:
    options = reader.options
    lo = now - DAY
    hi = now + options.expand_window_days * DAY
    lo_dt = datetime.fromtimestamp(lo, t.dtstart.tzinfo)
    dt_rules = [rules.to_dateutil(r, rules.rebased(r, t.dtstart, lo_dt)) for r in rrules]
    dt_exrules = [rules.to_dateutil(r, rules.rebased(r, t.dtstart, lo_dt)) for r in exrules]
    extra: list[int] = []
    for v in rdates:
        value = v.dt[0] if isinstance(getattr(v, "dt", None), tuple) else None
        if value is not None:
            v = type(v)(value)  # PERIOD: the start counts
        extra.append(reader.occurrence(v, "RDATE", t))
    found = rules.set_starts(
        dt_rules,
        t.dtstart,
        extra,
        dt_exrules,
        lo=lo,
        hi=hi,
        excluded=excluded,
        cap=options.expand_cap,
    )
    capped = len(found) > options.expand_cap
    starts = found[: options.expand_cap]
    base = reader.draft(master, t, None)
    duration = t.end - t.start
    slots: dict[SlotKey, ScheduleDraft] = {}
    for e in starts:
        if e in overrides:
            d = overrides[e]
            if d is not None:
                slots[expanded_slot(e)] = d
        else:
            slots[expanded_slot(e)] = replace(base, start_time=e, end_time=e + duration)
    for rid, d in overrides.items():
        if d is not None and lo <= rid <= hi and expanded_slot(rid) not in slots and not capped:
            slots[expanded_slot(rid)] = d
    reader.problem(
        ProblemKind.RECURRENCE_EXPANDED,
        f"{reason}; sent as {len(slots)} single schedules (the next "
        f"{options.expand_window_days} days)",
    )
    if capped:
        reader.problem(
            ProblemKind.EXPANSION_CAPPED,
            f"more than {options.expand_cap} occurrences in the window; only the first "
            f"{options.expand_cap} are sent",
        )
    return EventTranslation(
        uid=item.uid, slots=_sorted_slots(slots), problems=tuple(reader.problems), expanded=True
    )
