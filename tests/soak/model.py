"""The soak's oracle: what the user means the calendar to hold, in a small model.

An `Entity` is one event as a user thinks of it: a master (a single event or
a daily/weekly series with an UNTIL) plus RECURRENCE-ID overrides and
excluded dates. Every user edit gives the edited part a new, globally unique
summary ("ev12 #345"), so either side can find it by summary alone, whatever
UID or schedule_id the sync gave it.

The model renders itself two ways, written independently of wesync: as
iCalendar text (what a user's editor writes) and as WeCom API bodies (what
another WeCom client sends). Comparison with what the sides hold is by
occurrence: every (summary, description, location, start, end, all-day,
attendees) instance, so a duplicate, a lost event, a wrong rule or a lost
exclusion all show as a difference.

An entity written in Europe/Berlin (`Spec.tz`) is a weekly series at a fixed
wall time across a daylight-saving change: WeCom's fixed offsets cannot hold
it, so wesync expands it into one single schedule per occurrence. Its
occurrences are computed here with zoneinfo (wall time stepped a week at a
time), not with wesync's rule code, and WeCom's single schedules are compared
as those occurrences.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

TZ = "Asia/Shanghai"
#: the zone of the expanded events: daylight saving makes their offset change
BERLIN = "Europe/Berlin"
CST = timezone(timedelta(hours=8))
DAY = 86400
WEEK = 7 * DAY
HOUR = 3600
DOMAIN = "example.com"
USERS = ("zhangsan", "lisi", "wangwu")
#: the compare's end of time: a forever series (the birthdays) is compared up to here
HORIZON = int(datetime(2031, 1, 1, tzinfo=CST).timestamp())
#: WeCom reminder diffs (seconds from the start) -> the VALARM TRIGGER an editor writes
TRIGGERS = {-86400: "-P1D", -172800: "-P2D", -604800: "-P7D", 32400: "PT9H", -900: "-PT15M"}
#: response_status -> PARTSTAT, only the statuses whose mapping is one to one
PARTSTAT = {1: "TENTATIVE", 2: "ACCEPTED", 4: "DECLINED"}

#: an occurrence as both sides and the oracle are compared
Occurrence = tuple[str, str, str, int, int, bool, tuple[str, ...], tuple[int, ...]]


@dataclass
class Rule:
    freq: str  #: DAILY, WEEKLY, or YEARLY (a birthday: forever, `until` unused)
    interval: int
    until: int  #: the last occurrence's start (a DAILY/WEEKLY series is always finite)

    @property
    def step(self) -> int:
        return (DAY if self.freq == "DAILY" else WEEK) * self.interval


@dataclass
class Spec:
    """One VEVENT, or one WeCom schedule."""

    summary: str
    start: int
    duration: int
    all_day: bool = False
    description: str = ""
    location: str = ""
    rule: Rule | None = None
    exdates: set[int] = field(default_factory=set)
    attendees: tuple[str, ...] = ()
    #: userid -> response_status, as answered in WeCom
    responses: dict[str, int] = field(default_factory=dict)
    #: the zone the file writes it in; anything but TZ makes the event expanded
    tz: str = TZ
    #: WeCom's remind_time_diffs (a VALARM each in the file), sorted
    reminders: tuple[int, ...] = ()

    def starts(self) -> list[int]:
        """Every start of the rule, exclusions ignored."""
        if self.rule is None:
            return [self.start]
        if self.rule.freq == "YEARLY":
            # a birthday from before 1970: only what WeCom can hold (its times are
            # unsigned) is compared, from the first occurrence since 1970 to HORIZON
            first = datetime.fromtimestamp(self.start, CST)
            years = (first.replace(year=y) for y in range(1970, 2031))
            return [t for d in years if 0 <= (t := int(d.timestamp())) <= HORIZON]
        if self.tz == TZ:
            return list(range(self.start, self.rule.until + 1, self.rule.step))
        # a fixed wall time: aware datetime arithmetic keeps the wall clock, and
        # each occurrence takes that day's UTC offset
        zone = ZoneInfo(self.tz)
        first = datetime.fromtimestamp(self.start, zone)
        step = timedelta(days=self.rule.step // DAY)
        out: list[int] = []
        while (t := int((first + len(out) * step).timestamp())) <= self.rule.until:
            out.append(t)
        return out


@dataclass
class Entity:
    key: int
    master: Spec
    overrides: dict[int, Spec] = field(default_factory=dict)  #: RECURRENCE-ID -> override
    #: changed on that side since the last sync that completed (ok)
    dirty_local: bool = False
    dirty_remote: bool = False

    @property
    def dirty(self) -> bool:
        return self.dirty_local or self.dirty_remote

    @property
    def birthday(self) -> bool:
        """A yearly all-day event from before 1970."""
        return self.master.rule is not None and self.master.rule.freq == "YEARLY"

    @property
    def expanded(self) -> bool:
        """WeCom holds it as one single schedule per occurrence."""
        return self.master.tz != TZ

    def free_starts(self) -> list[int]:
        """Occurrences neither excluded nor overridden (for new exclusions/overrides)."""
        return [
            t
            for t in self.master.starts()
            if t not in self.master.exdates and t not in self.overrides
        ]

    def occurrences(self) -> list[Occurrence]:
        out: list[Occurrence] = []
        m = self.master
        for t in m.starts():
            if t in m.exdates or t in self.overrides:
                continue
            out.append(occurrence(m, t))
        for o in self.overrides.values():
            out.append(occurrence(o, o.start))
        return out

    def summaries(self) -> list[str]:
        return [self.master.summary, *(o.summary for o in self.overrides.values())]

    def clone(self, key: int) -> Entity:
        twin = copy.deepcopy(self)
        twin.key = key
        return twin


def occurrence(spec: Spec, start: int) -> Occurrence:
    return (
        spec.summary,
        spec.description,
        spec.location,
        start,
        start + spec.duration,
        spec.all_day,
        tuple(sorted(spec.attendees)),
        tuple(sorted(spec.reminders)),
    )


def expected(entities: dict[int, Entity]) -> Counter[Occurrence]:
    return Counter(o for e in entities.values() for o in e.occurrences())


# --- iCalendar, as an editor writes it ----------------------------------------------


def _local(instant: int, tz: str = TZ) -> str:
    zone = CST if tz == TZ else ZoneInfo(tz)
    return datetime.fromtimestamp(instant, zone).strftime("%Y%m%dT%H%M%S")


def _date(instant: int) -> str:
    return datetime.fromtimestamp(instant, CST).strftime("%Y%m%d")


def _utc(instant: int) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _vevent(uid: str, spec: Spec, *, recurrence_id: int | None = None, tz: str = TZ) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261101T000000Z"]
    lines.append(f"SUMMARY:{_escape(spec.summary)}")
    if spec.description:
        lines.append(f"DESCRIPTION:{_escape(spec.description)}")
    if spec.location:
        lines.append(f"LOCATION:{_escape(spec.location)}")
    if spec.all_day:
        lines.append(f"DTSTART;VALUE=DATE:{_date(spec.start)}")
        lines.append(f"DTEND;VALUE=DATE:{_date(spec.start + spec.duration)}")
    else:
        lines.append(f"DTSTART;TZID={tz}:{_local(spec.start, tz)}")
        lines.append(f"DTEND;TZID={tz}:{_local(spec.start + spec.duration, tz)}")
    if recurrence_id is not None:
        lines.append(f"RECURRENCE-ID;TZID={tz}:{_local(recurrence_id, tz)}")
    if spec.rule is not None and spec.rule.freq == "YEARLY":
        lines.append("RRULE:FREQ=YEARLY")
    elif spec.rule is not None:
        r = spec.rule
        lines.append(f"RRULE:FREQ={r.freq};INTERVAL={r.interval};UNTIL={_utc(r.until)}")
    for x in sorted(spec.exdates):
        lines.append(f"EXDATE;TZID={tz}:{_local(x, tz)}")
    for user in spec.attendees:
        status = spec.responses.get(user)
        part = f";PARTSTAT={PARTSTAT[status]}" if status in PARTSTAT else ""
        lines.append(f"ATTENDEE{part}:mailto:{user}@{DOMAIN}")
    for diff in spec.reminders:
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder"]
        lines += [f"TRIGGER:{TRIGGERS[diff]}", "END:VALARM"]
    lines.append("END:VEVENT")
    return lines


def to_ics(uid: str, entity: Entity) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//wesync soak//EN"]
    # one zone for the whole event, as an editor writes it
    tz = entity.master.tz
    lines += _vevent(uid, entity.master, tz=tz)
    for rid, override in sorted(entity.overrides.items()):
        lines += _vevent(uid, override, recurrence_id=rid, tz=tz)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


# --- WeCom API bodies, as another client sends them ------------------------------------


def to_schedule(spec: Spec, *, cal_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": spec.summary,
        "description": spec.description,
        "location": spec.location,
        "start_time": spec.start,
        # the WeCom app ends an all-day event at 23:59:59 of its last day
        "end_time": spec.start + spec.duration - (1 if spec.all_day else 0),
        "is_whole_day": 1 if spec.all_day else 0,
        "attendees": [{"userid": u} for u in spec.attendees],
    }
    if cal_id is not None:
        body["cal_id"] = cal_id
    reminders: dict[str, Any] = {"is_remind": 0, "is_repeat": 0}
    if spec.reminders:
        reminders.update(is_remind=1, remind_time_diffs=list(spec.reminders))
    if spec.rule is not None:
        r = spec.rule
        reminders.update(
            is_repeat=1,
            repeat_type=0 if r.freq == "DAILY" else 1,
            is_custom_repeat=1,
            repeat_interval=r.interval,
            repeat_until=r.until,
            timezone=8,
        )
        if r.freq == "WEEKLY":
            reminders["repeat_day_of_week"] = [datetime.fromtimestamp(spec.start, CST).isoweekday()]
    body["reminders"] = reminders
    return body
