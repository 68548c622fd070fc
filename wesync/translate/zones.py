"""Time zones: which real zone a TZID means, and instants from iCalendar values.

A TZID is resolved here rather than trusting the tzinfo icalendar attached:
icalendar caches a custom VTIMEZONE globally by its TZID, so two files that
define "Customized Time Zone" differently would share the first one's rules.

Order: an IANA name; a Windows zone name (CLDR's mapping, "China Standard
Time" -> Asia/Shanghai); a globally unique "/vendor/.../Area/City" TZID; the
item's own VTIMEZONE with that TZID (offsets as written); else None.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

import icalendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

#: All-day dates become instants at 00:00 in this offset, WeCom's default
#: zone (UTC+8) -- for singles and series alike, both ways (see the feature table in README.md).
ALL_DAY_OFFSET_HOURS = 8
ALL_DAY_ZONE = timezone(timedelta(hours=ALL_DAY_OFFSET_HOURS))


def iana(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _vtimezones(calendar: icalendar.Calendar) -> dict[str, icalendar.Timezone]:
    return {
        str(tz.get("TZID", "")): tz
        for tz in calendar.subcomponents
        if isinstance(tz, icalendar.Timezone)
    }


class ZoneResolver:
    """Resolves the TZIDs of one item; remembers what it found."""

    def __init__(self, calendar: icalendar.Calendar, default_timezone: str) -> None:
        self._calendar = calendar
        self._cache: dict[str, tzinfo | None] = {}
        floating = None
        wr = calendar.get("X-WR-TIMEZONE")
        if wr is not None:
            floating = iana(str(wr).strip())
        default = iana(default_timezone)
        self.floating: tzinfo = floating or default or ALL_DAY_ZONE

    def resolve(self, tzid: str) -> tzinfo | None:
        if tzid not in self._cache:
            self._cache[tzid] = self._lookup(tzid)
        return self._cache[tzid]

    def _lookup(self, tzid: str) -> tzinfo | None:
        clean = tzid.strip().strip('"').strip("/")
        if clean.upper() in ("UTC", "Z", "GMT", "ETC/UTC"):
            return UTC
        found = iana(clean)
        if found is not None:
            return found
        if clean in WINDOWS_TO_OLSON:
            found = iana(WINDOWS_TO_OLSON[clean])
            if found is not None:
                return found
        parts = clean.split("/")
        for start in range(1, len(parts)):
            found = iana("/".join(parts[start:]))
            if found is not None:
                return found
        vtz = _vtimezones(self._calendar).get(tzid)
        if vtz is not None:
            try:
                return vtz.to_tz(lookup_tzid=False)  # type: ignore[no-any-return]
            except (ValueError, KeyError, TypeError, IndexError):
                return None
        return None


def zone_name(zone: tzinfo) -> str | None:
    """The IANA key of a zone, "UTC", or None for a VTIMEZONE-defined one."""
    if zone is UTC or zone == UTC:
        return "UTC"
    key = getattr(zone, "key", None)
    return key if isinstance(key, str) else None


def epoch(value: datetime) -> int:
    """Unix seconds of a datetime (aware, or naive on the system clock).

    An aware value with fold=0 is a wall time and reads as RFC 5545 (3.3.5)
    reads a local DATE-TIME: a time skipped by a forward shift (a gap) uses
    the UTC offset from before the gap (Berlin's 02:30 on its spring-forward
    day is 03:30 CEST), and a time that happens twice (a fold) is the first
    of the two. zoneinfo and fixed offsets do this with fold=0 (PEP 495);
    other zones (a file's own VTIMEZONE, read by dateutil, takes the offset
    after a gap) are resolved by `wall_instant`. fold=1 marks an instant
    already known to be the second of a fold (from `datetime.fromtimestamp`).
    """
    zone = value.tzinfo
    if value.fold or zone is None or isinstance(zone, zoneinfo.ZoneInfo | timezone):
        return int(value.timestamp())
    return wall_instant(value.replace(tzinfo=None), zone)


def wall_instant(wall: datetime, zone: tzinfo) -> int:
    """The Unix second the naive local `wall` means on `zone`, as RFC 5545 reads it."""
    as_utc = wall.replace(tzinfo=UTC)
    offsets: set[timedelta] = set()
    for fold in (0, 1):
        off = wall.replace(tzinfo=zone, fold=fold).utcoffset()
        if off is not None:
            offsets.add(off)
    if not offsets:
        return int(as_utc.timestamp())
    # The zone's own answer may be the offset after a gap, or only one side of
    # a fold: the offsets in force at the instants those answers give complete it.
    for off in list(offsets):
        for shift in (-3, 0, 3):
            seen = (as_utc - off + timedelta(hours=shift)).astimezone(zone).utcoffset()
            if seen is not None:
                offsets.add(seen)
    exists = [
        as_utc - off
        for off in offsets
        if (as_utc - off).astimezone(zone).replace(tzinfo=None) == wall
    ]
    if exists:
        return int(min(exists).timestamp())  # a fold: the first occurrence
    # A gap (the offset goes up across it): the offset in force before it.
    before = (as_utc - max(offsets)).astimezone(zone).utcoffset() or min(offsets)
    return int((as_utc - before).timestamp())


def at_wall(wall: datetime, zone: tzinfo | None) -> datetime:
    """`wall` (naive or not) as a wall time on `zone`, to be read as RFC 5545 reads it
    (fold=0; `epoch` gives its instant)."""
    return wall.replace(tzinfo=zone, fold=0)


def on_wall_clock(instant: int, zone: tzinfo) -> bool:
    """Whether `zone`'s wall time at `instant` reads back as `instant` (RFC 5545):
    false for the second pass through a fold, which no local time names."""
    local = datetime.fromtimestamp(instant, zone)
    return epoch(local.replace(fold=0)) == instant


def all_day_start(day: date) -> int:
    return epoch(datetime.combine(day, time(0), ALL_DAY_ZONE))


def all_day_date(instant: int, offset_hours: int = ALL_DAY_OFFSET_HOURS) -> date:
    return datetime.fromtimestamp(instant, timezone(timedelta(hours=offset_hours))).date()


def constant_offset(zone: tzinfo, start: datetime, years: int = 10) -> timedelta | None:
    """The zone's UTC offset if it does not change in `years` from `start` (sampled
    every 15 days), else None."""
    first = start.replace(tzinfo=zone).utcoffset()
    probe = start.replace(tzinfo=None)
    for _ in range(years * 365 // 15 + 1):
        if probe.replace(tzinfo=zone).utcoffset() != first:
            return None
        probe += timedelta(days=15)
    return first


def fixed_zone_for(offset_hours: int) -> tzinfo:
    """A named zone with this constant offset, so that a TZID can be written."""
    if offset_hours == 0:
        return UTC
    # POSIX-style Etc names have the sign inverted: Etc/GMT-8 is UTC+8.
    name = f"Etc/GMT{-offset_hours:+d}"
    found = iana(name)
    return found if found is not None else timezone(timedelta(hours=offset_hours))
