"""Properties of the recurrence mapping, each over 2,000 generated events.

Representable rules: WeCom's series (expanded by an independent reader of
its fields) has exactly the RRULE set's instants (dateutil, with EXDATEs)
over three years, and event -> schedule -> event -> schedule is a fixed point.
Some DTSTARTs are off their own rule (a BYDAY or BYMONTHDAY that leaves out
DTSTART's day): RFC 5545 counts DTSTART anyway, and it is sent as a single
schedule (slot "S:<t>") beside a series that starts at the rule's first instance.
Rules WeCom cannot express are never claimed exact, and `expand` sends
exactly the occurrences inside the window; a third of their DTSTARTs in
daylight-saving zones are drawn in a gap or fold (or a few days or weeks
before one), read by the RFC 5545 reference in rfc_times.py (see also
test_dst_properties.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule as du
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.translate import wecom_expand
from tests.translate.conftest import PROPERTIES
from tests.translate.helpers import item, vevent
from tests.translate.rfc_times import DST_ZONES, dst_wall, rfc_epoch, rfc_instant
from wesync.config import Fallback
from wesync.translate.canonical import MASTER, ProblemKind, group_digest
from wesync.translate.ics import parse_item, serialize
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import draft_from_schedule, schedule_from_draft
from wesync.translate.to_ical import schedules_to_item
from wesync.translate.to_wecom import translate_event

NOW = 1767225600  # 2026-01-01T00:00:00Z
THREE_YEARS = 3 * 366 * 86400
#: zones with one whole-hour UTC offset for decades
WHOLE_HOUR_ZONES = (
    "Asia/Shanghai",
    "UTC",
    "Asia/Tokyo",
    "Asia/Dubai",
    "America/Bogota",
    "Etc/GMT+3",
)
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FREQS = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY, "YEARLY": du.YEARLY}


@dataclass(frozen=True)
class Case:
    zone: str | None  #: None = all-day
    start: datetime  #: wall clock (naive)
    freq: str
    interval: int
    byday: tuple[int, ...]
    bymonthday: tuple[int, ...]
    end: str  #: "" | "COUNT=n" | "UNTIL"
    count: int
    until_days: int
    exdate_picks: tuple[int, ...]

    def dtstart(self) -> datetime:
        if self.zone is None:
            return self.start.replace(hour=0, minute=0)
        return self.start.replace(tzinfo=ZoneInfo(self.zone))

    def rrule_text(self) -> str:
        parts = [f"FREQ={self.freq}"]
        if self.interval > 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.byday:
            parts.append("BYDAY=" + ",".join(DAYS[d] for d in self.byday))
        if self.bymonthday:
            parts.append("BYMONTHDAY=" + ",".join(map(str, self.bymonthday)))
        if self.end == "COUNT":
            parts.append(f"COUNT={self.count}")
        elif self.end == "UNTIL":
            parts.append("UNTIL=" + self.until_text())
        if self.freq == "WEEKLY" and self.interval > 1:
            parts.append("WKST=MO")
        return ";".join(parts)

    def until_value(self) -> datetime:
        last = self.dtstart() + timedelta(days=self.until_days)
        if self.zone is None:
            return last.replace(hour=23, minute=59, second=59)
        return last.astimezone(UTC)

    def until_text(self) -> str:
        if self.zone is None:
            return (self.start.date() + timedelta(days=self.until_days)).strftime("%Y%m%d")
        return self.until_value().strftime("%Y%m%dT%H%M%SZ")

    def dateutil_rule(self) -> du.rrule:
        kwargs: dict[str, object] = {"dtstart": self.aware_start(), "interval": self.interval}
        if self.byday:
            kwargs["byweekday"] = list(self.byday)
        if self.bymonthday:
            kwargs["bymonthday"] = list(self.bymonthday)
        if self.end == "COUNT":
            kwargs["count"] = self.count
        elif self.end == "UNTIL":
            u = self.until_value()
            kwargs["until"] = u if self.zone else u.replace(tzinfo=self.aware_start().tzinfo)
        return du.rrule(FREQS[self.freq], wkst=du.MO, **kwargs)  # type: ignore[arg-type]

    def off_rule(self) -> bool:
        """Whether DTSTART is not an instance of its own rule."""
        return (bool(self.byday) and self.start.weekday() not in self.byday) or (
            bool(self.bymonthday) and self.start.day not in self.bymonthday
        )

    def aware_start(self) -> datetime:
        if self.zone is None:
            return self.dtstart().replace(tzinfo=ZoneInfo("Etc/GMT-8"))
        return self.dtstart()

    def ics(self, exdates: list[datetime]) -> bytes:
        if self.zone is None:
            start = f"DTSTART;VALUE=DATE:{self.start:%Y%m%d}"
            end = f"DTEND;VALUE=DATE:{self.start + timedelta(days=1):%Y%m%d}"
            ex = ",".join(f"{d:%Y%m%d}" for d in exdates)
            exline = f"EXDATE;VALUE=DATE:{ex}"
        else:
            tz = f"TZID={self.zone}" if self.zone != "UTC" else ""
            sep = ";" if tz else ""
            z = "" if tz else "Z"
            start = f"DTSTART{sep}{tz}:{self.start:%Y%m%dT%H%M%S}{z}"
            end = f"DTEND{sep}{tz}:{self.start + timedelta(minutes=45):%Y%m%dT%H%M%S}{z}"
            ex = ",".join(f"{d.replace(tzinfo=None):%Y%m%dT%H%M%S}{z}" for d in exdates)
            exline = f"EXDATE{sep}{tz}:{ex}"
        lines = [f"SUMMARY:case {self.freq}", start, end, f"RRULE:{self.rrule_text()}"]
        if exdates:
            lines.append(exline)
        return item(vevent(*lines, alarms=(":-PT15M",))).calendar.to_ical()


@st.composite
def representable(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from((None, *WHOLE_HOUR_ZONES)))
    day = draw(st.dates(min_value=date(2021, 1, 1), max_value=date(2029, 12, 31)))
    hour = draw(st.integers(0, 23))
    minute = draw(st.sampled_from((0, 15, 30, 45)))
    start = datetime(day.year, day.month, day.day, hour, minute)
    freq = draw(st.sampled_from(tuple(FREQS)))
    interval = draw(st.integers(1, 4))
    byday: tuple[int, ...] = ()
    bymonthday: tuple[int, ...] = ()
    if freq == "WEEKLY" and draw(st.booleans()):
        extra = draw(st.sets(st.integers(0, 6), max_size=6))
        byday = tuple(sorted(extra | {day.weekday()}))
    if freq == "MONTHLY" and draw(st.booleans()):
        extra = draw(st.sets(st.integers(1, 31), max_size=4))
        bymonthday = tuple(sorted(extra | {day.day}))
    end = draw(st.sampled_from(("", "COUNT", "UNTIL")))
    count = draw(st.integers(1, 60))
    until_days = draw(st.integers(0, 900))
    picks = tuple(draw(st.lists(st.integers(0, 40), max_size=4)))
    if (byday or bymonthday) and draw(st.integers(0, 3)) == 0:
        # off the rule: DTSTART's own weekday or day of the month is left out
        if byday:
            others = [d for d in range(7) if d != day.weekday()]
            byday = tuple(sorted(draw(st.sets(st.sampled_from(others), min_size=1, max_size=4))))
        else:
            others = [d for d in range(1, 32) if d != day.day]
            mdays = st.sets(st.sampled_from(others), min_size=1, max_size=4)
            bymonthday = tuple(sorted(draw(mdays)))
    return Case(zone, start, freq, interval, byday, bymonthday, end, count, until_days, picks)


def _rfc_instants(case: Case, until: int) -> list[int]:
    """The RFC 5545 instants: DTSTART first even when the rule leaves it out
    (dateutil does), then the rule's own."""
    out = []
    if case.off_rule():
        out.append(int(case.aware_start().timestamp()))
    for dt in case.dateutil_rule():
        t = int(dt.timestamp())
        if t > until:
            break
        out.append(t)
    return out


@PROPERTIES
@given(representable())
def test_representable_rules_map_exactly(case: Case) -> None:
    start = int(case.aware_start().timestamp())
    horizon = start + THREE_YEARS
    rfc = _rfc_instants(case, horizon)
    assume(not case.off_rule() or len(rfc) > 1)  # the rule itself has an instance
    excluded = sorted({rfc[i] for i in case.exdate_picks if i < len(rfc)})
    ex_values = [datetime.fromtimestamp(t, case.aware_start().tzinfo) for t in excluded]
    parsed = parse_item(case.ics(ex_values), where="case.ics")
    tr = translate_event(parsed, options=TranslateOptions(), now=NOW)
    assert not tr.expanded and not tr.skipped, tr.problems
    draft = tr.slots[MASTER]
    assert draft.recurrence is not None
    schedule = schedule_from_draft(draft, cal_id="cal")
    singles = {k: d for k, d in tr.slots.items() if k != MASTER}
    off = rfc[0] if case.off_rule() else None
    assert set(singles) == ({f"S:{off}"} if off is not None and off not in excluded else set())
    for d in singles.values():
        assert (
            d.recurrence is None and d.end_time - d.start_time == draft.end_time - draft.start_time
        )
    series = [t for t in wecom_expand.expand(schedule, until=horizon) if t not in excluded]
    wecom = sorted([*series, *(d.start_time for d in singles.values())])
    assert wecom == [t for t in rfc if t not in excluded]
    assert draft.recurrence.exclude_times == tuple(t for t in excluded if t != off)
    assert draft_from_schedule(schedule).content_digest() == draft.content_digest()


@PROPERTIES
@given(representable())
def test_event_schedule_event_is_a_fixed_point(case: Case) -> None:
    rfc = _rfc_instants(case, int(case.aware_start().timestamp()) + 400 * 86400)
    assume(not case.off_rule() or len(rfc) > 1)
    excluded = [rfc[i] for i in case.exdate_picks if i < len(rfc)]
    values = [datetime.fromtimestamp(t, case.aware_start().tzinfo) for t in sorted(set(excluded))]
    options = TranslateOptions()
    first = translate_event(parse_item(case.ics(values), where="a.ics"), options=options, now=NOW)
    schedules = {k: schedule_from_draft(d, cal_id="cal") for k, d in first.slots.items()}
    written = schedules_to_item("ev-1", schedules, options=options, existing=None, now=NOW)
    again = translate_event(parse_item(serialize(written), where="b.ics"), options=options, now=NOW)
    assert group_digest(again.slots, with_responses=False) == group_digest(
        first.slots, with_responses=False
    )
    back = {
        k: draft_from_schedule(schedule_from_draft(d, cal_id="cal")) for k, d in again.slots.items()
    }
    assert group_digest(back, with_responses=False) == group_digest(
        first.slots, with_responses=False
    )


# --- rules WeCom cannot express ------------------------------------------------

UNREPRESENTABLE = (
    "FREQ=MONTHLY;BYDAY=2TU",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=MONTHLY;BYMONTHDAY=-1",
    "FREQ=YEARLY;BYMONTH=1,7",
    "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "FREQ=YEARLY;BYYEARDAY=100",
    "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
    "FREQ=HOURLY;INTERVAL=5",
    "FREQ=DAILY;BYHOUR=9,15",
    "FREQ=WEEKLY;BYDAY=MO,WE",  # in a daylight-saving zone
    "FREQ=DAILY",  # in a daylight-saving zone
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU;WKST=SU",  # week starts Sunday
)


@st.composite
def unrepresentable(draw: st.DrawFn) -> tuple[str, str, datetime, tuple[int, ...], int]:
    rule = draw(st.sampled_from(UNREPRESENTABLE))
    if "BYSETPOS" in rule or "BYDAY=2TU" in rule or rule.startswith("FREQ=WEEKLY;BYDAY"):
        zone = draw(st.sampled_from(("Europe/Berlin", "America/New_York")))
    elif rule == "FREQ=DAILY":
        zone = "Europe/Berlin"
    else:
        zone = draw(st.sampled_from(("Asia/Shanghai", "Europe/Berlin", "Asia/Kolkata")))
    if "WKST=SU" in rule:
        zone = "Asia/Shanghai"
    day = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 6, 1)))
    start = datetime(day.year, day.month, day.day, draw(st.integers(0, 23)), 30)
    if zone in DST_ZONES and draw(st.integers(0, 2)) == 0:
        # on purpose: a DTSTART the zone skips (a gap) or shows twice (a fold)
        start = draw(dst_wall(zone))
    picks = tuple(draw(st.lists(st.integers(0, 30), max_size=3)))
    window = draw(st.integers(10, 120))
    return rule, zone, start, picks, window


def _dateutil_instants(rule: str, dtstart: datetime) -> du.rrule:
    return du.rrulestr(rule, dtstart=dtstart)  # type: ignore[return-value]


@PROPERTIES
@given(unrepresentable(), st.sampled_from((Fallback.EXPAND, Fallback.SKIP)))
def test_unrepresentable_rules_are_never_claimed_exact(
    case: tuple[str, str, datetime, tuple[int, ...], int], fallback: Fallback
) -> None:
    rule, zone, start, picks, window = case
    dtstart = start.replace(tzinfo=ZoneInfo(zone))
    lo, hi = NOW - 86400, NOW + window * 86400
    rfc: list[int] = []
    seen: set[int] = set()
    first = rfc_instant(start, zone)  # RFC 5545 3.3.5, not the translator's reading
    for dt in _dateutil_instants(rule, dtstart):
        t = rfc_epoch(dt)  # each instance is read like an explicit DATE-TIME
        if t > hi + 2 * 86400:  # wall-clock order is not quite time order
            break
        if t not in seen:
            seen.add(t)
            rfc.append(t)
    if first not in seen:
        rfc.append(first)
    rfc.sort()
    excluded = {rfc[i] for i in picks if i < len(rfc)}
    ex = ",".join(
        datetime.fromtimestamp(t, UTC).strftime("%Y%m%dT%H%M%SZ") for t in sorted(excluded)
    )
    lines = [
        "SUMMARY:odd rule",
        f"DTSTART;TZID={zone}:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID={zone}:{start + timedelta(hours=1):%Y%m%dT%H%M%S}",
        f"RRULE:{rule}",
    ]
    if ex:
        lines.append(f"EXDATE:{ex}")
    options = TranslateOptions(fallback=fallback, expand_window_days=window)
    tr = translate_event(item(vevent(*lines)), options=options, now=NOW)
    assert MASTER not in tr.slots
    assert all(d.recurrence is None for d in tr.slots.values())
    kinds = {p.kind for p in tr.problems}
    if fallback is Fallback.SKIP:
        assert tr.skipped and not tr.slots and ProblemKind.RECURRENCE_SKIPPED in kinds
        return
    assert tr.expanded and ProblemKind.RECURRENCE_EXPANDED in kinds
    want = [t for t in rfc if lo <= t <= hi and t not in excluded]
    got = sorted(d.start_time for d in tr.slots.values())
    assert got == want[: options.expand_cap]
    assert (ProblemKind.EXPANSION_CAPPED in kinds) == (len(want) > options.expand_cap)
    # DTEND is DTSTART + 1 h on the wall clock: an exact hour, except across a
    # shift (02:30 in a spring gap is 03:30, and so is DTEND's 03:30)
    duration = max(0, rfc_instant(start + timedelta(hours=1), zone) - first)
    assert all(d.end_time - d.start_time == duration for d in tr.slots.values())
