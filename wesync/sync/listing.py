"""Reading WeCom's side of a pair: the calendar's schedules, grouped by event.

get_by_calendar pages are the only calls of a sync where nothing changed: a
schedule whose listing digest equals the stored one reuses its stored
digests. Anything new or changed is fetched in full with batched `get`
(the documented listing leaves out is_whole_day, remind_time_diffs and
exclude_time_list, and their absence must never be read as 0 or empty). Once
a day everything is fetched in full, as a net under the unconfirmed
assumption that `sequence` changes on every edit.

Cancelled schedules (status 1) count as absent. A failed listing raises: it
is never taken for an empty calendar. A schedule that cannot be read (a field
of the wrong type, or no is_whole_day even from `get`) is reported by its id
and left alone: it counts as live, never as absent, and the event it belongs
to is held (skipped) this run; the rest of the calendar syncs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from wesync.errors import SyncError
from wesync.sync.slots import is_retired, listing_digest
from wesync.sync.status import StatusItem
from wesync.translate.canonical import ScheduleDraft, SlotKey
from wesync.translate.remote import UnreadableSchedule, draft_from_schedule
from wesync.wecom.models import Schedule, broken_of


class ScheduleReader(Protocol):
    async def schedule_list(self, cal_id: str) -> list[Schedule]: ...

    async def schedule_get(self, schedule_ids: Sequence[str]) -> list[Schedule]: ...


@dataclass(frozen=True, kw_only=True)
class RemoteSlot:
    schedule_id: str
    digest: str  #: with responses
    content_digest: str
    listing_digest: str | None  #: None: unknown (written this run)
    summary: str = ""
    #: the full schedule when it was fetched this run (None: unchanged, reused)
    schedule: Schedule | None = None
    draft: ScheduleDraft | None = None


@dataclass(kw_only=True)
class RemoteScan:
    #: uid -> slot -> live, mapped schedule (retired slots left out)
    groups: dict[str, dict[SlotKey, RemoteSlot]] = field(default_factory=dict)
    #: live schedules no status row maps, fully fetched, in listing order
    unmapped: list[tuple[Schedule, ScheduleDraft]] = field(default_factory=list)
    #: schedule_id of everything live in the calendar (mapped or not)
    live_ids: set[str] = field(default_factory=set)
    #: schedule_id -> listing digest, for everything live
    listing: dict[str, str] = field(default_factory=dict)
    get_calls: int = 0
    #: schedule_id -> why it cannot be read (live, left alone this run)
    unreadable: dict[str, str] = field(default_factory=dict)
    #: uid -> why it is not synced this run (one of its schedules is unreadable)
    held: dict[str, str] = field(default_factory=dict)
    #: one line per unreadable schedule, for the report
    problems: list[str] = field(default_factory=list)

    def set_unreadable(self, sid: str, error: str, owner: tuple[str, SlotKey] | None) -> None:
        self.live_ids.add(sid)
        self.unreadable[sid] = error
        self.problems.append(f"WeCom schedule {sid} cannot be read, left alone: {error}")
        if owner is not None:
            self.held[owner[0]] = f"WeCom schedule {sid} cannot be read: {error}"
            self.groups.get(owner[0], {}).pop(owner[1], None)


def remote_slot(schedule: Schedule, *, ldigest: str | None) -> RemoteSlot:
    draft = draft_from_schedule(schedule)
    assert schedule.schedule_id is not None
    return RemoteSlot(
        schedule_id=schedule.schedule_id,
        digest=draft.digest(),
        content_digest=draft.content_digest(),
        listing_digest=ldigest,
        summary=draft.summary,
        schedule=schedule,
        draft=draft,
    )


async def scan_remote(
    client: ScheduleReader,
    cal_id: str,
    status: Mapping[str, StatusItem],
    *,
    now: int,
    full_fetch: bool = False,
) -> RemoteScan:
    scan = RemoteScan()
    owner: dict[str, tuple[str, SlotKey]] = {}
    for item in status.values():
        for key, mapped in item.schedule_ids().items():
            owner[mapped] = (item.uid, key)

    listed = await client.schedule_list(cal_id)
    for broken in broken_of(listed):
        scan.set_unreadable(broken.schedule_id, broken.error, owner.get(broken.schedule_id))
    complete: dict[str, Schedule] = {}
    to_get: list[str] = []
    for schedule in listed:
        sid = schedule.schedule_id
        if not sid or schedule.is_cancelled:
            continue
        scan.live_ids.add(sid)
        ldigest = listing_digest(schedule)
        scan.listing[sid] = ldigest
        where = owner.get(sid)
        if where is not None:
            uid, key = where
            if is_retired(key, now):
                continue
            old = status[uid].slots[key]
            if (
                not full_fetch
                and old.listing_digest == ldigest
                and old.remote_digest
                and old.remote_content
            ):
                scan.groups.setdefault(uid, {})[key] = RemoteSlot(
                    schedule_id=sid,
                    digest=old.remote_digest,
                    content_digest=old.remote_content,
                    listing_digest=ldigest,
                    summary=status[uid].summary,
                )
                continue
        if schedule.is_complete:
            complete[sid] = schedule
        else:
            to_get.append(sid)

    if to_get:
        fetched = await client.schedule_get(to_get)
        scan.get_calls = (len(to_get) + 999) // 1000
        by_id = {s.schedule_id: s for s in fetched if s.schedule_id}
        asked = set(to_get)
        for broken in broken_of(fetched):
            if broken.schedule_id in asked and broken.schedule_id not in by_id:
                scan.set_unreadable(broken.schedule_id, broken.error, owner.get(broken.schedule_id))
        missing = [x for x in to_get if x not in by_id and x not in scan.unreadable]
        if missing:
            raise SyncError(
                f"WeCom listed {len(missing)} schedules that `get` did not return "
                f"(first: {missing[0]}); not syncing on a partial view"
            )
        for fetched_id in to_get:
            if fetched_id in by_id:
                complete[fetched_id] = by_id[fetched_id]

    for schedule in listed:
        sid = schedule.schedule_id
        if not sid or sid not in complete:
            continue
        full = complete[sid]
        if full.is_cancelled:
            # cancelled between the listing and the get
            scan.live_ids.discard(sid)
            continue
        where = owner.get(sid)
        try:
            # a `get` answer still without is_whole_day fails here too: never read as 0
            slot = remote_slot(full, ldigest=scan.listing[sid])
        except ValueError as exc:
            detail = exc.detail if isinstance(exc, UnreadableSchedule) else str(exc)
            scan.set_unreadable(sid, detail, where)
            continue
        if where is None:
            assert slot.draft is not None
            scan.unmapped.append((full, slot.draft))
        else:
            scan.groups.setdefault(where[0], {})[where[1]] = slot
    return scan
