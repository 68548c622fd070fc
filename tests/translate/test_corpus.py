"""Realistic exports (Google, Exchange, Apple, Thunderbird styles) translate
without a crash, and every loss is reported as a specific Problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from wesync.translate.canonical import MASTER, EventTranslation, ProblemKind
from wesync.translate.ics import build_item, parse_item, serialize, split_calendar
from wesync.translate.options import TranslateOptions
from wesync.translate.to_wecom import translate_event

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ics"
NOW = 1772323200  # 2026-03-01T00:00:00Z
OPTIONS = TranslateOptions(user_domain="example.com")


def translate_file(name: str) -> dict[str, EventTranslation]:
    data = (FIXTURES / name).read_bytes()
    cal, grouped = split_calendar(data, where=name)
    out = {}
    for uid, events in grouped.items():
        item = parse_item(serialize(build_item(cal, events)), where=name)
        out[uid] = translate_event(item, options=OPTIONS, now=NOW)
    return out


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.ics")))
def test_every_fixture_translates(name: str) -> None:
    for tr in translate_file(name).values():
        assert tr.slots or tr.skipped or not tr.problems


def kinds(tr: EventTranslation) -> list[ProblemKind]:
    return [p.kind for p in tr.problems]


def test_google_export() -> None:
    got = translate_file("google_export.ics")
    weekly = got["7kq2c9h1sd8f0g3j5l6n4p2r1t@google.com"]
    assert sorted(weekly.slots) == ["", "R:1772762400"]
    master = weekly.slots[MASTER]
    assert master.recurrence is not None
    assert master.recurrence.repeat_day_of_week == (1, 3, 5)
    # the EXDATE and the moved Friday are both exclusions of the series
    assert master.recurrence.exclude_times == (1772589600, 1772762400)
    assert master.remind_time_diffs == (-900,)  # the EMAIL alarm; -10 min is not allowed
    assert master.admins == ("wang.fang",)
    assert kinds(weekly) == [ProblemKind.ALARM_UNSUPPORTED, ProblemKind.ATTENDEE_UNMAPPED]
    assert "partner@vendor.io" in weekly.problems[1].message
    assert got["0a1b2c3d4e5f@google.com"].slots[MASTER].is_whole_day
    monthly = got["monthly-review@google.com"]
    assert monthly.expanded and kinds(monthly) == [ProblemKind.RECURRENCE_EXPANDED]
    assert "BYDAY=1MO" in monthly.problems[0].message
    assert len(monthly.slots) == 12


def test_outlook_exchange_export() -> None:
    got = translate_file("outlook_exchange.ics")
    review = next(v for k, v in got.items() if k.startswith("0400000082"))
    rec = review.slots[MASTER].recurrence
    assert rec is not None and rec.timezone == 8  # "China Standard Time" -> Asia/Shanghai
    assert (rec.repeat_interval, rec.repeat_day_of_week) == (2, (2, 4))
    assert not review.problems
    berlin = got["exchange-last-workday-berlin"]
    assert berlin.expanded and "BYSETPOS" in berlin.problems[0].message
    assert got["exchange-cancelled"].slots == {} and not got["exchange-cancelled"].skipped
    holiday = got["exchange-allday"]
    assert kinds(holiday) == [ProblemKind.ALARM_UNSUPPORTED]


def test_apple_export() -> None:
    got = translate_file("apple_calendar.ics")
    anniversary = got["5F3C8A1E-2B4D-4C6E-9A8B-7D6E5F4A3B2C"]
    rec = anniversary.slots[MASTER].recurrence
    assert rec is not None and (rec.repeat_type, rec.timezone) == (5, 9)
    assert anniversary.slots[MASTER].remind_time_diffs == (-3600,)  # ACTION:NONE ignored
    assert not anniversary.problems
    workshop = got["A1B2C3D4-0000-4000-8000-ABCDEFABCDEF"]
    assert workshop.expanded and "RDATE" in workshop.problems[0].message
    assert all(d.end_time - d.start_time == 7200 for d in workshop.slots.values())
    assert len(workshop.slots) == 3


def test_apple_skip_fallback() -> None:
    options = TranslateOptions(fallback=OPTIONS.fallback.SKIP)
    data = (FIXTURES / "apple_calendar.ics").read_bytes()
    cal, grouped = split_calendar(data, where="apple")
    uid = "A1B2C3D4-0000-4000-8000-ABCDEFABCDEF"
    item = parse_item(serialize(build_item(cal, grouped[uid])), where="apple")
    tr = translate_event(item, options=options, now=NOW)
    assert tr.skipped and not tr.slots and kinds(tr) == [ProblemKind.RECURRENCE_SKIPPED]


def test_thunderbird_export() -> None:
    got = translate_file("thunderbird.ics")
    standup = got["3e1c9f1a-5d7b-4c2e-8f6a-0b9d8c7e6f5a"].slots[MASTER]
    # 10:00 IST stays on the same day at UTC+5, so the half-hour zone maps exactly
    assert standup.recurrence is not None and standup.recurrence.timezone == 5
    assert standup.remind_time_diffs == (-300,)
    lunch = got["floating-lunch"].slots[MASTER]
    assert lunch.start_time == 1773288000  # 12:00 floating, read in Asia/Shanghai
