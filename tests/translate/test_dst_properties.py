"""Local times in daylight-saving gaps and folds, drawn on purpose (2,000 examples each).

RFC 5545 (3.3.5, 3.8.5.3): a local time that does not exist (a gap) is read
with the UTC offset from before the gap, one that exists twice (a fold) is
the first of the two -- for DTSTART, DTEND, EXDATE, UNTIL and every instance
a rule computes. The reference (tests/translate/rfc_times.py) reads them from
instants only. Whatever the translator does with a rule in a daylight-saving
zone (a WeCom series when exact, else single schedules in the window), the
instants sent are the RFC 5545 ones; and any instant WeCom holds (the second
pass through a fold included) is written to the file so that it reads back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule as du
from hypothesis import given
from hypothesis import strategies as st

from tests.translate import wecom_expand
from tests.translate.conftest import PROPERTIES
from tests.translate.helpers import item, single_draft, vevent
from tests.translate.rfc_times import DST_ZONES, dst_wall, rfc_instant, shifts
from wesync.config import Fallback
from wesync.translate.canonical import MASTER, ProblemKind
from wesync.translate.ics import parse_item, serialize
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import schedule_from_draft
from wesync.translate.to_ical import schedules_to_item
from wesync.translate.to_wecom import translate_event

DAY = 86400
RULES = (
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;BYDAY=SA,SU",
    "FREQ=MONTHLY",
    "FREQ=YEARLY",
    "FREQ=HOURLY;INTERVAL=7",
    "FREQ=MINUTELY;INTERVAL=45",
)


@dataclass(frozen=True)
class DstCase:
    zone: str
    start: datetime  #: DTSTART's wall time (naive)
    minutes: int  #: DTEND = DTSTART + this on the wall clock
    rule: str
    end: str  #: "" | "COUNT" | "UNTIL" (UTC) | "LOCAL" (UNTIL as a local wall time)
    count: int
    until_wall: datetime
    exdate_picks: tuple[tuple[int, str], ...]  #: (instance index, how it is written)
    window: int
    now_days: int  #: NOW = DTSTART + this many days

    def walls(self) -> list[datetime]:
        """The rule's instances as wall times, before UNTIL (dateutil, naive)."""
        text = self.rule + (f";COUNT={self.count}" if self.end == "COUNT" else "")
        rule = du.rrulestr(text, dtstart=self.start)
        out = []
        stop = self.start + timedelta(days=self.now_days + self.window + 4)
        for wall in rule:  # type: ignore[attr-defined]
            if wall > stop:
                break
            out.append(wall)
        return out

    def until(self) -> int | None:
        if self.end in ("UNTIL", "LOCAL"):
            return rfc_instant(self.until_wall, self.zone)
        return None

    def instants(self) -> list[int]:
        """RFC 5545: DTSTART (always the first occurrence, even past UNTIL) and
        every instance up to UNTIL, each read in the zone."""
        until = self.until()
        found = {rfc_instant(w, self.zone) for w in self.walls()}
        found = {t for t in found if until is None or t <= until}
        return sorted(found | {rfc_instant(self.start, self.zone)})

    def duration(self) -> int:
        end = rfc_instant(self.start + timedelta(minutes=self.minutes), self.zone)
        return max(0, end - rfc_instant(self.start, self.zone))

    def exdates(self) -> list[str]:
        """EXDATE lines naming some instances: as the rule's wall time, as the
        wall time the instant shows, or in UTC. All name the same instants."""
        walls = self.walls()
        z = ZoneInfo(self.zone)
        lines = []
        for index, how in self.exdate_picks:
            if index >= len(walls):
                continue
            wall = walls[index]
            t = rfc_instant(wall, self.zone)
            if how == "utc":
                lines.append(f"EXDATE:{datetime.fromtimestamp(t, UTC):%Y%m%dT%H%M%SZ}")
            else:
                shown = wall if how == "rule" else datetime.fromtimestamp(t, z).replace(tzinfo=None)
                lines.append(f"EXDATE;TZID={self.zone}:{shown:%Y%m%dT%H%M%S}")
        return lines

    def excluded(self) -> set[int]:
        walls = self.walls()
        return {rfc_instant(walls[i], self.zone) for i, _ in self.exdate_picks if i < len(walls)}

    def ics_lines(self) -> list[str]:
        end = self.start + timedelta(minutes=self.minutes)
        rule = self.rule
        if self.end == "COUNT":
            rule += f";COUNT={self.count}"
        elif self.end == "UNTIL":
            until = self.until()
            assert until is not None
            rule += f";UNTIL={datetime.fromtimestamp(until, UTC):%Y%m%dT%H%M%SZ}"
        elif self.end == "LOCAL":
            rule += f";UNTIL={self.until_wall:%Y%m%dT%H%M%S}"
        return [
            "SUMMARY:dst",
            f"DTSTART;TZID={self.zone}:{self.start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID={self.zone}:{end:%Y%m%dT%H%M%S}",
            f"RRULE:{rule}",
            *self.exdates(),
        ]


@st.composite
def dst_cases(draw: st.DrawFn) -> DstCase:
    zone = draw(st.sampled_from(DST_ZONES))
    start = draw(dst_wall(zone))
    rule = draw(st.sampled_from(RULES))
    until_wall = draw(dst_wall(zone))
    if until_wall < start:
        until_wall = start + (start - until_wall)
    picks = draw(
        st.lists(
            st.tuples(st.integers(0, 40), st.sampled_from(("rule", "shown", "utc"))), max_size=4
        )
    )
    return DstCase(
        zone=zone,
        start=start,
        minutes=draw(st.sampled_from((0, 15, 30, 45, 60, 90, 120))),
        rule=rule,
        end=draw(st.sampled_from(("", "COUNT", "UNTIL", "LOCAL"))),
        count=draw(st.integers(1, 40)),
        until_wall=until_wall,
        exdate_picks=tuple(picks),
        window=draw(st.integers(5, 60)),
        now_days=draw(st.integers(-3, 30)),
    )


@PROPERTIES
@given(dst_cases())
def test_rules_in_daylight_saving_zones_send_the_rfc5545_instants(case: DstCase) -> None:
    start = rfc_instant(case.start, case.zone)
    now = start + case.now_days * DAY
    options = TranslateOptions(fallback=Fallback.EXPAND, expand_window_days=case.window)
    tr = translate_event(item(vevent(*case.ics_lines())), options=options, now=now)
    assert not tr.skipped, tr.problems
    excluded = case.excluded()
    rfc = [t for t in case.instants() if t not in excluded]
    duration = case.duration()
    assert all(d.end_time - d.start_time == duration for d in tr.slots.values())
    if tr.expanded:
        lo, hi = now - DAY, now + case.window * DAY
        want = [t for t in rfc if lo <= t <= hi]
        got = sorted(d.start_time for d in tr.slots.values())
        assert got == want[: options.expand_cap]
        kinds = {p.kind for p in tr.problems}
        assert (ProblemKind.EXPANSION_CAPPED in kinds) == (len(want) > options.expand_cap)
        return
    # an exact WeCom series (a short one that never meets a shift), plus an
    # off-rule DTSTART's single schedule
    master = tr.slots[MASTER]
    assert master.recurrence is not None
    schedule = schedule_from_draft(master, cal_id="cal")
    horizon = rfc[-1] if rfc else start
    series = wecom_expand.expand(schedule, until=horizon)
    singles = [d.start_time for k, d in tr.slots.items() if k != MASTER]
    got = sorted({*series, *singles} - set(master.recurrence.exclude_times))
    assert got == rfc


# --- the other way: instants WeCom holds, written into the event's own zone ----


@st.composite
def instants_near_shifts(draw: st.DrawFn) -> tuple[str, int, int, datetime]:
    zone = draw(st.sampled_from(DST_ZONES))
    shift = draw(st.sampled_from(shifts(zone, 2024, 2027)))
    start = shift.at + 900 * draw(st.integers(-16, 16))
    end = start + 900 * draw(st.integers(0, 16))
    old = draw(dst_wall(zone))
    return zone, start, end, old


@PROPERTIES
@given(instants_near_shifts())
def test_instants_in_folds_and_gaps_are_written_so_that_they_read_back(
    case: tuple[str, int, int, datetime],
) -> None:
    zone, start, end, old = case
    existing = item(
        vevent(
            "SUMMARY:moved",
            f"DTSTART;TZID={zone}:{old:%Y%m%dT%H%M%S}",
            f"DTEND;TZID={zone}:{old + timedelta(hours=1):%Y%m%dT%H%M%S}",
        )
    )
    options = TranslateOptions()
    draft = translate_event(existing, options=options, now=start).slots[MASTER]
    moved = single_draft(start, end, summary="moved")
    assert draft.recurrence is None
    slots = {MASTER: schedule_from_draft(moved, cal_id="cal")}
    written = schedules_to_item("ev-1", slots, options=options, existing=existing, now=start)
    again = translate_event(parse_item(serialize(written), where="b.ics"), options=options, now=0)
    got = again.slots[MASTER]
    assert (got.start_time, got.end_time) == (start, end)
    # the TZID stays wherever a wall time of the zone names the instant
    text = serialize(written).decode()
    local = datetime.fromtimestamp(start, ZoneInfo(zone))
    if rfc_instant(local.replace(tzinfo=None), zone) == start:
        assert f"DTSTART;TZID={zone}:" in text  # (unchanged when it was the same instant)
    else:
        assert f"DTSTART:{datetime.fromtimestamp(start, UTC):%Y%m%dT%H%M%SZ}" in text


def test_the_drawn_walls_are_in_gaps_and_folds() -> None:
    """The strategy's point: most DTSTARTs are times the zone skips or repeats."""
    for zone in DST_ZONES:
        for shift in shifts(zone, 2024, 2027):
            first, last = shift.walls()
            t = first
            while t < last:
                named = rfc_instant(t, zone)
                shown = datetime.fromtimestamp(named, ZoneInfo(zone)).replace(tzinfo=None)
                if shift.gap:
                    assert shown == t + timedelta(seconds=shift.after - shift.before)
                else:
                    assert shown == t and named == int(t.replace(tzinfo=UTC).timestamp()) - max(
                        shift.before, shift.after
                    )
                t += timedelta(minutes=15)
    assert date(2025, 3, 30) in {s.walls()[0].date() for s in shifts("Europe/Berlin")}
