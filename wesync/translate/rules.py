"""RRULEs: evaluating them (dateutil) and mapping them exactly onto WeCom's fields.

A rule maps only if WeCom's series (series.py) has exactly the same start
instants as the RFC 5545 set evaluated in the event's real zone. The mapper
proposes fields from the rule's parts, then both sides are expanded and
compared over the first three years (at least 50 occurrences) and, for rules
that outlive that, the zone must keep one UTC offset for ten more years. A
rule that fails any of this is "not representable" with a reason naming it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil import rrule as du

from wesync.translate import series
from wesync.translate.canonical import Recurrence
from wesync.translate.ics import ical_text
from wesync.translate.zones import at_wall, constant_offset, epoch
from wesync.wecom.constants import (
    REPEAT_DAILY,
    REPEAT_MONTHLY,
    REPEAT_WEEKLY,
    REPEAT_YEARLY,
    TIMEZONE_MAX,
    TIMEZONE_MIN,
)

FREQS: dict[str, Any] = {
    "YEARLY": du.YEARLY,
    "MONTHLY": du.MONTHLY,
    "WEEKLY": du.WEEKLY,
    "DAILY": du.DAILY,
    "HOURLY": du.HOURLY,
    "MINUTELY": du.MINUTELY,
    "SECONDLY": du.SECONDLY,
}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_HANDLED = frozenset(
    {"FREQ", "INTERVAL", "UNTIL", "COUNT", "WKST", "BYDAY", "BYMONTHDAY", "BYMONTH"}
)
_RFC_PARTS = _HANDLED | {
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYSETPOS",
}
VERIFY_YEARS = 3
VERIFY_MIN_OCCURRENCES = 50
STABLE_YEARS = 10


class RuleError(ValueError):
    """An RRULE that is not valid (the message names the part)."""


#: How far apart in time two instances of a rule can come out of order (dateutil
#: gives them in wall-clock order; an offset change moves instants by up to a day).
OUT_OF_ORDER = 2 * 86400


class RfcRule(du.rrule):
    """A dateutil rule whose UNTIL is applied to instants as RFC 5545 reads them.

    dateutil makes each instance a wall time on DTSTART's zone (fold=0):
    `zones.epoch` reads it as RFC 5545 does in a gap or fold (3.8.5.3 reads a
    computed instance like an explicit DATE-TIME). dateutil would compare UNTIL
    with its own zone's reading, which for a VTIMEZONE-defined zone takes the
    offset after a gap; so UNTIL is kept here and compared by instant. Near a
    shift, wall-clock order is not time order (an hourly rule's 02:30 in the
    gap is later than its 03:00), so an instance past UNTIL does not end it.
    """

    rfc_until: int | None = None

    def __iter__(self) -> Iterator[datetime]:
        until = self.rfc_until
        for dt in super().__iter__():
            if until is not None and (t := epoch(dt)) > until:
                if t > until + OUT_OF_ORDER:
                    return
                continue
            yield dt


@dataclass(frozen=True)
class ByDay:
    ordinal: int | None
    weekday: int  #: 0 = Monday


def _values(recur: Any, key: str) -> list[Any]:
    v = recur.get(key)
    if v is None:
        return []
    return list(v) if isinstance(v, list | tuple) else [v]


def _ints(recur: Any, key: str) -> list[int]:
    out = []
    for v in _values(recur, key):
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            raise RuleError(f"RRULE {key}={v!r} is not a number") from None
    return out


def _bydays(recur: Any) -> list[ByDay]:
    out = []
    for v in _values(recur, "BYDAY"):
        m = _BYDAY.match(str(v).strip().upper())
        if not m:
            raise RuleError(f"RRULE BYDAY={v!r} is not a weekday")
        out.append(ByDay(int(m.group(1)) if m.group(1) else None, WEEKDAYS.index(m.group(2))))
    return out


def _freq(recur: Any) -> str:
    freq = [str(v).upper() for v in _values(recur, "FREQ")]
    if len(freq) != 1 or freq[0] not in FREQS:
        raise RuleError(f"RRULE FREQ={','.join(freq) or '(missing)'} is not valid")
    return freq[0]


def _until(value: Any, dtstart: datetime) -> datetime:
    """UNTIL as an aware datetime comparable with the occurrences."""
    zone = dtstart.tzinfo
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return at_wall(value, zone)
        return value
    if isinstance(value, date):
        # A DATE UNTIL includes that whole day on the event's own wall clock.
        return at_wall(datetime.combine(value, time(23, 59, 59)), zone)
    raise RuleError(f"RRULE UNTIL={value!r} is not a date")


def to_dateutil(recur: Any, dtstart: datetime) -> du.rrule:
    """A dateutil rule for an icalendar vRecur, starting at the aware `dtstart`."""
    freq = _freq(recur)
    unknown = sorted(str(k).upper() for k in recur if str(k).upper() not in _RFC_PARTS)
    if unknown:
        # RSCALE and friends (RFC 7529) change what the rule means; evaluating
        # it without them would produce the wrong dates.
        raise RuleError(f"{describe(recur)}: {unknown[0]} is not supported")
    kwargs: dict[str, Any] = {"dtstart": dtstart}
    interval = _ints(recur, "INTERVAL")
    if interval:
        if interval[0] < 1:
            raise RuleError(f"RRULE INTERVAL={interval[0]} must be at least 1")
        kwargs["interval"] = interval[0]
    count = _ints(recur, "COUNT")
    until = _values(recur, "UNTIL")
    if count and until:
        raise RuleError("RRULE has both COUNT and UNTIL")
    if count:
        kwargs["count"] = count[0]
    rfc_until = epoch(_until(until[0], dtstart)) if until else None
    wkst = [str(v).upper() for v in _values(recur, "WKST")]
    if wkst:
        if wkst[0] not in WEEKDAYS:
            raise RuleError(f"RRULE WKST={wkst[0]!r} is not a weekday")
        kwargs["wkst"] = WEEKDAYS.index(wkst[0])
    days = _bydays(recur)
    if days:
        kwargs["byweekday"] = [du.weekday(d.weekday, d.ordinal) for d in days]
    for key, arg in (
        ("BYMONTH", "bymonth"),
        ("BYMONTHDAY", "bymonthday"),
        ("BYYEARDAY", "byyearday"),
        ("BYWEEKNO", "byweekno"),
        ("BYSETPOS", "bysetpos"),
        ("BYHOUR", "byhour"),
        ("BYMINUTE", "byminute"),
        ("BYSECOND", "bysecond"),
    ):
        vals = _ints(recur, key)
        if vals:
            kwargs[arg] = vals
    try:
        rule = RfcRule(FREQS[freq], **kwargs)
    except (ValueError, TypeError) as exc:
        raise RuleError(f"RRULE {ical_text(recur)!s}: {exc}") from None
    rule.rfc_until = rfc_until
    return rule


def describe(recur: Any) -> str:
    try:
        return "RRULE " + ical_text(recur)
    except (AttributeError, ValueError, TypeError):
        return f"RRULE {recur!r}"


def _offset_candidates(dtstart: datetime) -> list[int]:
    off = dtstart.utcoffset()
    assert off is not None
    hours = off.total_seconds() / 3600
    out = [int(hours)] if hours.is_integer() else [math.floor(hours), math.ceil(hours)]
    return [h for h in out if TIMEZONE_MIN <= h <= TIMEZONE_MAX]


def propose(recur: Any, dtstart: datetime, rule: du.rrule) -> tuple[Recurrence, str | None]:
    """WeCom fields for the rule with timezone 0 (the caller picks the offset),
    or a reason it cannot map. Raises RuleError for an invalid rule."""
    freq = _freq(recur)
    unknown = sorted(k for k in recur if str(k).upper() not in _HANDLED)
    dummy = Recurrence(
        repeat_type=0,
        is_custom_repeat=False,
        repeat_interval=1,
        repeat_day_of_week=(),
        repeat_day_of_month=(),
        repeat_until=0,
        timezone=0,
        exclude_times=(),
    )
    if unknown:
        key = unknown[0]
        vals = ",".join(str(v) for v in _values(recur, key))
        return dummy, f"RRULE {key}={vals} has no WeCom equivalent"
    interval = (_ints(recur, "INTERVAL") or [1])[0]
    days = _bydays(recur)
    monthdays = _ints(recur, "BYMONTHDAY")
    months = _ints(recur, "BYMONTH")
    if any(d.ordinal is not None for d in days):
        bad = ",".join(str(v) for v in _values(recur, "BYDAY"))
        return dummy, f"RRULE BYDAY={bad} (a numbered weekday) has no WeCom equivalent"
    if freq not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        return dummy, f"RRULE FREQ={freq} has no WeCom equivalent"
    weekdays: tuple[int, ...] = ()
    mdays: tuple[int, ...] = ()
    if freq == "DAILY":
        if monthdays or months:
            return dummy, "RRULE FREQ=DAILY with BYMONTH or BYMONTHDAY has no WeCom equivalent"
        if days:
            if interval != 1:
                return dummy, "RRULE FREQ=DAILY;INTERVAL>1 with BYDAY has no WeCom equivalent"
            kind, weekdays = REPEAT_WEEKLY, tuple(sorted({d.weekday + 1 for d in days}))
        else:
            kind = REPEAT_DAILY
    elif freq == "WEEKLY":
        if monthdays or months:
            return dummy, "RRULE FREQ=WEEKLY with BYMONTH or BYMONTHDAY has no WeCom equivalent"
        kind = REPEAT_WEEKLY
        weekdays = tuple(sorted({d.weekday + 1 for d in days})) or (dtstart.isoweekday(),)
    elif freq == "MONTHLY":
        if days or months:
            return dummy, "RRULE FREQ=MONTHLY with BYDAY or BYMONTH has no WeCom equivalent"
        if any(d < 1 for d in monthdays):
            vals = ",".join(map(str, monthdays))
            return dummy, (
                f"RRULE BYMONTHDAY={vals} (counted from the month's end) has no WeCom equivalent"
            )
        kind = REPEAT_MONTHLY
        mdays = tuple(sorted(set(monthdays))) or (dtstart.day,)
    else:
        if days or monthdays not in ([], [dtstart.day]) or months not in ([], [dtstart.month]):
            return dummy, f"{describe(recur)}: only a yearly repeat on DTSTART's day maps to WeCom"
        kind = REPEAT_YEARLY
    until = 0
    if _ints(recur, "COUNT") or _values(recur, "UNTIL"):
        last = None
        for last in rule:  # noqa: B007 -- only the last one is wanted
            pass
        until = epoch(last) if last is not None else epoch(dtstart)
    return (
        Recurrence(
            repeat_type=kind,
            is_custom_repeat=True,
            repeat_interval=interval,
            repeat_day_of_week=weekdays,
            repeat_day_of_month=mdays,
            repeat_until=until,
            timezone=0,
            exclude_times=(),
        ),
        None,
    )


def rfc_starts(rule: du.rrule, dtstart: datetime) -> Iterator[datetime]:
    """The rule's instances with DTSTART first: RFC 5545 counts DTSTART as an
    instance even when it does not match the rule (dateutil does not)."""
    yielded_start = False
    start = epoch(dtstart)
    for dt in rule:
        if not yielded_start and epoch(dt) >= start:
            if epoch(dt) != start:
                yield dtstart
            yielded_start = True
        yield dt
    if not yielded_start:
        yield dtstart


def _sample(instances: Iterable[datetime], dtstart: datetime) -> tuple[list[int], int, bool]:
    """Starts over the verification horizon, the horizon's end, and whether the
    rule goes on past it."""
    horizon = dtstart + timedelta(days=366 * VERIFY_YEARS)
    out: list[int] = []
    for dt in instances:
        if dt > horizon and len(out) >= VERIFY_MIN_OCCURRENCES:
            return out, max(out[-1], epoch(horizon)), True
        out.append(epoch(dt))
    return out, max(out[-1], epoch(horizon)), False


def exact(recur: Any, dtstart: datetime, rule: du.rrule) -> Recurrence | str:
    """The WeCom series for this rule (not yet normalised, no exclusions), or why not."""
    return _exact(recur, dtstart, rule, rfc_starts(rule, dtstart))


def first_instance(rule: du.rrule, dtstart: datetime) -> datetime | None:
    """The rule's first instance when DTSTART is not one of them (a workday rule
    starting on a Saturday), else None. RFC 5545 still counts such a DTSTART."""
    for dt in rule:
        return None if epoch(dt) == epoch(dtstart) else dt
    return None


def off_rule(rule: du.rrule, dtstart: datetime) -> bool:
    """Whether DTSTART is not the rule's first instance (or the rule has none)."""
    first = next(iter(rule), None)
    return first is None or epoch(first) != epoch(dtstart)


def exact_after_start(
    recur: Any, dtstart: datetime, rule: du.rrule
) -> tuple[datetime, Recurrence] | None:
    """For a DTSTART that is not an instance of its own rule: the first instance
    and the WeCom series (starting there) of the rule's instances without
    DTSTART, when WeCom can hold them exactly; else None.

    WeCom's handling of a start_time that does not fit its own repeat is not
    documented (series.py), so wesync never sends one: the DTSTART occurrence
    goes to a single schedule of its own (slot "S:<epoch>")."""
    first = first_instance(rule, dtstart)
    if first is None:
        return None
    found = _exact(recur, first, rule, iter(rule))
    return None if isinstance(found, str) else (first, found)


def exact_from(
    recur: Any, first: datetime, rule: du.rrule, instances: Iterable[datetime]
) -> Recurrence | str:
    """The WeCom series starting at `first`, one of the rule's instances, with
    exactly `instances` (the rule's own from `first` on), or why not: the part
    of a series from 1970 on when DTSTART lies before it (bounds.py)."""
    return _exact(recur, first, rule, instances)


def _exact(
    recur: Any, dtstart: datetime, rule: du.rrule, instances: Iterable[datetime]
) -> Recurrence | str:
    """The WeCom series starting at `dtstart` with exactly `instances`, or why not."""
    fields, reason = propose(recur, dtstart, rule)
    if reason is not None:
        return reason
    starts, end, more = _sample(instances, dtstart)
    if more:
        zone = dtstart.tzinfo
        assert zone is not None
        last = datetime.fromtimestamp(end, zone)
        if constant_offset(zone, last.replace(tzinfo=None), STABLE_YEARS) is None:
            return f"{describe(recur)}: the time zone changes its UTC offset (daylight saving)"
    for hours in _offset_candidates(dtstart):
        candidate = _with(fields, timezone=hours)
        start = epoch(dtstart)
        if list(series.occurrences(start, candidate, end=end)) == starts:
            return candidate
    offsets = {dtstart.utcoffset(), datetime.fromtimestamp(end, dtstart.tzinfo).utcoffset()}
    if len(offsets) > 1:
        return f"{describe(recur)}: the time zone changes its UTC offset (daylight saving)"
    return (
        f"{describe(recur)}: no whole-hour UTC offset gives the same occurrences "
        f"(the event's offset is {_fmt(dtstart.utcoffset())})"
    )


def _fmt(off: timedelta | None) -> str:
    if off is None:
        return "unknown"
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _with(rec: Recurrence, **changes: Any) -> Recurrence:
    from dataclasses import replace

    return replace(rec, **changes)


_STEPS = {"WEEKLY": 7 * 86400, "DAILY": 86400, "HOURLY": 3600, "MINUTELY": 60, "SECONDLY": 1}


def rebased(recur: Any, dtstart: datetime, not_after: datetime) -> datetime:
    """A later DTSTART on the same phase of the rule, at or before `not_after`.

    Expanding a window years after DTSTART would otherwise walk every
    occurrence since (a 20-minute rule from 1997 has a quarter of a million).
    Only for rules whose occurrences do not depend on where they start
    counting: no COUNT, and a fixed step (weekly or finer).
    """
    freq = _freq(recur)
    if freq not in _STEPS or _ints(recur, "COUNT"):
        return dtstart
    step = _STEPS[freq] * ((_ints(recur, "INTERVAL") or [1])[0])
    wall = dtstart.replace(tzinfo=None)
    gap = (not_after.astimezone(dtstart.tzinfo).replace(tzinfo=None) - wall).total_seconds()
    # One step of margin on each side of a daylight-saving shift.
    k = int(gap // step) - 2
    if k <= 0:
        return dtstart
    return (wall + timedelta(seconds=k * step)).replace(tzinfo=dtstart.tzinfo)


def _in_window(rule: Iterable[datetime], lo: int, hi: int, drop: set[int], cap: int) -> set[int]:
    """The rule's instants in [lo, hi] not in `drop`; once more than `cap` are
    found, only those that can still be among the first `cap` + 1."""
    out: set[int] = set()
    bound = hi
    for dt in rule:
        t = epoch(dt)
        if t > bound + OUT_OF_ORDER:
            break
        if lo <= t <= bound and t not in drop:
            out.add(t)
            if len(out) == cap + 1:
                bound = max(out)
    return out


def set_starts(
    rules: Sequence[du.rrule],
    dtstart: datetime,
    rdates: Iterable[int],
    exrules: Sequence[du.rrule],
    *,
    lo: int,
    hi: int,
    excluded: Iterable[int] = (),
    cap: int,
) -> list[int]:
    """The instants of an RRULE/RDATE/EXRULE set in [lo, hi] without the EXDATEs
    (`excluded`), in order, each once: the first `cap` + 1 of them at most.

    Instants, not wall times, are merged and compared: RFC 5545 reads each
    instance as a DATE-TIME (a gap or fold time as zones.epoch does), so two
    wall times may name one instant, or come out of order near a shift.
    """
    drop = set(excluded)
    for x in exrules:
        drop |= _in_window(x, lo, hi, set(), 2**62)
    found = {t for t in (epoch(dtstart), *rdates) if lo <= t <= hi and t not in drop}
    for r in rules:
        found |= _in_window(r, lo, hi, drop, cap)
    return sorted(found)[: cap + 1]
