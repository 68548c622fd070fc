"""WeCom recurrence expansion, written from the API description alone.

A series is `start_time` plus the reminders' repeat fields, evaluated in the
schedule's whole-hour `timezone` offset (no daylight saving), so the local
wall time of every occurrence equals the local wall time of `start_time`.

Choices where the documentation is silent (the client must not rely on more):
- `start_time` itself is always the first occurrence, even when it does not
  match the day lists (WeCom shows a schedule at its start).
- `repeat_until` is inclusive: an occurrence starting exactly at it counts.
- weekly day lists count weeks from Monday (1 = Monday .. 7 = Sunday);
  `repeat_interval` is in units of the repeat type (days, weeks, months,
  years); workdays (7) are Monday to Friday, every `repeat_interval` weeks.
- a monthly day that a month lacks (31 in April) is skipped, as is 29
  February in yearly series outside leap years.
- without `is_custom_repeat` the interval is 1 and the day is the start's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

from wesync.wecom import constants as C

_EPOCH = datetime(1970, 1, 1)
_WORKDAYS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Rule:
    """One series. Times are Unix seconds; `tz_hours` is the UTC offset."""

    start_time: int
    repeat_type: int
    interval: int = 1
    days_of_week: tuple[int, ...] = ()
    days_of_month: tuple[int, ...] = ()
    until: int = 0
    tz_hours: int = C.TIMEZONE_DEFAULT
    excluded: frozenset[int] = field(default_factory=frozenset)


def rule_of(schedule: Mapping[str, Any]) -> Rule | None:
    """The series of a stored schedule (get form), or None when it does not repeat."""
    rem = schedule.get("reminders") or {}
    if not rem.get("is_repeat"):
        return None
    custom = bool(rem.get("is_custom_repeat"))
    return Rule(
        start_time=int(schedule["start_time"]),
        repeat_type=int(rem.get("repeat_type", 0)),
        interval=max(1, int(rem.get("repeat_interval") or 1)) if custom else 1,
        days_of_week=tuple(rem.get("repeat_day_of_week") or ()) if custom else (),
        days_of_month=tuple(rem.get("repeat_day_of_month") or ()) if custom else (),
        until=int(rem.get("repeat_until") or 0),
        tz_hours=int(rem.get("timezone", C.TIMEZONE_DEFAULT)),
        excluded=frozenset(int(x["start_time"]) for x in rem.get("exclude_time_list") or ()),
    )


def occurrences(rule: Rule, window_start: int, window_end: int) -> list[int]:
    """Start instants of the series in [window_start, window_end), exclusions removed."""
    return [t for t in _instants(rule, window_start, window_end) if t not in rule.excluded]


def is_occurrence(rule: Rule, instant: int) -> bool:
    return bool(occurrences(rule, instant, instant + 1))


def last_before(rule: Rule, instant: int) -> int | None:
    """The latest start of the series before `instant`, exclusions ignored."""
    found = None
    for t in _instants(rule, rule.start_time, instant):
        found = t
    return found


def local_day_start(instant: int, tz_hours: int) -> int:
    """The instant at which the local day containing `instant` begins."""
    offset = tz_hours * 3600
    return (instant + offset) // 86400 * 86400 - offset


def _instants(rule: Rule, window_start: int, window_end: int) -> Iterator[int]:
    if window_end <= window_start:
        return
    offset = rule.tz_hours * 3600
    local_start = _EPOCH + timedelta(seconds=rule.start_time + offset)
    start_day = local_start.date()
    last = window_end - 1
    if rule.until:
        last = min(last, rule.until)
    if last < rule.start_time:
        return
    if rule.start_time >= window_start:
        yield rule.start_time
    first_day = (_EPOCH + timedelta(seconds=max(window_start, rule.start_time) + offset)).date()
    last_day = (_EPOCH + timedelta(seconds=last + offset)).date()
    for day in _days_after(rule, start_day, first_day, last_day):
        local = datetime.combine(day, local_start.time())
        instant = int((local - _EPOCH).total_seconds()) - offset
        if instant > last:
            return
        if instant >= window_start:
            yield instant


def _days_after(rule: Rule, start: date, first: date, last: date) -> Iterator[date]:
    """Days of the series after `start`, ascending, from about `first` to `last`."""
    kind = rule.repeat_type
    if kind == C.REPEAT_DAILY:
        yield from _daily(start, first, last, rule.interval)
    elif kind in (C.REPEAT_WEEKLY, C.REPEAT_WORKDAYS):
        days = _WORKDAYS if kind == C.REPEAT_WORKDAYS else (
            rule.days_of_week or (start.isoweekday(),))
        yield from _weekly(start, first, last, rule.interval, sorted(set(days)))
    elif kind == C.REPEAT_MONTHLY:
        yield from _monthly(start, first, last, rule.interval,
                            sorted(set(rule.days_of_month or (start.day,))))
    elif kind == C.REPEAT_YEARLY:
        yield from _yearly(start, first, last, rule.interval)


def _daily(start: date, first: date, last: date, interval: int) -> Iterator[date]:
    # begin one step early so that rounding never skips an occurrence
    k0 = max(1, (first - start).days // interval)
    for k in count(k0):
        day = start + timedelta(days=k * interval)
        if day > last:
            return
        yield day


def _weekly(start: date, first: date, last: date, interval: int, days: list[int]) -> Iterator[date]:
    monday = start - timedelta(days=start.weekday())
    w0 = max(0, (first - monday).days // 7 // interval - 1)
    for w in count(w0):
        base = monday + timedelta(weeks=w * interval)
        if base > last:
            return
        for dow in days:
            day = base + timedelta(days=dow - 1)
            if day > start:
                yield day


def _monthly(
    start: date, first: date, last: date, interval: int, days: list[int]
) -> Iterator[date]:
    months_to_first = (first.year - start.year) * 12 + first.month - start.month
    m0 = max(0, months_to_first // interval - 1)
    for m in count(m0):
        year, month0 = divmod(start.year * 12 + start.month - 1 + m * interval, 12)
        if date(year, month0 + 1, 1) > last:
            return
        for dom in days:
            try:
                day = date(year, month0 + 1, dom)
            except ValueError:
                continue
            if day > start:
                yield day


def _yearly(start: date, first: date, last: date, interval: int) -> Iterator[date]:
    y0 = max(1, (first.year - start.year) // interval - 1)
    for y in count(y0):
        year = start.year + y * interval
        if date(year, 1, 1) > last:
            return
        try:
            yield date(year, start.month, start.day)
        except ValueError:
            continue
