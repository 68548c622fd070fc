"""The canonical form: an event as WeCom can hold it, with a stable digest.

Sync compares both sides in this form, so a field WeCom cannot hold never
looks like a change and nothing ping-pongs. One local event (a UID: master
plus RECURRENCE-ID overrides) becomes a set of *slots*, one per WeCom
schedule:

- ``""``            the master (a single event, or a series WeCom can express);
- ``"R:<epoch>"``   a RECURRENCE-ID override, keyed by the original start; one
  that names no occurrence of the series (an extra meeting added to it, one
  before DTSTART or after UNTIL) is a single schedule with no exclusion on the
  series (sync/remote.py adds it instead of splitting it off);
- ``"X:<epoch>"``   one occurrence of a series expanded by the `expand` fallback;
- ``"S:<epoch>"``   the DTSTART of a series whose DTSTART is not an instance of
  its own RRULE (a workday series starting on a Saturday): RFC 5545 counts it,
  and WeCom may not (undocumented), so the series starts at the rule's first
  instance and this single schedule holds the DTSTART occurrence. It is
  written, updated and deleted like any single schedule.

Everything here is pure data: no I/O.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

SlotKey = str
MASTER: SlotKey = ""


def override_slot(recurrence_start: int) -> SlotKey:
    return f"R:{recurrence_start}"


def expanded_slot(occurrence_start: int) -> SlotKey:
    return f"X:{occurrence_start}"


def start_slot(dtstart: int) -> SlotKey:
    return f"S:{dtstart}"


def slot_start(slot: SlotKey) -> int | None:
    """The epoch a slot key carries, or None for the master."""
    return int(slot[2:]) if slot[:2] in ("R:", "X:", "S:") else None


@dataclass(frozen=True, kw_only=True)
class Recurrence:
    """WeCom's recurrence fields, normalised so that equal series compare equal."""

    repeat_type: int  #: 0 daily, 1 weekly, 2 monthly, 5 yearly, 7 workdays
    is_custom_repeat: bool
    repeat_interval: int
    repeat_day_of_week: tuple[int, ...]  #: 1 = Monday .. 7 = Sunday, sorted
    repeat_day_of_month: tuple[int, ...]  #: sorted
    repeat_until: int  #: 0 = forever
    timezone: int  #: whole-hour UTC offset
    exclude_times: tuple[int, ...]  #: sorted start instants of removed occurrences


@dataclass(frozen=True, kw_only=True)
class ScheduleDraft:
    """One WeCom schedule's content, exactly as WeCom would hold it."""

    summary: str
    description: str
    location: str
    start_time: int
    end_time: int
    is_whole_day: bool
    remind_time_diffs: tuple[int, ...]  #: sorted
    attendees: tuple[str, ...]  #: sorted userids
    admins: tuple[str, ...]  #: sorted userids
    recurrence: Recurrence | None = None
    #: userid -> response_status; only WeCom sets these, so they are kept out of
    #: `content_digest` (what a local edit can change) but in `digest`.
    responses: tuple[tuple[str, int], ...] = ()

    def content_digest(self) -> str:
        return _digest(self._fields())

    def digest(self) -> str:
        data = self._fields()
        data["responses"] = self.responses
        return _digest(data)

    def _fields(self) -> dict[str, object]:
        """What `dataclasses.asdict` gives, minus `responses`, built directly: the
        same JSON text, so digests stored by earlier versions stay valid, at a
        fraction of asdict's deep-copying cost (this runs for every slot)."""
        r = self.recurrence
        return {
            "summary": self.summary,
            "description": self.description,
            "location": self.location,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "is_whole_day": self.is_whole_day,
            "remind_time_diffs": self.remind_time_diffs,
            "attendees": self.attendees,
            "admins": self.admins,
            "recurrence": None
            if r is None
            else {
                "repeat_type": r.repeat_type,
                "is_custom_repeat": r.is_custom_repeat,
                "repeat_interval": r.repeat_interval,
                "repeat_day_of_week": r.repeat_day_of_week,
                "repeat_day_of_month": r.repeat_day_of_month,
                "repeat_until": r.repeat_until,
                "timezone": r.timezone,
                "exclude_times": r.exclude_times,
            },
        }


def _digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def group_digest(slots: Mapping[SlotKey, ScheduleDraft], *, with_responses: bool = True) -> str:
    """One digest for a whole event (all its slots)."""
    parts = {
        key: (d.digest() if with_responses else d.content_digest()) for key, d in slots.items()
    }
    return _digest(sorted(parts.items()))


class ProblemKind(enum.Enum):
    """What the translator could not carry over exactly, to report to the user."""

    TRUNCATED = "truncated"  #: text cut to WeCom's limit (WeCom only; the file keeps it)
    ALARM_UNSUPPORTED = "alarm-unsupported"  #: a VALARM trigger WeCom has no value for
    ATTENDEE_UNMAPPED = "attendee-unmapped"  #: no WeCom userid for this attendee
    RECURRENCE_EXPANDED = "recurrence-expanded"  #: rule not expressible; occurrences expanded
    RECURRENCE_SKIPPED = "recurrence-skipped"  #: rule not expressible; event left out
    EXPANSION_CAPPED = "expansion-capped"  #: more occurrences than the per-event cap
    UNSUPPORTED = "unsupported"  #: anything else WeCom cannot hold
    OUT_OF_RANGE = "out-of-range"  #: a time WeCom's uint32 seconds cannot hold (bounds.py)
    INVALID = "invalid"  #: the event itself is broken (no DTSTART, bad date)


@dataclass(frozen=True, kw_only=True)
class Problem:
    kind: ProblemKind
    message: str  #: names the property and value, e.g. "RRULE BYSETPOS=-1"
    #: the original start (epoch) of the override it is about; None: the event as a whole
    recurrence_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class EventTranslation:
    """A local event as WeCom slots, with everything that did not fit."""

    uid: str
    slots: Mapping[SlotKey, ScheduleDraft] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    #: True when nothing of it is sent and WeCom's copy is left alone: the pair's
    #: fallback is `skip` and the rule cannot be expressed, or it lies outside
    #: the times WeCom can hold (bounds.py).
    skipped: bool = False
    #: True when the slots come from the `expand` fallback (slot keys "X:...").
    expanded: bool = False
    #: what the user may like to know but need not act on (occurrences before
    #: 1970 that WeCom cannot hold): logged at info, not counted as problems
    notes: tuple[str, ...] = ()
