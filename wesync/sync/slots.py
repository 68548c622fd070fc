"""Small pure helpers about slots and digests shared by the sync modules."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from wesync.translate.canonical import SlotKey, slot_start
from wesync.wecom.models import Schedule

#: an expanded occurrence that started more than this long ago is "retired":
#: the translator's window no longer covers it, so it is neither compared nor deleted
RETIRE_AFTER = 86400


def is_retired(slot: SlotKey, now: int) -> bool:
    # called for every slot of every event on every run: the cheap test first
    if not slot.startswith("X:"):
        return False
    start = slot_start(slot)
    return start is not None and start < now - RETIRE_AFTER


def live(digests: Mapping[SlotKey, str | None], now: int) -> dict[SlotKey, str]:
    """The slots that take part in comparisons; an unknown digest compares unequal."""
    return {k: (v or "?") for k, v in digests.items() if not is_retired(k, now)}


def listing_digest(schedule: Schedule) -> str:
    """A hash of everything get_by_calendar showed for one schedule, `sequence` included."""
    data = {
        "api": schedule.to_api(with_exclusions=True),
        "status": schedule.status,
        "sequence": schedule.sequence,
        "responses": [(a.userid, a.response_status) for a in schedule.attendees or ()],
    }
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def match_key(summary: str | None, start: int | None, end: int | None) -> tuple[str, int, int]:
    """How a first sync (or a lost reply) recognises the same event on both sides."""
    return (summary or "", start or 0, end or 0)
