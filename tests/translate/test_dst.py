"""Daylight-saving gaps and folds, read as RFC 5545 (3.3.5) reads them.

Europe/Berlin, 2025: clocks go from 02:00 CET to 03:00 CEST on 30 March (02:30
does not exist: it means 03:30 CEST = 01:30Z) and from 03:00 CEST back to
02:00 CET on 26 October (02:30 happens twice: it means the first, 00:30Z).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.translate import wecom_expand
from tests.translate.helpers import item, single_draft, vevent
from wesync.translate.canonical import MASTER
from wesync.translate.ics import parse_item, serialize
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import schedule_from_draft
from wesync.translate.to_ical import schedules_to_item
from wesync.translate.to_wecom import translate_event

OPTIONS = TranslateOptions()
NOW = 1740787200  # 2025-03-01T00:00:00Z


def z(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp())


#: A VTIMEZONE of the file's own (read by dateutil, which by itself takes the
#: offset after a gap): it must read the same as the IANA zone.
OWN_ZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Berlin (own)\r\n"
    "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
)
ZONES = ("Europe/Berlin", "Berlin (own)")


def translate(*lines: str, now: int = NOW, **options: object):
    ev = item(vevent("SUMMARY:dst", *lines), extra=OWN_ZONE)
    return translate_event(ev, options=TranslateOptions(**options), now=now)  # type: ignore[arg-type]


@pytest.mark.parametrize("tzid", ZONES)
@pytest.mark.parametrize(
    ("start", "end", "want_start", "want_end"),
    [
        # a gap: 02:30 is 03:30 CEST; DTEND 03:30 is the same instant
        ("20250330T023000", "20250330T033000", "2025-03-30 01:30", "2025-03-30 01:30"),
        ("20250330T013000", "20250330T023000", "2025-03-30 00:30", "2025-03-30 01:30"),
        ("20250330T020000", "20250330T040000", "2025-03-30 01:00", "2025-03-30 02:00"),
        # a fold: 02:30 is the first one (CEST); 03:30 is CET
        ("20251026T023000", "20251026T033000", "2025-10-26 00:30", "2025-10-26 02:30"),
        ("20251026T013000", "20251026T023000", "2025-10-25 23:30", "2025-10-26 00:30"),
    ],
)
def test_a_single_event_in_a_gap_or_fold(
    tzid: str, start: str, end: str, want_start: str, want_end: str
) -> None:
    tr = translate(f"DTSTART;TZID={tzid}:{start}", f"DTEND;TZID={tzid}:{end}")
    draft = tr.slots[MASTER]
    assert (draft.start_time, draft.end_time) == (z(want_start), z(want_end))


@pytest.mark.parametrize("tzid", ZONES)
def test_a_duration_in_days_is_on_the_wall_clock_and_may_end_in_a_gap(tzid: str) -> None:
    tr = translate(f"DTSTART;TZID={tzid}:20250329T023000", "DURATION:P1D")
    draft = tr.slots[MASTER]
    assert (draft.start_time, draft.end_time) == (z("2025-03-29 01:30"), z("2025-03-30 01:30"))


@pytest.mark.parametrize("tzid", ZONES)
def test_an_expanded_series_across_both_shifts(tzid: str) -> None:
    tr = translate(
        f"DTSTART;TZID={tzid}:20250329T023000",
        f"DTEND;TZID={tzid}:20250329T033000",
        "RRULE:FREQ=DAILY",
        now=z("2025-03-29 12:00"),
        expand_window_days=2,
    )
    assert tr.expanded
    starts = sorted(d.start_time for d in tr.slots.values())
    assert starts == [z("2025-03-29 01:30"), z("2025-03-30 01:30"), z("2025-03-31 00:30")]
    # the 30 March instance (02:30 is 03:30 CEST) lasts the exact hour between
    # DTSTART and DTEND, like every instance (RFC 5545 3.8.5.3)
    assert {d.end_time - d.start_time for d in tr.slots.values()} == {3600}

    autumn = translate(
        f"DTSTART;TZID={tzid}:20251025T023000",
        f"DTEND;TZID={tzid}:20251025T033000",
        "RRULE:FREQ=DAILY;COUNT=3",
        now=z("2025-10-25 12:00"),
    )
    starts = sorted(d.start_time for d in autumn.slots.values())
    assert starts == [z("2025-10-25 00:30"), z("2025-10-26 00:30"), z("2025-10-27 01:30")]


@pytest.mark.parametrize("tzid", ZONES)
@pytest.mark.parametrize(
    "exdate",
    [
        "EXDATE;TZID={tzid}:20250330T023000",  # as the rule computes it
        "EXDATE;TZID={tzid}:20250330T033000",  # as a clock shows it
        "EXDATE:20250330T013000Z",
    ],
)
def test_an_exdate_on_an_instance_in_the_gap(tzid: str, exdate: str) -> None:
    tr = translate(
        f"DTSTART;TZID={tzid}:20250328T023000",
        f"DTEND;TZID={tzid}:20250328T033000",
        "RRULE:FREQ=DAILY;COUNT=4",
        exdate.format(tzid=tzid),
        now=z("2025-03-27 12:00"),
    )
    starts = sorted(d.start_time for d in tr.slots.values())
    assert starts == [z("2025-03-28 01:30"), z("2025-03-29 01:30"), z("2025-03-31 00:30")]


@pytest.mark.parametrize("tzid", ZONES)
def test_a_local_until_in_the_gap_keeps_the_instance_there(tzid: str) -> None:
    tr = translate(
        f"DTSTART;TZID={tzid}:20250328T023000",
        f"DTEND;TZID={tzid}:20250328T033000",
        "RRULE:FREQ=DAILY;UNTIL=20250330T023000",
        now=z("2025-03-27 12:00"),
    )
    # all three on 01:30Z, which WeCom holds as one series at UTC+1
    master = tr.slots[MASTER]
    assert master.recurrence is not None and master.recurrence.timezone == 1
    starts = wecom_expand.expand(
        schedule_from_draft(master, cal_id="c"), until=z("2026-01-01 00:00")
    )
    assert starts == [z("2025-03-28 01:30"), z("2025-03-29 01:30"), z("2025-03-30 01:30")]


def test_an_hourly_rule_through_the_gap_sends_each_instant_once_in_order() -> None:
    # 01:30 CET, 02:30 (= 03:30 CEST), 03:30 CEST, 04:30 CEST
    tr = translate(
        "DTSTART;TZID=Europe/Berlin:20250330T013000",
        "DTEND;TZID=Europe/Berlin:20250330T014500",
        "RRULE:FREQ=HOURLY;COUNT=4",
        now=z("2025-03-29 12:00"),
    )
    starts = [d.start_time for d in tr.slots.values()]
    assert sorted(starts) == [z("2025-03-30 00:30"), z("2025-03-30 01:30"), z("2025-03-30 02:30")]
    assert len(starts) == len(set(starts))




@pytest.mark.parametrize(
    ("start", "end", "dtstart", "dtend"),
    [
        # the first 02:30 (CEST) has a wall time; the second (CET) has none: UTC
        (
            "2025-10-26 00:30",
            "2025-10-26 01:30",
            "DTSTART;TZID=Europe/Berlin:20251026T023000",
            "DTEND:20251026T013000Z",
        ),
        (
            "2025-10-26 01:30",
            "2025-10-26 02:30",
            "DTSTART:20251026T013000Z",
            "DTEND;TZID=Europe/Berlin:20251026T033000",
        ),
        (
            "2025-03-30 01:00",
            "2025-03-30 01:30",
            "DTSTART;TZID=Europe/Berlin:20250330T030000",
            "DTEND;TZID=Europe/Berlin:20250330T033000",
        ),
    ],
)
def test_written_back_in_the_event_zone_unless_no_wall_time_names_the_instant(
    start: str, end: str, dtstart: str, dtend: str
) -> None:
    existing = item(
        vevent(
            "SUMMARY:dst",
            "DTSTART;TZID=Europe/Berlin:20250101T090000",
            "DTEND;TZID=Europe/Berlin:20250101T100000",
        )
    )
    slots = {MASTER: schedule_from_draft(single_draft(z(start), z(end)), cal_id="c")}
    cal = schedules_to_item("ev-1", slots, options=OPTIONS, existing=existing, now=NOW)
    text = serialize(cal).decode()
    assert dtstart in text and dtend in text
    again = translate_event(parse_item(serialize(cal), where="a.ics"), options=OPTIONS, now=NOW)
    assert (again.slots[MASTER].start_time, again.slots[MASTER].end_time) == (z(start), z(end))


def test_until_bounds_instants_not_wall_clock_order() -> None:
    # 02:00 (= 03:00 CEST), 02:45 (= 03:45 CEST, past UNTIL), 03:30 CEST (before it)
    tr = translate(
        "DTSTART;TZID=Europe/Berlin:20250330T020000",
        "DTEND;TZID=Europe/Berlin:20250330T020000",
        "RRULE:FREQ=MINUTELY;INTERVAL=45;UNTIL=20250330T023000",
        now=z("2025-03-29 12:00"),
    )
    assert sorted(d.start_time for d in tr.slots.values()) == [
        z("2025-03-30 01:00"),
        z("2025-03-30 01:30"),
    ]
