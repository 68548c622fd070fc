"""An independent reading of WeCom's recurrence fields, for the tests.

Written from the field descriptions, day by day, sharing no code with
wesync.translate.series: for every calendar day from the start, decide
whether the rule fires that day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from wesync.wecom.models import Reminders, Schedule


def _monday(d: date) -> int:
    return d.toordinal() - d.weekday()


def _fires(day: date, first: date, r: Reminders) -> bool:
    custom = bool(r.is_custom_repeat)
    every = (r.repeat_interval or 1) if custom else 1
    if r.repeat_type == 7:
        return day.isoweekday() <= 5
    if r.repeat_type == 0:
        return (day - first).days % every == 0
    if r.repeat_type == 1:
        wanted = (set(r.repeat_day_of_week or ()) if custom else set()) or {first.isoweekday()}
        return day.isoweekday() in wanted and ((_monday(day) - _monday(first)) // 7) % every == 0
    if r.repeat_type == 2:
        wanted = (set(r.repeat_day_of_month or ()) if custom else set()) or {first.day}
        months = day.year * 12 + day.month - (first.year * 12 + first.month)
        return day.day in wanted and months % every == 0
    if r.repeat_type == 5:
        same_day = (day.month, day.day) == (first.month, first.day)
        return same_day and (day.year - first.year) % every == 0
    raise AssertionError(f"unknown repeat_type {r.repeat_type}")


def expand(schedule: Schedule, *, until: int) -> list[int]:
    """Start instants of the series up to `until`, without exclusions."""
    r = schedule.reminders
    assert r is not None and r.is_repeat
    assert schedule.start_time is not None
    tz = timezone(timedelta(hours=8 if r.timezone is None else r.timezone))
    start = datetime.fromtimestamp(schedule.start_time, tz)
    last = min(until, r.repeat_until) if r.repeat_until else until
    out = []
    day = start.date()
    while True:
        t = int(datetime.combine(day, start.timetz()).timestamp())
        if t > last:
            return out
        if _fires(day, start.date(), r):
            out.append(t)
        day += timedelta(days=1)
