"""Reading WeCom's side of a pair: the calendar's schedules, grouped by event.

get_by_calendar pages are the only calls of a sync where nothing changed: a
schedule whose listing digest (a digest of its entry exactly as WeCom sent it,
see `raw_listing_digest`) equals the stored one reuses its stored digests,
without even being parsed, when that digest proves it unchanged (the entry
holds every content field, or `sequence` is known to rise on every change:
wesync.sync.sequence); only the others become `Schedule`s. Anything new,
changed or unproven is fetched in full with batched `get` (the documented
listing leaves out is_whole_day, remind_time_diffs and exclude_time_list, and
their absence must never be read as 0 or empty), `GET_CHUNK` ids at a time;
beyond `KEEP_FULL` of them, one whose content matches the status keeps its
digests only (the executor fetches it again if it has to write that event).
Once a day everything is fetched in full anyway.

Cancelled schedules (status 1) count as absent, and so does a schedule the
status maps that the listing leaves out, but only once `get` confirms it
(`confirm_absent`); a listing that shifted while paged is read again. A failed listing raises: it
is never taken for an empty calendar. A schedule that cannot be read (a field
of the wrong type, or no is_whole_day even from `get`) is reported by its id
and left alone: it counts as live, never as absent, and the event it belongs
to is held (skipped) this run; the rest of the calendar syncs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from wesync.sync.problems import SyncKind, SyncProblem, slot_recurrence_id
from wesync.sync.sequence import (
    PER_CHANGE,
    digest_proves_unchanged,
    entry_is_complete,
    verdict_from,
)
from wesync.sync.slots import is_retired
from wesync.sync.status import SlotStatus, StatusItem
from wesync.translate.canonical import ScheduleDraft, SlotKey
from wesync.wecom.errors import NotFoundError
from wesync.wecom.models import BrokenSchedule, Schedule, broken_of

#: schedules fetched with `get` at a time (a multiple of the 1000 ids a call takes),
#: so that a full fetch of a big calendar never holds every answer at once
GET_CHUNK = 2000
#: fetched schedules whose content matches the status keep their full form up to
#: this many; beyond it only digests are kept (the executor fetches again if needed)
KEEP_FULL = 2000


#: json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")), made
#: once (an entry decoded from JSON holds no cycle to look for)
_ENCODE = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), check_circular=False
).encode


def raw_listing_digest(entry: Mapping[str, Any]) -> str:
    """A digest of one get_by_calendar entry as WeCom sent it, `sequence`
    included: any change WeCom shows in the listing changes it."""
    return hashlib.blake2b(_ENCODE(entry).encode(), digest_size=20).hexdigest()


class ScheduleReader(Protocol):
    def schedule_pages_raw(self, cal_id: str) -> AsyncIterator[list[dict[str, Any]]]: ...

    async def schedule_get(self, schedule_ids: Sequence[str]) -> list[Schedule]: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoteSlot:
    schedule_id: str
    digest: str  #: with responses
    content_digest: str
    listing_digest: str | None  #: None: unknown (written this run)
    summary: str = ""
    #: the full schedule when it was fetched this run (None: unchanged, reused,
    #: or fetched but let go: see KEEP_FULL)
    schedule: Schedule | None = None
    draft: ScheduleDraft | None = None
    #: read in full this run, so its digests are WeCom's current ones
    fetched: bool = False


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
    #: mapped schedule_id -> its listed `sequence`: the engine watches the ones the
    #: run changes, to learn whether sequence rises on every change (sync/sequence.py)
    sequences: dict[str, int] = field(default_factory=dict)
    #: the watched schedules' sequence as listed now (None: the entry has none)
    watched_seen: dict[str, int | None] = field(default_factory=dict)
    #: one per unreadable schedule, for the report
    problems: list[SyncProblem] = field(default_factory=list)

    def set_unreadable(self, sid: str, error: str, owner: tuple[str, SlotKey] | None) -> None:
        self.live_ids.add(sid)
        self.unreadable[sid] = error
        self.problems.append(
            SyncProblem.of(
                SyncKind.UNREADABLE_SCHEDULE,
                f"cannot be read, left alone: {error}",
                uid=owner[0] if owner else None,
                recurrence_id=slot_recurrence_id(owner[1]) if owner else None,
                schedule_id=sid,
            )
        )
        if owner is not None:
            self.held[owner[0]] = f"WeCom schedule {sid} cannot be read: {error}"
            self.groups.get(owner[0], {}).pop(owner[1], None)


async def confirm_absent(
    client: ScheduleReader, ids: Sequence[str]
) -> tuple[list[Schedule], list[BrokenSchedule], int]:
    """Ask WeCom for these schedules by id: (those it returns, those it returns
    unreadable, the calls made). An id it does not return is unknown to it: gone.

    WeCom may fail a whole `get` for one unknown id (NotFoundError) or leave that
    id out of the answer; the first is met by asking for each half again, so k
    unknown ids among n cost about k * log2(n) calls, and none when all are known."""
    calls = 0

    async def ask(part: Sequence[str]) -> tuple[list[Schedule], list[BrokenSchedule]]:
        nonlocal calls
        calls += (len(part) + 999) // 1000
        try:
            answer = await client.schedule_get(part)
        except NotFoundError:
            if len(part) == 1:
                return [], []
            mid = len(part) // 2
            a, ab = await ask(part[:mid])
            b, bb = await ask(part[mid:])
            return a + b, ab + bb
        asked = set(part)
        return [s for s in answer if s.schedule_id in asked], [
            b for b in broken_of(answer) if b.schedule_id in asked
        ]

    found, broken = await ask(list(ids)) if ids else ([], [])
    return found, broken, calls


def remote_slot(schedule: Schedule, *, ldigest: str | None) -> RemoteSlot:
    # imported here: a sync where nothing changed reads no schedule in full
    from wesync.translate.remote import draft_from_schedule

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
        fetched=True,
    )


def _as_recorded(old: SlotStatus, sid: str, ldigest: str, item: StatusItem) -> RemoteSlot:
    """A slot whose listing proves it unchanged: what the status recorded, not fetched."""
    assert old.remote_digest and old.remote_content, "a proof needs both recorded digests"
    return RemoteSlot(
        schedule_id=sid,
        digest=old.remote_digest,
        content_digest=old.remote_content,
        listing_digest=ldigest,
        summary=item.summary,
    )


#: readings of a listing that shifted while it was paged, before one is used as it is
LISTING_READS = 3


class _ListingShifted(Exception):
    """The same schedule came twice: schedules were added or removed meanwhile."""


async def scan_remote(
    client: ScheduleReader,
    cal_id: str,
    status: Mapping[str, StatusItem],
    *,
    now: int,
    full_fetch: bool = False,
    verdict: str | None = None,
    watched: Mapping[str, int] | None = None,
    fetch: frozenset[str] = frozenset(),
) -> RemoteScan:
    """WeCom's side of the pair. An entry whose listing digest equals the stored one
    is reused only when that proves it unchanged (`verdict`: what wesync knows of
    `sequence`, see wesync.sync.sequence); `watched` schedules have their listed
    sequence noted in `watched_seen`. The `fetch` schedules (named by callbacks)
    are read in full whatever the listing shows, or leaves out.

    A listing that shifted under the paging (an entry seen twice: WeCom lists by
    an order that schedules added or removed meanwhile move) is read again;
    after LISTING_READS such readings the last one is used, repeats dropped.
    Either way a schedule the status maps that the listing left
    out is asked for by id (`confirm_absent`): only WeCom's word makes it gone."""
    for attempt in range(1, LISTING_READS + 1):
        try:
            return await _scan_once(
                client,
                cal_id,
                status,
                now=now,
                full_fetch=full_fetch,
                tolerate_shift=attempt == LISTING_READS,
                verdict=verdict,
                watched=watched or {},
                fetch=fetch,
            )
        except _ListingShifted:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


async def _scan_once(
    client: ScheduleReader,
    cal_id: str,
    status: Mapping[str, StatusItem],
    *,
    now: int,
    full_fetch: bool,
    tolerate_shift: bool,
    verdict: str | None,
    watched: Mapping[str, int],
    fetch: frozenset[str],
) -> RemoteScan:
    scan = RemoteScan()
    owner: dict[str, tuple[str, SlotKey]] = {}
    for item in status.values():
        for key, mapped in item.schedule_ids().items():
            owner[mapped] = (item.uid, key)

    # entries whose digest matches the status are used as they are, unparsed; the
    # others are parsed page by page, and only what settling them needs is kept:
    # their ids in listing order, and the schedules the listing shows in full
    complete: dict[str, Schedule] = {}
    to_get: list[str] = []
    order: list[str] = []
    cancelled: set[str] = set()  #: listed with status 1: WeCom's word that they are gone
    waiting: list[str] = []  #: unchanged by digest, if this listing shows sequence moves
    async for page in client.schedule_pages_raw(cal_id):
        for entry in page:
            sid = entry.get("schedule_id")
            if not sid:
                continue
            if sid in scan.live_ids or sid in cancelled or sid in scan.unreadable:
                if tolerate_shift:
                    continue
                raise _ListingShifted(sid)
            ldigest = raw_listing_digest(entry)
            where = owner.get(sid)
            seq = entry.get("sequence")
            if sid in watched:
                scan.watched_seen[sid] = seq if isinstance(seq, int) else None
            old = None
            proves = wait = False
            if where is not None:
                if isinstance(seq, int):
                    scan.sequences[sid] = seq
                old = status[where[0]].slots[where[1]]
                if (
                    old.listing_digest == ldigest
                    and old.remote_digest
                    and old.remote_content
                    and not full_fetch
                    and sid not in fetch
                ):
                    # the same digest: whether that proves it unchanged (sequence.py)
                    proves = digest_proves_unchanged(entry, verdict)
                    # this listing itself may answer the question (a watched schedule):
                    # the entries that answer would settle wait for the end of it
                    wait = (
                        not proves
                        and bool(watched)
                        and verdict is None
                        and "sequence" in entry
                        and not entry_is_complete(entry)
                    )
            if (
                old is not None
                and where is not None
                and (proves or wait)
                and entry.get("status") in (0, None)
                and old.listing_digest
                and old.remote_digest
                and old.remote_content
            ):
                uid, key = where
                ldigest = old.listing_digest  # the stored string: one copy is held
                scan.live_ids.add(sid)
                scan.listing[sid] = ldigest
                if is_retired(key, now):
                    continue
                if wait:
                    waiting.append(sid)
                    continue
                scan.groups.setdefault(uid, {})[key] = _as_recorded(old, sid, ldigest, status[uid])
                continue
            try:
                schedule = Schedule.from_api(entry)
            except (ValueError, TypeError) as exc:
                scan.set_unreadable(sid, str(exc), where)
                continue
            if schedule.is_cancelled:
                cancelled.add(sid)
                continue
            scan.live_ids.add(sid)
            scan.listing[sid] = ldigest
            if where is not None:
                uid, key = where
                if is_retired(key, now):
                    continue
                old = status[uid].slots[key]
                if (
                    proves
                    and old.listing_digest == ldigest
                    and old.remote_digest
                    and old.remote_content
                ):
                    scan.groups.setdefault(uid, {})[key] = _as_recorded(
                        old, sid, ldigest, status[uid]
                    )
                    continue
            order.append(sid)
            if schedule.is_complete:
                complete[sid] = schedule
            else:
                to_get.append(sid)

    if waiting:
        learned = verdict_from(watched, scan.watched_seen)
        for sid in waiting:
            uid, key = owner[sid]
            if learned == PER_CHANGE:
                old = status[uid].slots[key]
                assert old.remote_digest and old.remote_content
                scan.groups.setdefault(uid, {})[key] = RemoteSlot(
                    schedule_id=sid,
                    digest=old.remote_digest,
                    content_digest=old.remote_content,
                    listing_digest=scan.listing[sid],
                    summary=status[uid].summary,
                )
            else:
                order.append(sid)
                to_get.append(sid)

    absent = [
        sid
        for sid, (_, key) in owner.items()
        if sid not in scan.live_ids
        and sid not in cancelled
        and sid not in scan.unreadable
        and not is_retired(key, now)
    ]
    # a schedule a callback named that the listing does not show (yet)
    absent += sorted(
        sid
        for sid in fetch
        if sid not in owner and sid not in scan.live_ids and sid not in cancelled
    )
    if absent:
        still, broken, calls = await confirm_absent(client, absent)
        scan.get_calls += calls
        for b in broken:
            scan.set_unreadable(b.schedule_id, b.error, owner.get(b.schedule_id))
        for found in still:
            if found.is_cancelled or found.schedule_id is None:
                continue
            if found.schedule_id not in owner and found.cal_id not in (None, cal_id):
                continue  # a callback's schedule of another calendar
            # the listing missed it (it shifted while paged): live, as `get` shows it
            scan.live_ids.add(found.schedule_id)
            order.append(found.schedule_id)
            complete[found.schedule_id] = found

    settled: dict[str, RemoteSlot] = {}
    kept = 0

    def settle(sid: str, full: Schedule) -> None:
        from wesync.translate.remote import UnreadableSchedule

        nonlocal kept
        if full.is_cancelled:
            # cancelled between the listing and the get
            scan.live_ids.discard(sid)
            return
        where = owner.get(sid)
        try:
            # a `get` answer still without is_whole_day fails here too: never read as 0
            slot = remote_slot(full, ldigest=scan.listing.get(sid))
        except ValueError as exc:
            detail = exc.detail if isinstance(exc, UnreadableSchedule) else str(exc)
            scan.set_unreadable(sid, detail, where)
            return
        if where is not None:
            old = status[where[0]].slots[where[1]]
            if old.remote_digest == slot.digest and old.remote_content == slot.content_digest:
                # unchanged: the stored strings stand for it (one copy is held)
                slot = replace(slot, digest=old.remote_digest, content_digest=old.remote_content)
            if kept >= KEEP_FULL and old.remote_digest == slot.digest:
                # unchanged: its digests are all planning needs
                slot = replace(slot, schedule=None, draft=None)
            else:
                kept += 1
        settled[sid] = slot

    if to_get:
        for start in range(0, len(to_get), GET_CHUNK):
            chunk = to_get[start : start + GET_CHUNK]
            fetched, broken, calls = await confirm_absent(client, chunk)
            scan.get_calls += calls
            by_id = {s.schedule_id: s for s in fetched if s.schedule_id}
            for b in broken:
                if b.schedule_id not in by_id:
                    scan.set_unreadable(b.schedule_id, b.error, owner.get(b.schedule_id))
            for fetched_id in chunk:
                if fetched_id in by_id:
                    settle(fetched_id, by_id[fetched_id])
                elif fetched_id not in scan.unreadable:
                    # listed, then unknown to `get`: deleted meanwhile, on WeCom's word
                    scan.live_ids.discard(fetched_id)
                    scan.listing.pop(fetched_id, None)
            del fetched, by_id

    for sid in order:
        if sid in complete:
            settle(sid, complete.pop(sid))
        slot = settled.get(sid)
        if slot is None:
            continue
        where = owner.get(sid)
        if where is None:
            assert slot.schedule is not None and slot.draft is not None
            scan.unmapped.append((slot.schedule, slot.draft))
        else:
            scan.groups.setdefault(where[0], {})[where[1]] = slot
    return scan
