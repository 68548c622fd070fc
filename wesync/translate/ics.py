"""iCalendar bytes <-> icalendar objects, one UID per item.

Parsing checks only the structure the sync needs (one VCALENDAR, events with
a UID, no two masters); what the events mean is for to_wecom.py, which reports
problems instead of raising. Two overrides of one occurrence (the same
RECURRENCE-ID twice, as some exporters write an occurrence edited twice) are
not an error: RFC 5545 tells revisions of one instance apart by SEQUENCE, so
the higher SEQUENCE is the override (on a tie, the later in the file). The
other stays in the calendar untouched; WeCom's edits of that occurrence are
written into both, and WeCom's cancel removes both (to_ical.py walks every
override), so it can never come back in its place.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import icalendar
from icalendar.error import GloballyUniqueTZIDGuessed

from wesync.errors import DuplicateUidError, ItemParseError


class NoEventError(ItemParseError):
    """The item holds no VEVENT (a task or journal file in a vdir, say)."""


@dataclass(frozen=True)
class ParsedItem:
    uid: str
    calendar: icalendar.Calendar
    #: the master (if any) first, then the RECURRENCE-ID overrides in order
    events: tuple[icalendar.Event, ...]

    @property
    def master(self) -> icalendar.Event | None:
        first = self.events[0] if self.events else None
        return first if first is not None and "RECURRENCE-ID" not in first else None

    @property
    def overrides(self) -> tuple[icalendar.Event, ...]:
        return tuple(e for e in self.events if "RECURRENCE-ID" in e)


def _load(data: bytes, where: str) -> icalendar.Calendar:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ItemParseError(f"not UTF-8 text (byte {exc.start})", path=where) from None
    if not text.strip():
        raise ItemParseError("the file is empty", path=where)
    try:
        with warnings.catch_warnings():
            # icalendar guesses at vendor TZIDs and says so; zones.py resolves
            # every TZID itself, so the guess is never used.
            warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
            calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ItemParseError(f"not valid iCalendar: {exc}", path=where) from None
    if len(calendars) != 1 or calendars[0].name != "VCALENDAR":
        names = ", ".join(c.name for c in calendars) or "nothing"
        raise ItemParseError(f"expected one VCALENDAR, found {names}", path=where)
    cal = calendars[0]
    if not isinstance(cal, icalendar.Calendar):
        raise ItemParseError("expected one VCALENDAR", path=where)
    return cal


def _uid(event: icalendar.Event, where: str) -> str:
    uid = event.get("UID")
    if uid is None or not str(uid).strip():
        summary = str(event.get("SUMMARY", ""))[:60]
        raise ItemParseError(f"VEVENT {summary!r} has no UID", path=where)
    return str(uid)


def _recurrence_key(event: icalendar.Event, where: str) -> float | None:
    """A sortable key for RECURRENCE-ID (None for the master)."""
    prop = event.get("RECURRENCE-ID")
    if prop is None:
        return None
    value = None if isinstance(prop, icalendar.vBroken) else getattr(prop, "dt", None)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=None).timestamp()
        return value.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).timestamp()
    raise ItemParseError(
        f"UID {_uid(event, where)!r}: RECURRENCE-ID:{ical_text(prop)} is not a date or date-time",
        path=where,
    )


def _sequence(event: icalendar.Event) -> int:
    try:
        return int(str(event.get("SEQUENCE", 0)))
    except ValueError:
        return 0


def _order(uid: str, events: Iterable[icalendar.Event], where: str) -> list[icalendar.Event]:
    """Master first, overrides by RECURRENCE-ID; two masters are an error, of two
    overrides of one occurrence the later revision counts (see above)."""
    master: list[icalendar.Event] = []
    overrides: dict[float, icalendar.Event] = {}
    for ev in events:
        key = _recurrence_key(ev, where)
        if key is None:
            master.append(ev)
            if len(master) > 1:
                raise DuplicateUidError(uid, [f"{where} (VEVENT without RECURRENCE-ID)"] * 2)
        elif key not in overrides or _sequence(ev) >= _sequence(overrides[key]):
            overrides[key] = ev
    return master + [overrides[k] for k in sorted(overrides)]


def parse_item(data: bytes, *, where: str) -> ParsedItem:
    """One item (a vdir file): a VCALENDAR whose VEVENTs all share one UID."""
    cal = _load(data, where)
    events = [c for c in cal.subcomponents if isinstance(c, icalendar.Event)]
    if not events:
        raise NoEventError("no VEVENT in the calendar", path=where)
    uids = {_uid(e, where) for e in events}
    if len(uids) > 1:
        listed = ", ".join(repr(u) for u in sorted(uids)[:3])
        raise ItemParseError(f"one item must hold one UID, found {len(uids)}: {listed}", path=where)
    uid = uids.pop()
    return ParsedItem(uid=uid, calendar=cal, events=tuple(_order(uid, events, where)))


def split_calendar(
    data: bytes, *, where: str
) -> tuple[icalendar.Calendar, dict[str, list[icalendar.Event]]]:
    """A single .ics holding many UIDs: the calendar and its events by UID.

    Each list is ordered like ParsedItem.events. A file with no VEVENT is
    valid here (an empty calendar), unlike for parse_item.
    """
    cal = _load(data, where)
    grouped: dict[str, list[icalendar.Event]] = {}
    for comp in cal.subcomponents:
        if isinstance(comp, icalendar.Event):
            grouped.setdefault(_uid(comp, where), []).append(comp)
    return cal, {uid: _order(uid, evs, where) for uid, evs in grouped.items()}


def build_item(
    calendar: icalendar.Calendar, events: Iterable[icalendar.Event]
) -> icalendar.Calendar:
    """One UID's VCALENDAR cut out of a bigger one: its events, the calendar's
    properties, and the VTIMEZONEs those events use."""
    out = icalendar.Calendar()
    for name, value in calendar.property_items(recursive=False):
        if name not in ("BEGIN", "END"):
            out.add(name, value, encode=False)
    chosen = list(events)
    holder = icalendar.Calendar()
    for ev in chosen:
        holder.add_component(ev)
    used = holder.get_used_tzids()
    for tz in calendar.walk("VTIMEZONE"):
        if str(tz.get("TZID")) in used:
            out.add_component(tz)
    for ev in chosen:
        out.add_component(ev)
    return out


def serialize(calendar: icalendar.Calendar) -> bytes:
    data: bytes = calendar.to_ical()
    return data


def ical_text(prop: Any) -> str:
    """A property's value as it would be written (for messages)."""
    try:
        raw = prop.to_ical()
    except (AttributeError, ValueError, TypeError):
        return repr(prop)
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
