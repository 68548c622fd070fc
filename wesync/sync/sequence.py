"""Whether a listing entry that looks unchanged is unchanged: what `sequence` says.

get_by_calendar's `sequence` is documented only as "日程编号，是一个自增数字": it
may rise on every change of a schedule, be set once at creation, or not be
listed at all (issue 11's `sequence` variant). And the documented listing
leaves out is_whole_day, remind_time_diffs and exclude_time_list. So an entry
whose listing digest equals the stored one proves the schedule unchanged only
when the entry holds every field of the content, or when `sequence` is known to
rise on every change. Anything else is fetched with `get`.

wesync learns the answer from its own writes: the sequence listed before it
changed a schedule, against the one listed on the next run. Until it knows, it
assumes the worst. Pure functions; the status database keeps the answer and
the schedules watched (meta keys below).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: meta keys in the pair's status database
VERDICT_KEY = "wecom_sequence"
WATCH_KEY = "sequence_watch"
#: the answers (the emulator's variant names)
PER_CHANGE = "per-change"
FROZEN = "frozen"
ABSENT = "absent"
#: schedules watched at a time: one that moves (or not) is enough, a few cover losses
WATCH_MAX = 20


def entry_is_complete(entry: Mapping[str, Any]) -> bool:
    """Whether a listing entry holds every field of a schedule's content, so that
    its digest changes with any change (the raw dict, before it is parsed)."""
    reminders = entry.get("reminders")
    if "is_whole_day" not in entry or not isinstance(reminders, Mapping):
        return False
    if "remind_time_diffs" not in reminders:
        return False
    return not reminders.get("is_repeat") or "exclude_time_list" in reminders


def digest_proves_unchanged(entry: Mapping[str, Any], verdict: str | None) -> bool:
    """Whether an entry whose listing digest equals the stored one may be taken as
    unchanged without a `get`."""
    # the cheap test first: under the best answer it settles every entry
    return (verdict == PER_CHANGE and "sequence" in entry) or entry_is_complete(entry)


def verdict_from(
    watched: Mapping[str, int], listed: Mapping[str, int | None]
) -> str | None:
    """The answer, from schedules wesync changed last run (id -> the sequence listed
    before the change) and what this listing shows for them (id -> sequence, None
    when the entry has none); None while nothing watched is listed."""
    seen = [(before, listed[sid]) for sid, before in watched.items() if sid in listed]
    if not seen:
        return None
    if any(after is None for _, after in seen):
        return ABSENT
    if all(after != before for before, after in seen):
        return PER_CHANGE
    return FROZEN
