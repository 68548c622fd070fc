"""VALARM <-> remind_time_diffs.

remind_time_diffs are read literally: seconds from the schedule's start_time
(for all-day schedules, from 00:00 of the first day), negative = before.
TRIGGER:-PT15M is -900; an all-day TRIGGER:PT9H (09:00 on the day) is 32400;
-P1D is -86400 (00:00 the day before). A trigger whose offset is not one of
WeCom's values is reported (ALARM_UNSUPPORTED) and never moved to a nearby one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import icalendar

from wesync.translate.canonical import Problem, ProblemKind
from wesync.translate.ics import ical_text
from wesync.translate.zones import epoch
from wesync.wecom.constants import REMIND_TIME_DIFFS, REMIND_TIME_DIFFS_WHOLE_DAY

#: Apple writes a placeholder alarm with this action to mean "none".
_IGNORED_ACTIONS = frozenset({"NONE"})


@dataclass(frozen=True)
class AlarmReading:
    diffs: tuple[int, ...]
    #: the VALARMs whose trigger became a diff (to_ical may replace these)
    mapped: tuple[icalendar.Alarm, ...]
    problems: tuple[Problem, ...]


def allowed(all_day: bool) -> frozenset[int]:
    return REMIND_TIME_DIFFS_WHOLE_DAY if all_day else REMIND_TIME_DIFFS


def _offset(alarm: icalendar.Alarm, start: int, duration: int, recurring: bool) -> int | str:
    """Seconds from the start, or why the trigger cannot be read that way."""
    prop = alarm.get("TRIGGER")
    if prop is None:
        return "VALARM without TRIGGER"
    if isinstance(prop, icalendar.vBroken):
        return f"VALARM TRIGGER:{prop} is not valid"
    value = getattr(prop, "dt", None)
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        related = str(prop.params.get("RELATED", "START")).upper()
        return seconds + duration if related == "END" else seconds
    if isinstance(value, datetime) and value.tzinfo is not None:
        if recurring:
            return f"TRIGGER;VALUE=DATE-TIME:{ical_text(prop)} on a repeating event"
        return epoch(value) - start
    if isinstance(value, date):
        return f"TRIGGER {ical_text(prop)} is not a duration or a UTC time"
    return f"TRIGGER {prop!r} is not valid"


def read_alarms(
    event: icalendar.Event, *, start: int, duration: int, all_day: bool, recurring: bool
) -> AlarmReading:
    ok = allowed(all_day)
    diffs: set[int] = set()
    mapped: list[icalendar.Alarm] = []
    problems: list[Problem] = []
    for alarm in event.subcomponents:
        if not isinstance(alarm, icalendar.Alarm):
            continue
        action = str(alarm.get("ACTION", "DISPLAY")).upper()
        if action in _IGNORED_ACTIONS:
            continue
        offset = _offset(alarm, start, duration, recurring)
        if isinstance(offset, str):
            problems.append(Problem(kind=ProblemKind.ALARM_UNSUPPORTED, message=offset))
        elif offset in ok:
            diffs.add(offset)
            mapped.append(alarm)
        else:
            trig = ical_text(alarm["TRIGGER"])
            kinds = "all-day" if all_day else "timed"
            problems.append(
                Problem(
                    kind=ProblemKind.ALARM_UNSUPPORTED,
                    message=f"VALARM TRIGGER:{trig} ({offset:+d} s from the start) "
                    f"is not a WeCom reminder for {kinds} events "
                    f"(allowed: {', '.join(str(v) for v in sorted(ok))})",
                )
            )
    return AlarmReading(tuple(sorted(diffs)), tuple(mapped), tuple(problems))


def make_alarm(diff: int, *, summary: str) -> icalendar.Alarm:
    alarm = icalendar.Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("DESCRIPTION", summary or "Reminder")
    alarm.add("TRIGGER", timedelta(seconds=diff))
    return alarm
