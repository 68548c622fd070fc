"""The emulator's recurrence expander, against hand-worked cases and dateutil.rrule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dateutil import rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from wesync.emulator.recurrence import (
    Rule,
    is_occurrence,
    last_before,
    local_day_start,
    occurrences,
    rule_of,
)
from wesync.wecom import constants as C

EPOCH = datetime(1970, 1, 1)
DAY = 86400


def instant(local: datetime, tz: int) -> int:
    return int((local - EPOCH).total_seconds()) - tz * 3600


def local(ts: int, tz: int) -> datetime:
    return EPOCH + timedelta(seconds=ts + tz * 3600)


def utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())  # type: ignore[misc]


def test_daily_with_interval_and_until() -> None:
    start = utc(2030, 1, 1, 1)
    rule = Rule(start_time=start, repeat_type=C.REPEAT_DAILY, interval=3, until=start + 7 * DAY)
    assert occurrences(rule, 0, start + 100 * DAY) == [start, start + 3 * DAY, start + 6 * DAY]


def test_until_is_inclusive() -> None:
    start = utc(2030, 1, 1, 1)
    rule = Rule(start_time=start, repeat_type=C.REPEAT_DAILY, until=start + 2 * DAY)
    assert occurrences(rule, 0, start + 10 * DAY)[-1] == start + 2 * DAY


def test_weekly_day_list_in_beijing_time() -> None:
    # 2030-01-07 is a Monday; 09:00 in UTC+8 is 01:00 UTC
    start = utc(2030, 1, 7, 1)
    rule = Rule(start_time=start, repeat_type=C.REPEAT_WEEKLY, interval=2, days_of_week=(1, 3, 7))
    got = [local(t, 8) for t in occurrences(rule, start, start + 15 * DAY)]
    assert got == [datetime(2030, 1, d, 9) for d in (7, 9, 13, 21)]


def test_weekday_is_taken_in_the_schedules_own_timezone() -> None:
    # Monday 01:00 in UTC+8 is still Sunday in UTC: the local day decides
    start = instant(datetime(2030, 1, 7, 1), 8)
    rule = Rule(start_time=start, repeat_type=C.REPEAT_WEEKLY, days_of_week=(1,))
    assert [local(t, 8).isoweekday() for t in occurrences(rule, start, start + 30 * DAY)] == [1] * 5


def test_monthly_skips_missing_days() -> None:
    start = instant(datetime(2030, 1, 31, 10), -5)
    rule = Rule(start_time=start, repeat_type=C.REPEAT_MONTHLY, tz_hours=-5)
    months = [local(t, -5).month for t in occurrences(rule, start, start + 365 * DAY)]
    assert months == [1, 3, 5, 7, 8, 10, 12]


def test_yearly_on_29_february() -> None:
    start = instant(datetime(2028, 2, 29, 8), 0)
    rule = Rule(start_time=start, repeat_type=C.REPEAT_YEARLY, tz_hours=0)
    years = [local(t, 0).year for t in occurrences(rule, start, start + 9 * 366 * DAY)]
    assert years == [2028, 2032, 2036]


def test_workdays_and_exclusions() -> None:
    start = instant(datetime(2030, 1, 4, 9), 8)  # a Friday
    skipped = instant(datetime(2030, 1, 8, 9), 8)
    rule = Rule(start_time=start, repeat_type=C.REPEAT_WORKDAYS, excluded=frozenset({skipped}))
    got = [local(t, 8).day for t in occurrences(rule, start, start + 7 * DAY)]
    assert got == [4, 7, 9, 10]
    assert not is_occurrence(rule, skipped) and is_occurrence(rule, start + 3 * DAY)


def test_start_is_always_the_first_occurrence() -> None:
    start = instant(datetime(2030, 1, 6, 9), 8)  # a Sunday, outside the day list
    rule = Rule(start_time=start, repeat_type=C.REPEAT_WEEKLY, days_of_week=(2,))
    got = [local(t, 8).day for t in occurrences(rule, start, start + 10 * DAY)]
    assert got == [6, 8, 15]


def test_far_window_of_a_forever_series() -> None:
    start = utc(2000, 1, 1, 0)
    rule = Rule(start_time=start, repeat_type=C.REPEAT_DAILY, tz_hours=0)
    far = utc(2090, 6, 1)
    assert occurrences(rule, far, far + 2 * DAY) == [far, far + DAY]
    assert last_before(rule, far) == far - DAY


def test_rule_of_reads_stored_schedules() -> None:
    stored = {"start_time": 100, "reminders": {
        "is_repeat": 1, "repeat_type": 1, "is_custom_repeat": 0, "repeat_interval": 5,
        "repeat_day_of_week": [3], "timezone": -3, "repeat_until": 0,
        "exclude_time_list": [{"start_time": 100 + 7 * DAY}]}}
    rule = rule_of(stored)
    # without is_custom_repeat the interval and day lists do not apply
    assert rule == Rule(start_time=100, repeat_type=1, interval=1, tz_hours=-3,
                        excluded=frozenset({100 + 7 * DAY}))
    assert rule_of({"start_time": 1, "reminders": {"is_repeat": 0}}) is None


def test_local_day_start() -> None:
    t = instant(datetime(2030, 5, 5, 23, 30), 8)
    assert local(local_day_start(t, 8), 8) == datetime(2030, 5, 5)
    t = instant(datetime(2030, 5, 5, 0, 30), -12)
    assert local(local_day_start(t, -12), -12) == datetime(2030, 5, 5)


FREQ = {C.REPEAT_DAILY: rrule.DAILY, C.REPEAT_WEEKLY: rrule.WEEKLY,
        C.REPEAT_MONTHLY: rrule.MONTHLY, C.REPEAT_YEARLY: rrule.YEARLY,
        C.REPEAT_WORKDAYS: rrule.WEEKLY}


@st.composite
def series(draw: st.DrawFn) -> tuple[Rule, rrule.rrule, int]:
    tz = draw(st.integers(C.TIMEZONE_MIN, C.TIMEZONE_MAX))
    start_local = draw(st.datetimes(datetime(2020, 1, 1), datetime(2035, 12, 31))).replace(
        second=0, microsecond=0)
    kind = draw(st.sampled_from(sorted(C.REPEAT_TYPES)))
    custom = draw(st.booleans())
    interval = draw(st.integers(1, 4)) if custom else 1
    days_of_week: tuple[int, ...] = ()
    days_of_month: tuple[int, ...] = ()
    options: dict[str, object] = {}
    if kind == C.REPEAT_WORKDAYS:
        options["byweekday"] = [0, 1, 2, 3, 4]
    elif kind == C.REPEAT_WEEKLY and custom:
        extra = draw(st.sets(st.integers(1, 7), max_size=6))
        days_of_week = tuple(sorted(extra | {start_local.isoweekday()}))
        options["byweekday"] = [d - 1 for d in days_of_week]
    elif kind == C.REPEAT_MONTHLY and custom:
        extra = draw(st.sets(st.integers(1, 31), max_size=5))
        days_of_month = tuple(sorted(extra | {start_local.day}))
        options["bymonthday"] = list(days_of_month)
    start = instant(start_local, tz)
    until = draw(st.one_of(st.just(0), st.integers(0, 900 * DAY).map(lambda d: start + d)))
    if until:
        options["until"] = local(until, tz)
    rule = Rule(start_time=start, repeat_type=kind, interval=interval,
                days_of_week=days_of_week, days_of_month=days_of_month, until=until, tz_hours=tz)
    reference = rrule.rrule(FREQ[kind], dtstart=start_local, interval=interval,
                            wkst=rrule.MO, cache=False, **options)  # type: ignore[arg-type]
    return rule, reference, tz


@settings(max_examples=150, deadline=None)
@given(series(), st.integers(-30, 700), st.integers(1, 400), st.data())
def test_matches_dateutil_rrule(case: tuple[Rule, rrule.rrule, int], offset_days: int,
                                length_days: int, data: st.DataObject) -> None:
    rule, reference, tz = case
    window_start = rule.start_time + offset_days * DAY
    window_end = window_start + length_days * DAY
    expected = {instant(dt, tz) for dt in reference.between(
        local(window_start, tz), local(window_end, tz), inc=True)}
    if window_start <= rule.start_time < window_end:
        expected.add(rule.start_time)
    expected = {t for t in expected if window_start <= t < window_end}
    assert occurrences(rule, window_start, window_end) == sorted(expected)
    if expected:
        gone = data.draw(st.sets(st.sampled_from(sorted(expected))))
        excluded = Rule(**{**rule.__dict__, "excluded": frozenset(gone)})
        assert occurrences(excluded, window_start, window_end) == sorted(expected - gone)
