"""WeCom schedules -> one local event (a VCALENDAR), new or updated in place.

Updating an existing item changes only what WeCom holds and what differs:
the item is translated to drafts first, and each group of properties
(text, times, rule, exclusions, alarms, people) is rewritten only when its
draft field differs from WeCom's. Everything else -- X- properties,
CATEGORIES, UID, DTSTAMP, the TZID of DTSTART, VTIMEZONEs, other components,
VALARMs WeCom cannot express, unmapped attendees -- stays as it was.

Choices (see the feature table in README.md):
- A cancelled master (status=1) is written as STATUS:CANCELLED; callers
  normally delete the item instead. A cancelled override schedule removes the
  override and leaves an EXDATE. An override of no occurrence of the rule (an
  extra meeting) is removed with no EXDATE: the occurrence exists only through
  it, so removing it removes the occurrence; an EXDATE would name nothing, and
  STATUS:CANCELLED would keep a cancelled copy that no longer is in WeCom.
- A series with an "S:<t>" slot (a DTSTART off its own rule, see canonical.py)
  is written back with DTSTART at t and the series' RRULE, which RFC 5545
  reads as t plus the series; the slot's own content, when it differs from the
  series', becomes an override (RECURRENCE-ID t), and a deleted S schedule an
  EXDATE at t. When the written RRULE would not give the series back from t
  (WeCom moved the series), DTSTART follows the series and t is left out.
- Expanded occurrences (slot keys "X:...") are ignored here: WeCom's edits of
  those single schedules are written occurrence by occurrence by
  `wesync.translate.expanded_edits.pull_occurrences`.
- Times keep the existing DTSTART's TZID; a series is written in a zone where
  its RRULE means exactly WeCom's series (the event's zone, default_timezone,
  else the fixed-offset Etc/GMT-N of WeCom's `timezone`).
- SEQUENCE goes up when content changed; LAST-MODIFIED whenever anything did
  (an RSVP alone changes only PARTSTAT and LAST-MODIFIED).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

import icalendar

from wesync.translate import bounds, rules
from wesync.translate.alarms import make_alarm, read_alarms
from wesync.translate.canonical import (
    MASTER,
    Recurrence,
    ScheduleDraft,
    SlotKey,
    override_slot,
    slot_start,
)
from wesync.translate.ics import ParsedItem, parse_item, serialize
from wesync.translate.options import TranslateOptions
from wesync.translate.people import PARTSTAT, address_for, userid_for
from wesync.translate.remote import draft_from_schedule
from wesync.translate.to_wecom import InvalidEvent, Reader, Times, translate_event
from wesync.translate.zones import (
    ALL_DAY_OFFSET_HOURS,
    all_day_date,
    all_day_start,
    epoch,
    fixed_zone_for,
    iana,
    on_wall_clock,
)
from wesync.wecom.constants import (
    DESCRIPTION_MAX,
    LOCATION_MAX,
    REPEAT_DAILY,
    REPEAT_MONTHLY,
    REPEAT_WEEKLY,
    SUMMARY_MAX,
)
from wesync.wecom.models import Schedule

PRODID = "-//wesync//wesync//EN"
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_FREQ = {REPEAT_DAILY: "DAILY", REPEAT_WEEKLY: "WEEKLY", REPEAT_MONTHLY: "MONTHLY"}
_TEXTS = (("SUMMARY", "summary", SUMMARY_MAX), ("DESCRIPTION", "description", DESCRIPTION_MAX),
          ("LOCATION", "location", LOCATION_MAX))  # fmt: skip


@dataclass(frozen=True)
class Clock:
    """How an event writes its times: a TZID (with the zone it means), UTC,
    floating on a zone's wall clock, or dates."""

    kind: str  #: "tzid" | "utc" | "floating" | "date"
    zone: tzinfo
    tzid: str | None = None


def _clock_of(event: icalendar.Event | None, reader: Reader) -> Clock | None:
    if event is None or "DTSTART" not in event:
        return None
    prop = event["DTSTART"]
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        tzid = prop.params.get("TZID")
        if tzid:
            zone = reader.zones.resolve(str(tzid))
            return Clock("tzid", zone, str(tzid)) if zone is not None else None
        if value.tzinfo is not None:
            return Clock("utc", UTC)
        return Clock("floating", reader.zones.floating)
    if isinstance(value, date):
        return Clock("date", fixed_zone_for(ALL_DAY_OFFSET_HOURS))
    return None


def _zone_clock(zone: tzinfo) -> Clock:
    if zone is UTC:
        return Clock("utc", UTC)
    key = getattr(zone, "key", None)
    return Clock("tzid", zone, key if isinstance(key, str) else None)


def _value(instant: int, clock: Clock) -> datetime:
    local = datetime.fromtimestamp(instant, clock.zone)
    if clock.kind == "utc":
        return local.astimezone(UTC)
    return local


def _set_time(
    event: icalendar.Event, name: str, instant: int, clock: Clock, *, all_day: bool, offset: int
) -> None:
    event.pop(name, None)
    if all_day:
        event.add(name, all_day_date(instant, offset))
        return
    _add_dt(event, name, [instant], clock)


def _add_dt(event: icalendar.Event, name: str, instants: list[int], clock: Clock) -> None:
    """Write the instants on the clock; one that no wall time of the clock names
    (the second pass through a fold: RFC 5545 reads a repeated local time as the
    first) is written in UTC instead, in a property of its own."""
    if clock.kind in ("tzid", "floating"):
        lost = [t for t in instants if not on_wall_clock(t, clock.zone)]
        if lost:
            kept = [t for t in instants if t not in lost]
            if kept:
                _add_dt(event, name, kept, clock)
            _add_dt(event, name, lost, Clock("utc", UTC))
            return
    values = [_value(t, clock) for t in instants]
    if clock.kind == "floating":
        values = [v.replace(tzinfo=None) for v in values]
        event.add(name, values if len(values) > 1 else values[0])
    elif clock.kind == "tzid" and clock.tzid and getattr(clock.zone, "key", None) != clock.tzid:
        # A TZID defined by the file's own VTIMEZONE (or a Windows name):
        # keep writing that name with the wall time it means.
        naive = [v.replace(tzinfo=None) for v in values]
        event.add(name, naive if len(naive) > 1 else naive[0], parameters={"TZID": clock.tzid})
    else:
        event.add(name, values if len(values) > 1 else values[0])


def _add_dates(event: icalendar.Event, name: str, instants: list[int], offset: int) -> None:
    days = [all_day_date(t, offset) for t in instants]
    event.add(name, days if len(days) > 1 else days[0])


def _rrule(
    rec: Recurrence, start: int, *, all_day: bool, dtstart: int | None = None
) -> dict[str, Any]:
    """The RRULE of the series starting at `start`, for a DTSTART at `dtstart`
    (an off-rule start before the series; None: at `start`)."""
    out: dict[str, Any] = {"FREQ": _FREQ.get(rec.repeat_type, "YEARLY")}
    if rec.repeat_interval > 1:
        out["INTERVAL"] = rec.repeat_interval
    if rec.repeat_until:
        if all_day:
            out["UNTIL"] = all_day_date(rec.repeat_until, rec.timezone)
        else:
            out["UNTIL"] = datetime.fromtimestamp(rec.repeat_until, UTC)
    if rec.repeat_type == REPEAT_WEEKLY:
        out["BYDAY"] = [WEEKDAY_CODES[d - 1] for d in rec.repeat_day_of_week]
        if rec.repeat_interval > 1:
            out["WKST"] = "MO"
    elif rec.repeat_type == REPEAT_MONTHLY:
        out["BYMONTHDAY"] = list(rec.repeat_day_of_month)
    elif dtstart is not None and dtstart != start:
        # yearly on the series' day, which DTSTART does not give
        day = datetime.fromtimestamp(start, timezone(timedelta(hours=rec.timezone))).date()
        out["BYMONTH"], out["BYMONTHDAY"] = day.month, day.day
    return out


def _rule_fits(rec: Recurrence, start: int, clock: Clock) -> bool:
    """Whether writing `rec` as an RRULE on this clock gives WeCom's series back."""
    if clock.kind in ("tzid", "floating") and not on_wall_clock(start, clock.zone):
        return False  # DTSTART would be written in UTC, and the rule run there
    dtstart = _value(start, clock)
    if clock.kind == "utc":
        dtstart = dtstart.astimezone(UTC)
    recur = icalendar.vRecur(_rrule(rec, start, all_day=False))
    try:
        rule = rules.to_dateutil(recur, dtstart)
    except rules.RuleError:
        return False
    found = rules.exact(recur, dtstart, rule)
    if isinstance(found, str):
        return False
    from wesync.translate import series

    mine = series.normalize(start, replace(found, exclude_times=()))
    want = series.normalize(start, replace(rec, exclude_times=()))
    return mine == want


def _series_clock(
    rec: Recurrence, start: int, current: Clock | None, options: TranslateOptions
) -> Clock:
    candidates: list[Clock] = []
    if current is not None and current.kind != "date":
        candidates.append(current)
    default = iana(options.default_timezone)
    if default is not None:
        candidates.append(_zone_clock(default))
    fixed = _zone_clock(fixed_zone_for(rec.timezone))
    for clock in candidates:
        if _rule_fits(rec, start, clock):
            return clock
    return fixed


class _Writer:
    def __init__(self, reader: Reader, options: TranslateOptions) -> None:
        self.reader = reader
        self.options = options
        self.content_changed = False
        self.any_changed = False

    def mark(self, content: bool = True) -> None:
        self.any_changed = True
        self.content_changed = self.content_changed or content

    def texts(self, event: icalendar.Event, old: ScheduleDraft | None, new: ScheduleDraft) -> None:
        for prop, field, limit in _TEXTS:
            want = getattr(new, field)
            if old is not None and getattr(old, field) == want:
                continue
            current = str(event.get(prop, ""))
            if len(current) > limit and current[:limit] == want:
                continue  # WeCom holds the cut text; the file keeps all of it
            event.pop(prop, None)
            if want:
                event.add(prop, want)
            self.mark()

    def times(
        self,
        event: icalendar.Event,
        old: ScheduleDraft | None,
        new: ScheduleDraft,
        clock: Clock,
    ) -> None:
        if (
            old is not None
            and (old.start_time, old.end_time, old.is_whole_day)
            == (
                new.start_time,
                new.end_time,
                new.is_whole_day,
            )
            and not (new.recurrence and _clock_of(event, self.reader) != clock)
        ):
            return
        offset = new.recurrence.timezone if new.recurrence else ALL_DAY_OFFSET_HOURS
        _set_time(event, "DTSTART", new.start_time, clock, all_day=new.is_whole_day, offset=offset)
        if "DURATION" in event and "DTEND" not in event:
            event.pop("DURATION")
            event.add("DURATION", timedelta(seconds=new.end_time - new.start_time))
        else:
            _set_time(event, "DTEND", new.end_time, clock, all_day=new.is_whole_day, offset=offset)
        self.mark()

    def alarms(self, event: icalendar.Event, old: ScheduleDraft | None, new: ScheduleDraft) -> None:
        if old is not None and old.remind_time_diffs == new.remind_time_diffs:
            return
        reading = read_alarms(
            event,
            start=new.start_time,
            duration=new.end_time - new.start_time,
            all_day=new.is_whole_day,
            recurring=new.recurrence is not None,
        )
        mapped = {id(a) for a in reading.mapped}
        event.subcomponents = [c for c in event.subcomponents if id(c) not in mapped]
        for diff in new.remind_time_diffs:
            event.add_component(make_alarm(diff, summary=new.summary))
        self.mark()

    def people(
        self, event: icalendar.Event, new: ScheduleDraft, responses: Mapping[str, int]
    ) -> None:
        options = self.options
        admins = set(new.admins)
        organizer = event.get("ORGANIZER")
        org_uid = userid_for(str(organizer), options) if organizer is not None else None
        if org_uid is not None and org_uid not in admins:
            event.pop("ORGANIZER")
            org_uid = None
            if new.admins:
                event.add("ORGANIZER", address_for(new.admins[0], options))
                org_uid = new.admins[0]
            self.mark()
        elif organizer is None and new.admins and "ATTENDEE" not in event:
            event.add("ORGANIZER", address_for(new.admins[0], options))
            org_uid = new.admins[0]
            self.mark()
        value = event.get("ATTENDEE")
        existing = value if isinstance(value, list) else ([] if value is None else [value])
        kept: list[Any] = []
        # The organizer is an attendee in WeCom without needing its own line.
        seen: set[str] = {org_uid} if org_uid is not None else set()
        changed = False
        for prop in existing:
            uid = userid_for(str(prop), options)
            if uid is None:
                kept.append(prop)
                continue
            if uid not in new.attendees or (uid in seen and uid != org_uid):
                changed = True
                continue
            seen.add(uid)
            if self._params(prop, uid, admins, org_uid, responses):
                self.mark()
            kept.append(prop)
        for uid in new.attendees:
            if uid in seen:
                continue
            prop = icalendar.vCalAddress(address_for(uid, options))
            self._params(prop, uid, admins, org_uid, responses)
            kept.append(prop)
            changed = True
        if changed:
            event.pop("ATTENDEE", None)
            for prop in kept:
                event.add("ATTENDEE", prop, encode=False)
            self.mark(content=True)

    def _params(
        self,
        prop: Any,
        uid: str,
        admins: set[str],
        organizer: str | None,
        responses: Mapping[str, int],
    ) -> bool:
        """Set ROLE and PARTSTAT in place; True when the ROLE (content) changed.
        An answer alone is not a new revision of the event."""
        changed = False
        role = str(prop.params.get("ROLE", "")).upper()
        if uid in admins and uid != organizer and role != "CHAIR":
            prop.params["ROLE"] = "CHAIR"
            changed = True
        elif uid not in admins and role == "CHAIR":
            prop.params["ROLE"] = "REQ-PARTICIPANT"
            changed = True
        if uid in responses:
            want = PARTSTAT.get(responses[uid], "NEEDS-ACTION")
            if str(prop.params.get("PARTSTAT", "NEEDS-ACTION")).upper() != want:
                prop.params["PARTSTAT"] = want
                self.mark(content=False)
        return changed


def _copy(calendar: icalendar.Calendar) -> icalendar.Calendar:
    copied = icalendar.Calendar.from_ical(calendar.to_ical())
    assert isinstance(copied, icalendar.Calendar)
    return copied


def _new_event(uid: str, stamp: int) -> icalendar.Event:
    event = icalendar.Event()
    event.add("UID", uid)
    event.add("DTSTAMP", datetime.fromtimestamp(stamp, UTC))
    event.add("SEQUENCE", 0)
    return event


def schedules_to_item(
    uid: str,
    slots: Mapping[SlotKey, Schedule],
    *,
    options: TranslateOptions,
    existing: ParsedItem | None,
    now: int,
) -> icalendar.Calendar:
    """The VCALENDAR for one event from all of its WeCom schedules.

    `slots` must hold every schedule of the event ("" master, "R:<t>"
    overrides, "S:<t>" an off-rule DTSTART); an existing override with no slot
    here is removed. Pass `existing` to update a local item in place. `now`
    (Unix seconds) is the DTSTAMP of a new event: the translator never reads
    the clock itself.
    """
    cal, folded = _build(uid, slots, options=options, existing=existing, now=now, fold=True)
    if folded and not _folds_back(uid, cal, slots, options=options, now=now):
        cal, _ = _build(uid, slots, options=options, existing=existing, now=now, fold=False)
    return cal


def _is_start_slot(key: SlotKey) -> bool:
    return key.startswith("S:")


def _folds_back(
    uid: str,
    cal: icalendar.Calendar,
    slots: Mapping[SlotKey, Schedule],
    *,
    options: TranslateOptions,
    now: int,
) -> bool:
    """Whether the written DTSTART and RRULE read back as WeCom's series plus its
    off-rule start (the S slot), as the translator would send them."""
    again = translate_event(
        parse_item(serialize(cal), where=f"{uid} (written)"), options=options, now=now
    )
    got, want = again.slots.get(MASTER), draft_from_schedule(slots[MASTER])
    if got is None or got.recurrence is None or want.recurrence is None:
        return False
    live = {k for k, s in slots.items() if _is_start_slot(k) and not s.is_cancelled}
    return (
        (got.start_time, got.end_time) == (want.start_time, want.end_time)
        and replace(got.recurrence, exclude_times=()) == replace(want.recurrence, exclude_times=())
        and {k for k in again.slots if _is_start_slot(k)} == live
    )


def _build(
    uid: str,
    slots: Mapping[SlotKey, Schedule],
    *,
    options: TranslateOptions,
    existing: ParsedItem | None,
    now: int,
    fold: bool,
) -> tuple[icalendar.Calendar, bool]:
    """The item, and whether an off-rule DTSTART was written before the series."""
    stamp = now
    if existing is not None:
        cal = _copy(existing.calendar)
        old = translate_event(existing, options=options, now=stamp)
        old_slots = {} if old.expanded else dict(old.slots)
    else:
        cal = icalendar.Calendar()
        cal.add("PRODID", PRODID)
        cal.add("VERSION", "2.0")
        old_slots = {}
    events = [c for c in cal.subcomponents if isinstance(c, icalendar.Event)]
    # the master first, as ParsedItem wants: Google writes overrides before it
    events.sort(key=lambda e: "RECURRENCE-ID" in e)
    item = ParsedItem(uid=uid, calendar=cal, events=tuple(events))
    reader = Reader(item, options)
    writer = _Writer(reader, options)

    drafts = {
        k: draft_from_schedule(s)
        for k, s in slots.items()
        if not k.startswith("X:") and not _is_start_slot(k)
    }
    cancelled = {k for k, s in slots.items() if s.is_cancelled}
    master = item.master
    master_draft = drafts.get(MASTER)

    # an off-rule DTSTART (slot "S:<t>"): the file keeps it before the series
    old_master = old_slots.get(MASTER)
    old_start = _off_rule_start(reader, master, old_master)
    for key in [k for k in old_slots if _is_start_slot(k)]:
        old_slots[override_slot(int(key[2:]))] = old_slots.pop(key)
    off_start: int | None = None
    single_excluded = False
    if fold and master_draft is not None and master_draft.recurrence is not None:
        live = sorted(k for k in slots if _is_start_slot(k) and k not in cancelled)
        if live and int(live[0][2:]) < master_draft.start_time:
            off_start = int(live[0][2:])
            single = draft_from_schedule(slots[live[0]])
            duration = master_draft.end_time - master_draft.start_time
            base = replace(
                master_draft, recurrence=None, start_time=off_start, end_time=off_start + duration
            )
            if single.content_digest() != base.content_digest():
                drafts[override_slot(off_start)] = single
        elif not live and old_start is not None and old_start < master_draft.start_time:
            off_start, single_excluded = old_start, True  # WeCom lost it: EXDATE it
    if old_master is not None and old_start is not None:
        old_master = _moved(old_master, old_start)
    # a DTSTART before 1970 (bounds.py) stays there, moved as WeCom moved the series;
    # unfolded, WeCom's series is written from its own start (old_master is the file's)
    anchor = bounds.anchor(_master_times(reader, master), old_master, master_draft)
    if anchor is not None and old_master is not None:
        old_master = _moved(old_master, anchor[0])
        off_start = anchor[1] if fold else None
    anchored = anchor is not None and fold

    if master_draft is not None:
        if master is None:
            master = _new_event(uid, stamp)
            cal.add_component(master)
            writer.mark()
        file_master = master_draft if off_start is None else _moved(master_draft, off_start)
        _apply(
            writer,
            master,
            old_master,
            file_master,
            options,
            series_start=master_draft.start_time,
            keep_rule=anchored,
        )
        if MASTER in cancelled and str(master.get("STATUS", "")).upper() != "CANCELLED":
            master.pop("STATUS", None)
            master.add("STATUS", "CANCELLED")
            writer.mark()

    master_times = _master_times(reader, master)
    clock = _clock_of(master, reader) or _zone_clock(iana(options.default_timezone) or UTC)
    kept_rids: set[int] = set()
    for ev in item.overrides:
        try:
            rid = _rid(reader, ev, master_times)
        except (InvalidEvent, icalendar.BrokenCalendarProperty):
            continue
        key = f"R:{rid}"
        cancelled_ev = str(ev.get("STATUS", "")).upper() == "CANCELLED"
        excluded = (
            master_draft is not None
            and master_draft.recurrence is not None
            and (rid in master_draft.recurrence.exclude_times)
        )
        if key in drafts and key not in cancelled:
            _apply(writer, ev, old_slots.get(key), drafts[key], options)
            kept_rids.add(rid)
        elif cancelled_ev and excluded:
            kept_rids.add(rid)
        elif bounds.left_local(rid, None if cancelled_ev else _master_times(reader, ev)):
            kept_rids.add(rid)  # never sent, so not deleted in WeCom either
        elif master_draft is not None or key in drafts:
            cal.subcomponents.remove(ev)
            writer.mark()
    for key, d in drafts.items():
        rid_or_none = slot_start(key)
        if rid_or_none is None or rid_or_none in kept_rids or key in cancelled:
            continue
        ev = _new_event(uid, stamp)
        if master_times is not None and master_times.all_day:
            _add_dates(ev, "RECURRENCE-ID", [rid_or_none], _offset(master_draft))
        else:
            _add_dt(
                ev,
                "RECURRENCE-ID",
                [rid_or_none],
                clock if clock.kind != "date" else _zone_clock(UTC),
            )
        _apply(writer, ev, None, d, options)
        cal.add_component(ev)
        kept_rids.add(rid_or_none)

    if master is not None and master_draft is not None:
        extra = {off_start} if single_excluded and off_start is not None else set()
        _exdates(writer, reader, master, master_draft, kept_rids, extra=extra)

    if existing is not None and writer.any_changed and master is not None:
        target = master
        target.pop("LAST-MODIFIED", None)
        target.add("LAST-MODIFIED", datetime.fromtimestamp(stamp, UTC))
        if writer.content_changed:
            seq = int(str(target.get("SEQUENCE", 0)) or 0)
            target.pop("SEQUENCE", None)
            target.add("SEQUENCE", seq + 1)
    if existing is None or writer.any_changed:
        _add_missing_timezones(cal)
    return cal, off_start is not None


def _moved(draft: ScheduleDraft, start: int) -> ScheduleDraft:
    return replace(draft, start_time=start, end_time=start + draft.end_time - draft.start_time)


def _off_rule_start(
    reader: Reader, master: icalendar.Event | None, old: ScheduleDraft | None
) -> int | None:
    """The existing file's DTSTART when it lies before its series (off its rule)."""
    if old is None or old.recurrence is None:
        return None
    times = _master_times(reader, master)
    if times is None or times.start >= old.start_time or not bounds.holds(times.start):
        return None  # (a DTSTART before 1970 was never sent: bounds.anchor)
    return times.start


@functools.lru_cache(maxsize=64)
def _vtimezone(tzid: str) -> bytes | None:
    # Building a VTIMEZONE walks decades of transitions; a sync writes the
    # same few zones over and over.
    try:
        data: bytes = icalendar.Timezone.from_tzid(tzid).to_ical()
    except ValueError:
        return None
    return data


def _add_missing_timezones(cal: icalendar.Calendar) -> None:
    position = len(cal.timezones)
    for tzid in sorted(cal.get_missing_tzids()):
        data = _vtimezone(tzid)
        if data is not None:
            cal.subcomponents.insert(position, icalendar.Timezone.from_ical(data))
            position += 1


def _offset(draft: ScheduleDraft | None) -> int:
    if draft is not None and draft.recurrence is not None:
        return draft.recurrence.timezone
    return ALL_DAY_OFFSET_HOURS


def _rid(reader: Reader, event: icalendar.Event, master: Times | None) -> int:
    prop = event["RECURRENCE-ID"]
    if master is not None:
        return reader.occurrence(prop, "RECURRENCE-ID", master)
    v = reader.value(prop, "RECURRENCE-ID")
    return epoch(v) if isinstance(v, datetime) else all_day_start(v)


def _master_times(reader: Reader, master: icalendar.Event | None) -> Times | None:
    if master is None:
        return None
    try:
        return reader.times(master)
    except (InvalidEvent, icalendar.BrokenCalendarProperty):
        return None


def _apply(
    writer: _Writer,
    event: icalendar.Event,
    old: ScheduleDraft | None,
    new: ScheduleDraft,
    options: TranslateOptions,
    *,
    series_start: int | None = None,
    keep_rule: bool = False,
) -> None:
    """Write `new` into `event`; `series_start` is where the series itself starts
    when DTSTART (new.start_time) is an off-rule start before it, or one before
    1970; `keep_rule`: the RRULE stays when only DTSTART moved (the latter)."""
    reader = writer.reader
    current = _clock_of(event, reader)
    first = series_start if series_start is not None else new.start_time
    if new.is_whole_day:
        clock = Clock("date", fixed_zone_for(_offset(new)))
    elif new.recurrence is not None:
        clock = _series_clock(new.recurrence, first, current, options)
    elif current is not None and current.kind != "date":
        clock = current
    else:
        clock = _zone_clock(iana(options.default_timezone) or UTC)
    writer.texts(event, old, new)
    writer.times(event, old, new, clock)
    old_rec = replace(old.recurrence, exclude_times=()) if old and old.recurrence else None
    new_rec = replace(new.recurrence, exclude_times=()) if new.recurrence else None
    if (
        old is None
        or old_rec != new_rec
        or (new_rec is not None and old.start_time != new.start_time and not keep_rule)
    ):
        had = "RRULE" in event
        event.pop("RRULE", None)
        if new.recurrence is not None:
            # a DTSTART before 1970 is on the rule; only an off-rule one needs BYMONTH..
            at = None if keep_rule else new.start_time
            rrule = _rrule(new.recurrence, first, all_day=new.is_whole_day, dtstart=at)
            event.add("RRULE", rrule)
        if had or new.recurrence is not None:
            writer.mark()
    writer.alarms(event, old, new)
    writer.people(event, new, dict(new.responses))


def _exdates(
    writer: _Writer,
    reader: Reader,
    master: icalendar.Event,
    draft: ScheduleDraft,
    overrides: set[int],
    *,
    extra: set[int],
) -> None:
    rec = draft.recurrence
    times = _master_times(reader, master)
    have: list[int] = []
    if times is not None:
        for v in reader.list_values(master, "EXDATE"):
            try:
                have.append(reader.occurrence(v, "EXDATE", times))
            except InvalidEvent:
                continue
    # an override of an EXDATEd occurrence keeps its EXDATE: the override wins either way
    shown = overrides - set(have)
    # those WeCom cannot hold were never sent: they stay (bounds.py)
    extra = extra | {t for t in have if not bounds.holds(t)}
    want = sorted((set(rec.exclude_times) | extra) - shown) if rec is not None else []
    if sorted(set(have)) == want:
        return
    master.pop("EXDATE", None)
    if want:
        clock = _clock_of(master, reader)
        if draft.is_whole_day or clock is None or clock.kind == "date":
            _add_dates(master, "EXDATE", want, _offset(draft))
        else:
            _add_dt(master, "EXDATE", want, clock)
    writer.mark()
