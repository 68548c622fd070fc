"""Property: WeCom's edits and deletions of expanded occurrences, written into the
file, give a file whose own expansion is exactly what WeCom holds.

For every rule the `expand` fallback handles (test_properties.UNREPRESENTABLE,
DST gaps and folds included), any set of occurrences is edited in WeCom (a new
title, a moved start, new reminders) or deleted; `pull_occurrences` writes
those into the file. Then, over the window:

- the file translated again gives WeCom's schedules, slot for slot (so the next
  sync finds nothing to do);
- the file read by an independent RFC 5545 reading (dateutil over the RRULE,
  minus EXDATEs, overrides applied by RECURRENCE-ID) starts exactly where
  WeCom's schedules start;
- the RRULE is the file's own, and untouched occurrences have no override.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timedelta

import icalendar
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.translate.conftest import PROPERTIES
from tests.translate.helpers import item, vevent
from tests.translate.rfc_times import rfc_epoch
from tests.translate.test_properties import NOW, unrepresentable
from wesync.config import Fallback
from wesync.translate.canonical import ProblemKind, ScheduleDraft, slot_start
from wesync.translate.expanded_edits import pull_occurrences
from wesync.translate.ics import parse_item, serialize
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import draft_from_schedule, schedule_from_draft
from wesync.translate.to_wecom import translate_event
from wesync.wecom.models import Schedule

#: each example writes and reads a whole expanded series twice (60 ms): 300 in CI,
#: the translation properties' 2,000 with WESYNC_SLOW=1 (about two minutes)
EXAMPLES = 2000 if os.environ.get("WESYNC_SLOW") == "1" else 300

#: what a WeCom user does to one occurrence
EDITS = ("keep", "retitle", "move", "remind", "delete")


def _edited(draft: ScheduleDraft, edit: str, n: int) -> ScheduleDraft | None:
    if edit == "delete":
        return None
    if edit == "retitle":
        return replace(draft, summary=f"{draft.summary} #{n}")
    if edit == "move":
        shift = (n % 5 + 1) * 1800
        return replace(draft, start_time=draft.start_time + shift, end_time=draft.end_time + shift)
    if edit == "remind":
        return replace(draft, remind_time_diffs=(-900,))
    return draft


def _values(prop: object) -> list[object]:
    props = prop if isinstance(prop, list) else [prop]
    return [v.dt for p in props for v in p.dts]  # type: ignore[attr-defined]


def _rfc_reading(cal: icalendar.Calendar, lo: int, hi: int) -> dict[int, int]:
    """RECURRENCE-ID (original start) -> start of every occurrence in the window."""
    from dateutil.rrule import rrulestr

    events = list(cal.walk("VEVENT"))
    master = next(e for e in events if "RECURRENCE-ID" not in e)
    start = master["DTSTART"].dt
    rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)
    excluded = {rfc_epoch(v) for v in _values(master["EXDATE"])} if "EXDATE" in master else set()
    out: dict[int, int] = {}
    first = rfc_epoch(start)
    for dt in rule:
        t = rfc_epoch(dt)
        if t > hi + 2 * 86400:
            break
        if lo <= t <= hi and t not in excluded:
            out[t] = t
    if lo <= first <= hi and first not in excluded:
        out[first] = first
    for ev in events:
        if "RECURRENCE-ID" in ev:
            rid = rfc_epoch(ev["RECURRENCE-ID"].dt)
            out.pop(rid, None)
            if lo <= rid <= hi:
                out[rid] = rfc_epoch(ev["DTSTART"].dt)
    return out


@settings(PROPERTIES, max_examples=EXAMPLES)
@given(unrepresentable(), st.data())
def test_wecom_edits_of_expanded_occurrences_come_back_exactly(
    case: tuple[str, str, datetime, tuple[int, ...], int], data: st.DataObject
) -> None:
    rule, zone, start, _, window = case
    lines = [
        "SUMMARY:odd rule",
        "CATEGORIES:KEPT",
        f"DTSTART;TZID={zone}:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID={zone}:{start + timedelta(hours=1):%Y%m%dT%H%M%S}",
        f"RRULE:{rule}",
    ]
    options = TranslateOptions(fallback=Fallback.EXPAND, expand_window_days=window)
    existing = item(vevent(*lines))
    before = translate_event(existing, options=options, now=NOW)
    assert before.expanded
    keys = sorted(before.slots, key=lambda k: slot_start(k) or 0)
    edits = data.draw(st.lists(st.sampled_from(EDITS), min_size=len(keys), max_size=len(keys)))
    wecom: dict[str, Schedule] = {}
    wanted: dict[str, ScheduleDraft] = {}
    changed: list[str] = []
    for n, (key, edit) in enumerate(zip(keys, edits, strict=True)):
        after = _edited(before.slots[key], edit, n)
        if edit != "keep":
            changed.append(key)
        if after is not None:
            schedule = schedule_from_draft(after, cal_id="cal")
            wecom[key] = schedule
            wanted[key] = draft_from_schedule(schedule)

    cal = pull_occurrences(existing, wecom, changed, options=options, now=NOW)
    again = translate_event(
        parse_item(serialize(cal), where="pulled.ics"), options=options, now=NOW
    )

    # the next sync finds nothing to do: slot for slot, WeCom's content. (With more
    # occurrences than the cap, a deletion makes room for the next one: that one
    # is the file's, new, and pushed by the sync like any occurrence entering.)
    last = slot_start(keys[-1]) or 0 if keys else 0
    capped = ProblemKind.EXPANSION_CAPPED in {p.kind for p in before.problems}
    got = {k: d.content_digest() for k, d in again.slots.items()}
    if capped:
        assert all((slot_start(k) or 0) > last for k in set(got) - set(keys))
        got = {k: v for k, v in got.items() if (slot_start(k) or 0) <= last}
    assert got == {k: d.content_digest() for k, d in wanted.items()}
    # an independent RFC 5545 reading of the file agrees on where each occurrence is
    lo, hi = NOW - 86400, (last if capped else NOW + window * 86400)
    reading = _rfc_reading(cal, lo, hi)
    assert reading == {slot_start(k): d.start_time for k, d in wanted.items()}
    master = next(e for e in cal.walk("VEVENT") if "RECURRENCE-ID" not in e)
    assert master["RRULE"].to_ical().decode() == icalendar.vRecur.from_ical(rule).to_ical().decode()
    overrides = [e for e in cal.walk("VEVENT") if "RECURRENCE-ID" in e]
    assert len(overrides) == sum(1 for k in changed if k in wecom)
    assert all("KEPT" in e.to_ical().decode() for e in overrides)
