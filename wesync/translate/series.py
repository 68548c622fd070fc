"""WeCom's recurrence, as wesync understands it: expansion and normal form.

The model (the documented fields; where WeCom's behaviour is unconfirmed the
choice matches RFC 5545 so that exact mappings stay exact):

- Occurrences are computed on the wall clock of the fixed offset `timezone`
  (whole hours, no daylight saving) at start_time's time of day.
- daily: every `interval` days from the start date.
- weekly: weeks start on Monday; every `interval`-th week counted from the
  start's week, on each listed weekday (1 = Monday), not before the start.
- monthly: every `interval`-th month, on each listed day; a month without
  that day (the 31st in April) has no occurrence, as in RFC 5545.
- yearly: every `interval`-th year on the start's month and day (29 February
  only in leap years).
- workdays (7): weekly on Monday..Friday.
- Non-custom repeats (is_custom_repeat=0) take interval 1 and the weekday or
  day of month from start_time.
- repeat_until is an instant, inclusive: occurrences that start at or before
  it. 0 means forever.
- start_time itself is always an occurrence, even when it does not fit the
  pattern (a custom Monday..Friday repeat starting on a Saturday). The API
  documentation does not say; WeCom shows a schedule at its start, and the
  emulator (wesync.emulator.recurrence) makes the same choice. It is
  unconfirmed, so wesync never sends such a series: a DTSTART off its own
  RRULE goes to a single schedule of its own beside a series that starts at
  the rule's first instance (slot "S:<t>", canonical.py). The choice matters
  only for series made in WeCom itself; RFC 5545 reads DTSTART the same way,
  so such a series is written to a file as DTSTART plus RRULE.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

from wesync.translate.canonical import Recurrence
from wesync.wecom.constants import (
    REPEAT_DAILY,
    REPEAT_MONTHLY,
    REPEAT_WEEKLY,
    REPEAT_WORKDAYS,
    REPEAT_YEARLY,
)

FOREVER = 2**62
WORKDAYS = (1, 2, 3, 4, 5)


def _frame(start: int, rec: Recurrence) -> tuple[timezone, date, time]:
    tz = timezone(timedelta(hours=rec.timezone))
    local = datetime.fromtimestamp(start, tz)
    return tz, local.date(), local.time()


def _days_in_month(year: int, month: int) -> int:
    return _calendar.monthrange(year, month)[1]


def _dates(rec: Recurrence, d0: date) -> Iterator[date]:
    """Every date of the pattern from d0 on, in order (unbounded)."""
    step = max(1, rec.repeat_interval)
    if rec.repeat_type == REPEAT_DAILY:
        d = d0
        while True:
            yield d
            d += timedelta(days=step)
    elif rec.repeat_type == REPEAT_WEEKLY:
        days = rec.repeat_day_of_week or (d0.isoweekday(),)
        monday = d0 - timedelta(days=d0.weekday())
        while True:
            for dow in days:
                d = monday + timedelta(days=dow - 1)
                if d >= d0:
                    yield d
            monday += timedelta(weeks=step)
    elif rec.repeat_type == REPEAT_MONTHLY:
        days = rec.repeat_day_of_month or (d0.day,)
        y, m = d0.year, d0.month
        while y <= 9999:
            last = _days_in_month(y, m)
            for dom in days:
                if dom <= last:
                    d = date(y, m, dom)
                    if d >= d0:
                        yield d
            m += step
            y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    elif rec.repeat_type == REPEAT_YEARLY:
        y = d0.year
        while y <= 9999:
            if d0.month != 2 or d0.day != 29 or _calendar.isleap(y):
                yield date(y, d0.month, d0.day)
            y += step
    else:
        raise ValueError(f"unknown repeat_type {rec.repeat_type}")


def occurrences(start: int, rec: Recurrence, *, end: int = FOREVER) -> Iterator[int]:
    """Start instants of the series up to `end` (inclusive), exclusions ignored."""
    tz, d0, tod = _frame(start, rec)
    limit = min(end, rec.repeat_until) if rec.repeat_until else end
    first = True
    for d in _dates(rec, d0):
        t = int(datetime.combine(d, tod, tz).timestamp())
        if first and t != start and start <= limit:
            yield start  # a start off the pattern still counts
        first = False
        if t > limit:
            return
        yield t


def is_occurrence(start: int, rec: Recurrence, instant: int) -> bool:
    """Whether `instant` is one of the series' starts (exclusions ignored)."""
    if instant < start or (rec.repeat_until and instant > rec.repeat_until):
        return False
    if instant == start:
        return True  # even off the pattern
    tz, d0, tod = _frame(start, rec)
    local = datetime.fromtimestamp(instant, tz)
    if local.time() != tod:
        return False
    d = local.date()
    step = max(1, rec.repeat_interval)
    if rec.repeat_type == REPEAT_DAILY:
        return (d - d0).days % step == 0
    if rec.repeat_type == REPEAT_WEEKLY:
        days = rec.repeat_day_of_week or (d0.isoweekday(),)
        weeks = ((d - timedelta(days=d.weekday())) - (d0 - timedelta(days=d0.weekday()))).days // 7
        return d.isoweekday() in days and weeks % step == 0
    if rec.repeat_type == REPEAT_MONTHLY:
        days = rec.repeat_day_of_month or (d0.day,)
        months = (d.year - d0.year) * 12 + d.month - d0.month
        return d.day in days and months % step == 0
    if rec.repeat_type == REPEAT_YEARLY:
        return (d.month, d.day) == (d0.month, d0.day) and (d.year - d0.year) % step == 0
    return False


def last_occurrence(start: int, rec: Recurrence, *, at_or_before: int) -> int | None:
    last = None
    for t in occurrences(start, rec, end=at_or_before):
        last = t
    return last


def normalize(start: int, rec: Recurrence) -> Recurrence:
    """The one normal form of a series, so equal series compare (and digest) equal.

    Workdays become custom weekly Monday..Friday; a repeat that needs no custom
    fields (interval 1 on the start's own weekday or day of month, or plain
    daily/yearly) is non-custom with those fields filled in from the start;
    repeat_until becomes the last occurrence's start; exclusions that are not
    occurrences are dropped.
    """
    tz = timezone(timedelta(hours=rec.timezone))
    d0 = datetime.fromtimestamp(start, tz).date()
    kind = rec.repeat_type
    custom = rec.is_custom_repeat
    interval = max(1, rec.repeat_interval) if custom else 1
    weekdays: tuple[int, ...] = ()
    monthdays: tuple[int, ...] = ()
    if kind == REPEAT_WORKDAYS:
        kind, interval, weekdays = REPEAT_WEEKLY, 1, WORKDAYS
    elif kind == REPEAT_WEEKLY:
        given = tuple(sorted({d for d in rec.repeat_day_of_week if 1 <= d <= 7}))
        weekdays = given if custom and given else (d0.isoweekday(),)
    elif kind == REPEAT_MONTHLY:
        given = tuple(sorted({d for d in rec.repeat_day_of_month if 1 <= d <= 31}))
        monthdays = given if custom and given else (d0.day,)
    plain = interval == 1 and (
        (kind == REPEAT_WEEKLY and weekdays == (d0.isoweekday(),))
        or (kind == REPEAT_MONTHLY and monthdays == (d0.day,))
        or kind in (REPEAT_DAILY, REPEAT_YEARLY)
    )
    out = replace(
        rec,
        repeat_type=kind,
        is_custom_repeat=not plain,
        repeat_interval=interval,
        repeat_day_of_week=weekdays,
        repeat_day_of_month=monthdays,
        exclude_times=(),
    )
    if out.repeat_until:
        last = last_occurrence(start, replace(out, repeat_until=0), at_or_before=out.repeat_until)
        out = replace(out, repeat_until=last if last is not None else start)
    excluded = tuple(sorted({t for t in rec.exclude_times if is_occurrence(start, out, t)}))
    return replace(out, exclude_times=excluded)
