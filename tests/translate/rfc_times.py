"""An explicit reading of local times as RFC 5545 (3.3.5) has it, for the tests.

A DATE-TIME with a TZID names the instant whose wall time it is; when that
wall time happens twice (a fold, clocks going back) it is the first of the
two; when it never happens (a gap, clocks going forward) it is read with the
UTC offset in force before the gap (Berlin's 02:30 on its spring-forward day
is 03:30 CEST). Computed from instants only (UTC -> local, never `fold`), so
that it shares nothing with wesync.translate.zones.

Also the daylight-saving transitions of a few zones, to draw times in gaps
and folds on purpose.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

#: zones with daylight saving: 1 h shifts at 02:00/03:00 local, at 01:00 UTC,
#: and a 30-minute one (Lord Howe)
DST_ZONES = ("Europe/Berlin", "America/New_York", "Europe/London", "Australia/Lord_Howe")
DAY = 86400


def _local(instant: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(instant, UTC).astimezone(zone).replace(tzinfo=None)


def _offset(instant: int, zone: ZoneInfo) -> int:
    off = datetime.fromtimestamp(instant, UTC).astimezone(zone).utcoffset()
    assert off is not None
    return int(off.total_seconds())


def rfc_instant(wall: datetime, zone: str | ZoneInfo) -> int:
    """The Unix second the naive local `wall` names on `zone` (RFC 5545 3.3.5)."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    naive = int(wall.replace(tzinfo=UTC).timestamp())  # wall read as if UTC
    # The offsets around (transitions are months apart in these zones).
    offsets = {_offset(naive - DAY, tz), _offset(naive + DAY, tz)}
    offsets |= {_offset(naive - o, tz) for o in list(offsets)}
    named = [naive - o for o in offsets if _local(naive - o, tz) == wall.replace(tzinfo=None)]
    if named:
        return min(named)  # a fold: the first time the wall clock shows it
    return naive - _offset(naive - DAY, tz)  # a gap: the offset from before it


def rfc_epoch(value: datetime) -> int:
    """An aware datetime: a wall time on its zone (as dateutil makes them) or a
    fixed offset (UTC)."""
    if isinstance(value.tzinfo, ZoneInfo):
        return rfc_instant(value.replace(tzinfo=None), value.tzinfo)
    assert value.utcoffset() is not None
    return int(value.timestamp())


@dataclass(frozen=True)
class Shift:
    """One change of a zone's UTC offset."""

    at: int  #: the instant
    before: int  #: offset (seconds) before
    after: int  #: offset after

    @property
    def gap(self) -> bool:
        return self.after > self.before

    def walls(self) -> tuple[datetime, datetime]:
        """The wall times [first, last) skipped (gap) or shown twice (fold)."""
        lo = self.at + min(self.before, self.after)
        hi = self.at + max(self.before, self.after)
        start = datetime.fromtimestamp(lo, UTC).replace(tzinfo=None)
        return start, start + timedelta(seconds=hi - lo)


@functools.cache
def shifts(zone: str, first_year: int = 2021, last_year: int = 2030) -> tuple[Shift, ...]:
    """The zone's offset changes in those years, found from instants only."""
    tz = ZoneInfo(zone)
    out = []
    t = int(datetime(first_year, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(last_year + 1, 1, 1, tzinfo=UTC).timestamp())
    while t < end:
        if _offset(t, tz) != _offset(t + DAY, tz):
            lo, hi = t, t + DAY
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(mid, tz) == _offset(lo, tz):
                    lo = mid
                else:
                    hi = mid
            out.append(Shift(hi, _offset(lo, tz), _offset(hi, tz)))
        t += DAY
    return tuple(out)


@st.composite
def dst_wall(draw: st.DrawFn, zone: str) -> datetime:
    """A wall time in a gap or fold of `zone` (the shift's own day, or the same
    time some days or weeks before, so that a later instance lands in it), or
    now and then an ordinary time."""
    shift = draw(st.sampled_from(shifts(zone, 2024, 2027)))
    first, last = shift.walls()
    steps = int((last - first).total_seconds() // 900)
    wall = first + timedelta(minutes=15 * draw(st.integers(0, steps - 1)))
    how = draw(st.sampled_from(("on", "on", "days", "weeks", "other")))
    if how == "days":
        wall -= timedelta(days=draw(st.integers(1, 6)))
    elif how == "weeks":
        wall -= timedelta(weeks=draw(st.integers(1, 5)))
    elif how == "other":
        wall += timedelta(minutes=15 * draw(st.integers(-200, 200)))
    return wall
