"""Build a realistic, deterministic calendar of N events for benchmarks.

    python -m bench.generate --events 10000 --out DIR [--seed 1] [--single-file]

The mix follows what an IT team's calendars hold: one-off meetings (timed
and all-day), daily/weekly/monthly/yearly series (weekly ones with BYDAY,
some workday-only), some ending by COUNT or UNTIL, some with EXDATEs, some
with moved or renamed occurrences (RECURRENCE-ID overrides in the same
file), a few workday series starting on a weekend (DTSTART off the rule; the
rest start on a weekday), reminders, attendees (mailto:userN@example.com),
Chinese and English text, Asia/Shanghai and UTC times. The same seed always
gives the same bytes.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from dateutil.rrule import rrulestr

DTSTAMP = "20260101T000000Z"
BASE = datetime(2026, 1, 5, 9, 0)  # a Monday
SHANGHAI_VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    "TZID:Asia/Shanghai",
    "BEGIN:STANDARD",
    "DTSTART:19700101T000000",
    "TZOFFSETFROM:+0800",
    "TZOFFSETTO:+0800",
    "TZNAME:CST",
    "END:STANDARD",
    "END:VTIMEZONE",
)
TOPICS = (
    "周会",
    "项目评审",
    "Standup",
    "1:1",
    "Sprint planning",
    "客户拜访",
    "Budget review",
    "培训: 信息安全",
    "Design sync, phase 2",
    "Release; go/no-go",
    "部门例会",
    "Interview",
)
PLACES = ("会议室 A", "Room 3.14", "腾讯会议", "Shenzhen HQ, 5F", "Online")
TRIGGERS = ("-PT5M", "-PT15M", "-PT30M", "-PT1H", "-P1D")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
KINDS = (
    ("single", 40),
    ("allday", 10),
    ("daily", 8),
    ("weekly", 15),
    ("workdays", 5),
    ("monthly", 8),
    ("yearly", 4),
    ("series_with_overrides", 10),
)

#: workday series that start on a weekend keep that start (DTSTART off the rule,
#: which RFC 5545 still counts) with this probability; the rest start on Monday
OFF_RULE_SHARE = 0.1


@dataclass(frozen=True)
class Event:
    uid: str
    text: str  #: a complete VCALENDAR


def escape_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    limit = 75
    while raw:
        cut = min(limit, len(raw))
        while cut < len(raw) and (raw[cut] & 0xC0) == 0x80:
            cut -= 1
        parts.append(raw[:cut].decode())
        raw = raw[cut:]
        limit = 74  # continuation lines start with a space
    return "\r\n ".join(parts)


def stamp(moment: datetime, utc: bool) -> tuple[str, str]:
    """(parameter, value) for a DATE-TIME in Asia/Shanghai or in UTC."""
    if utc:
        return "", (moment - timedelta(hours=8)).strftime("%Y%m%dT%H%M%SZ")
    return ";TZID=Asia/Shanghai", moment.strftime("%Y%m%dT%H%M%S")


class Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def people(self) -> list[str]:
        count = self.rng.choice((0, 0, 1, 2, 3, 5, 8))
        chosen = self.rng.sample(range(1, 2001), count)
        lines = []
        if chosen:
            lines.append("ORGANIZER;CN=User 1:mailto:user1@example.com")
        for n in chosen:
            status = self.rng.choice(("NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE"))
            params = f"CN=User {n};ROLE=REQ-PARTICIPANT;PARTSTAT={status}"
            lines.append(f"ATTENDEE;{params}:mailto:user{n}@example.com")
        return lines

    def alarms(self) -> list[str]:
        if self.rng.random() >= 0.6:
            return []
        trigger = self.rng.choice(TRIGGERS)
        return [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "DESCRIPTION:Reminder",
            f"TRIGGER:{trigger}",
            "END:VALARM",
        ]

    def details(self, i: int) -> list[str]:
        lines = [f"SUMMARY:{escape_text(self.rng.choice(TOPICS))} #{i}"]
        if self.rng.random() < 0.5:
            lines.append(f"LOCATION:{escape_text(self.rng.choice(PLACES))}")
        if self.rng.random() < 0.4:
            words = self.rng.randint(5, 60)
            body = " ".join(
                self.rng.choice(("议程", "agenda", "notes", "跟进", "action items"))
                for _ in range(words)
            )
            lines.append(f"DESCRIPTION:{escape_text(body)}")
        return lines

    def rule(self, kind: str, start: datetime, utc: bool) -> tuple[str, str]:
        """The RRULE as written, and the same rule in naive local time for expanding it."""
        rng = self.rng
        if kind == "daily":
            rule = f"FREQ=DAILY;INTERVAL={rng.choice((1, 1, 2, 3))}"
        elif kind in {"weekly", "series_with_overrides"}:
            days = {start.weekday(), *rng.sample(range(7), rng.choice((1, 1, 2, 3)))}
            byday = ",".join(WEEKDAYS[d] for d in sorted(days))
            rule = f"FREQ=WEEKLY;INTERVAL={rng.choice((1, 1, 2))};BYDAY={byday}"
        elif kind == "workdays":
            rule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
        elif kind == "monthly":
            rule = f"FREQ=MONTHLY;BYMONTHDAY={start.day}"
        else:
            rule = "FREQ=YEARLY"
        end = rng.random()
        if end < 0.3:
            rule += f";COUNT={rng.randint(3, 60)}"
        elif end < 0.6:
            until = start + timedelta(days=rng.randint(30, 400))
            # RFC 5545: UNTIL is UTC when DTSTART has a zone or is UTC.
            written = f"{rule};UNTIL={stamp(until, True)[1]}"
            return written, f"{rule};UNTIL={until:%Y%m%dT%H%M%S}"
        return rule, rule

    def event(self, i: int) -> Event:
        rng = self.rng
        uid = f"bench-{i:06d}@wesync.example"
        kind = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
        start = BASE.replace(hour=rng.choice((8, 9, 10, 14, 16))) + timedelta(
            days=rng.randint(-180, 365), minutes=rng.choice((0, 0, 30))
        )
        if kind == "workdays" and start.weekday() >= 5 and rng.random() >= OFF_RULE_SHARE:
            # nobody starts a standup on a Saturday: the next Monday, but for a few
            start += timedelta(days=7 - start.weekday())
        utc = rng.random() < 0.3
        length = timedelta(minutes=rng.choice((30, 60, 60, 90, 120)))
        common = [f"UID:{uid}", f"DTSTAMP:{DTSTAMP}"]
        components: list[list[str]] = []
        if kind == "allday":
            day = start.date()
            span = rng.choice((1, 1, 1, 2, 3))
            components.append(
                [
                    "BEGIN:VEVENT",
                    *common,
                    f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                    f"DTEND;VALUE=DATE:{day + timedelta(days=span):%Y%m%d}",
                    *self.details(i),
                    "TRANSP:TRANSPARENT",
                    *self.alarms(),
                    "END:VEVENT",
                ]
            )
        else:
            param, dtstart = stamp(start, utc)
            _, dtend = stamp(start + length, utc)
            master = ["BEGIN:VEVENT", *common, f"DTSTART{param}:{dtstart}", f"DTEND{param}:{dtend}"]
            occurrences: list[datetime] = []
            if kind != "single":
                rule, local_rule = self.rule(kind, start, utc)
                master.append(f"RRULE:{rule}")
                occurrences = self.occurrences(local_rule, start)
                if len(occurrences) > 3 and rng.random() < 0.3:
                    skipped = rng.sample(occurrences[1:], rng.randint(1, 3))
                    values = ",".join(stamp(o, utc)[1] for o in sorted(skipped))
                    master.append(f"EXDATE{param}:{values}")
                    occurrences = [o for o in occurrences if o not in skipped]
            master += [*self.details(i), *self.people(), *self.alarms(), "END:VEVENT"]
            components.append(master)
            if kind == "series_with_overrides" and len(occurrences) > 2:
                for moved in rng.sample(
                    occurrences[1:], min(len(occurrences) - 1, rng.randint(1, 2))
                ):
                    new_start = moved + timedelta(hours=rng.choice((1, 2, -1)))
                    components.append(
                        [
                            "BEGIN:VEVENT",
                            *common,
                            f"RECURRENCE-ID{param}:{stamp(moved, utc)[1]}",
                            f"DTSTART{param}:{stamp(new_start, utc)[1]}",
                            f"DTEND{param}:{stamp(new_start + length, utc)[1]}",
                            f"SUMMARY:{escape_text(rng.choice(TOPICS))} (moved) #{i}",
                            "END:VEVENT",
                        ]
                    )
        needs_zone = any(";TZID=Asia/Shanghai" in line for comp in components for line in comp)
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//wesync//bench generator//EN"]
        if needs_zone:
            lines += SHANGHAI_VTIMEZONE
        for comp in components:
            lines += comp
        lines.append("END:VCALENDAR")
        return Event(uid, "".join(fold(line) + "\r\n" for line in lines))

    @staticmethod
    def occurrences(rule: str, start: datetime) -> list[datetime]:
        """Up to 60 real occurrences, so EXDATEs and overrides hit actual instances."""
        found: list[datetime] = []
        for moment in rrulestr(rule, dtstart=start):
            found.append(moment)
            if len(found) >= 60:
                break
        return found


def generate(events: int, seed: int = 1) -> Iterator[Event]:
    builder = Builder(seed)
    for i in range(events):
        yield builder.event(i)


def write_vdir(out: Path, events: int, seed: int = 1) -> int:
    """Write one .ics per event into `out` (created if needed); returns bytes written."""
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for event in generate(events, seed):
        data = event.text.encode()
        (out / f"{event.uid}.ics").write_bytes(data)
        total += len(data)
    return total


def write_single_file(out: Path, events: int, seed: int = 1) -> int:
    """Write every event into one .ics file (one VTIMEZONE, all VEVENTs); returns its size."""
    head = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//wesync//bench generator//EN",
        *SHANGHAI_VTIMEZONE,
    ]
    parts = ["".join(line + "\r\n" for line in head)]
    for event in generate(events, seed):
        body = (
            event.text.split("END:VTIMEZONE\r\n", 1)[-1]
            if "BEGIN:VTIMEZONE" in event.text
            else event.text
        )
        start = body.index("BEGIN:VEVENT")
        end = body.rindex("END:VCALENDAR")
        parts.append(body[start:end])
    parts.append("END:VCALENDAR\r\n")
    data = "".join(parts).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return len(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True, help="folder (vdir) or .ics file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--single-file", action="store_true", help="write one .ics file at --out")
    args = parser.parse_args(argv)
    if args.single_file:
        size = write_single_file(args.out, args.events, args.seed)
        print(f"wrote {args.events} events into {args.out} ({size / 1e6:.1f} MB)")
    else:
        size = write_vdir(args.out, args.events, args.seed)
        print(f"wrote {args.events} files into {args.out} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
