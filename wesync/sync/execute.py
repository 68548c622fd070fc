"""Carrying out a plan: local writes, then remote writes, recording as it goes.

Order: status-only actions; then every local write, one flush, and their
status; then the remote writes, a few events at a time; then one batched
`get` of what was written, so the status holds WeCom's exact digests.

A failed item is reported and the run goes on; the pair is then not ok.
Before writing to a side the item is marked `pending` for that side (and each
WeCom call is preceded by an intent), so a run killed at any point leaves a
status the next run can finish from: it redoes the interrupted write instead
of mistaking half of its own work for somebody's edit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import icalendar

from wesync.errors import PreconditionFailed, StorageError, WesyncError
from wesync.storage.base import LocalStorage
from wesync.sync.actions import (
    Create,
    Delete,
    Forget,
    KeepBoth,
    Merge,
    Plan,
    Record,
    Side,
    Skip,
    Update,
)
from wesync.sync.listing import RemoteScan, RemoteSlot, remote_slot
from wesync.sync.local import LocalItem, LocalScan, item_path, translate, translation_problems
from wesync.sync.plan import slots_digest
from wesync.sync.problems import SyncKind
from wesync.sync.quota import AddGate, Candidate, arrange, candidates, most_adds
from wesync.sync.remote import (
    AddDeferred,
    OldSlot,
    PushResult,
    ScheduleWriter,
    delete_event,
    push_event,
)
from wesync.sync.report import PairReport
from wesync.sync.slots import is_retired
from wesync.sync.status import Intent, SlotStatus, StatusDB, StatusItem
from wesync.translate.canonical import MASTER, ScheduleDraft, SlotKey
from wesync.translate.expanded_edits import pull_occurrences
from wesync.translate.ics import serialize
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import schedule_from_draft
from wesync.translate.to_ical import schedules_to_item
from wesync.wecom.errors import WeComAPIError, WeComError
from wesync.wecom.models import Schedule, broken_of

log = logging.getLogger("wesync.sync")

#: events written to WeCom at once (the client's limiter bounds the calls)
REMOTE_CONCURRENCY = 8
#: schedules read back at a time after the writes (a multiple of the 1000 ids a
#: `get` takes, so the calls are as few as in one batch)
READ_BACK_CHUNK = 2000


class Client(ScheduleWriter, Protocol):
    """What the executor needs of the WeCom client (the writer's calls, get included)."""


class DbJournal:
    """The remote writer's journal, kept in the status database; each add is
    first put to the daily quota's gate (which may defer it: see wesync.sync.quota)."""

    def __init__(self, db: StatusDB, uid: str, quota: AddGate | None = None) -> None:
        self.db = db
        self.uid = uid
        self.quota = quota
        self.mapped = 0  #: schedules this event's push mapped (added or split off)
        self._adds: dict[int, int] = {}  #: intent id of an add -> the gate's token

    def intend(self, intent: Intent) -> int:
        token = None
        # a split makes a schedule too (WeCom's answer names it): counted as one
        if intent.op in ("add", "split") and self.quota is not None:
            token = self.quota.reserve(self.uid, intent.slot)  # before anything is recorded
        try:
            with self.db.transaction():
                intent_id = self.db.add_intent(intent)
        except BaseException:
            if token is not None and self.quota is not None:
                self.quota.failed(token)
            raise
        if token is not None:
            self._adds[intent_id] = token
        return intent_id

    def landed(self, intent_id: int, *, slot: SlotKey, schedule_id: str | None) -> None:
        with self.db.transaction():
            self.db.clear_intent(intent_id)
            self.db.map_slot(self.uid, slot, schedule_id)
        if schedule_id is not None:
            self.mapped += 1
        if self._adds.pop(intent_id, None) is not None and self.quota is not None:
            self.quota.landed()

    def done(self, intent_id: int) -> None:
        with self.db.transaction():
            self.db.clear_intent(intent_id)
        token = self._adds.pop(intent_id, None)
        if token is not None and self.quota is not None:
            # an add is `done`, not `landed`, only when it surely did not land
            self.quota.failed(token)

    async def refused(self, exc: BaseException) -> bool:
        return self.quota is not None and await self.quota.refused(exc)


@dataclass(kw_only=True)
class Executor:
    cal_id: str
    where: str  #: the pair's local path, for messages
    client: Client
    storage: LocalStorage
    db: StatusDB
    options: TranslateOptions
    now: int
    report: PairReport
    local: LocalScan
    remote: RemoteScan
    status: dict[str, StatusItem]
    #: called as progress(done, total) after each write action
    progress: Callable[[int, int], None] | None = None
    #: the daily creation quota's say on each add (None: no quota kept)
    quota: AddGate | None = None
    #: remote pushes queued by the local phase (keep-both copies, merged events)
    _extra_remote: list[Create | Update] = field(default_factory=list)
    #: uid -> schedule ids written this run (refreshed with one `get` at the end)
    pushed: dict[str, PushResult] = field(default_factory=dict)
    #: events whose WeCom schedules are written to the files after the pushes
    #: (attendees' answers): they keep the full schedules read back
    _keep_full: set[str] = field(default_factory=set)
    #: WeCom is known to keep a series' exclusions on update (engine: learned or probed)
    exclusions_kept: bool = False
    #: what this run's series updates showed of that (None: none looked)
    exclusions_seen: bool | None = None
    #: schedules this run changed in place (not added): wesync.sync.sequence watches them
    changed_existing: set[str] = field(default_factory=set)
    _done: int = 0
    _total: int = 0

    def _tick(self) -> None:
        self._done += 1
        if self.progress is not None:
            self.progress(self._done, self._total)

    # -- helpers -------------------------------------------------------------

    def _status_for(
        self, uid: str, local: LocalItem | None, remote: Mapping[SlotKey, RemoteSlot]
    ) -> StatusItem:
        slots: dict[SlotKey, SlotStatus] = {}
        old = self.status.get(uid)
        if old is not None:
            for key, s in old.slots.items():
                if is_retired(key, self.now) and s.schedule_id:
                    slots[key] = s  # kept mapped so it never looks new
        local_digests = local.digests if local else {}
        for key in set(local_digests) | set(remote):
            r = remote.get(key)
            slots[key] = SlotStatus(
                slot=key,
                schedule_id=r.schedule_id if r else None,
                local_digest=local_digests.get(key),
                remote_digest=r.digest if r else None,
                remote_content=r.content_digest if r else None,
                listing_digest=r.listing_digest if r else None,
            )
        summary = (local.summary if local else "") or next(
            (r.summary for r in remote.values() if r.summary), ""
        )
        return StatusItem(
            uid=uid,
            href=local.href if local else None,
            local_etag=local.etag if local else None,
            expanded=local.expanded if local else False,
            summary=summary,
            slots=slots,
        )

    def _forget(self, uid: str) -> None:
        """Drop a UID, but keep a tombstone for retired occurrences still in WeCom."""
        old = self.status.get(uid)
        retired = {
            k: s
            for k, s in (old.slots.items() if old else ())
            if s.schedule_id and is_retired(k, self.now)
        }
        if retired:
            self.db.put(StatusItem(uid=uid, slots=retired))
        else:
            self.db.delete(uid)

    def _load_local(self, uid: str) -> LocalItem:
        """The local item with its bytes and translation, reading the file if needed."""
        item = self.local.items[uid]
        if item.data is not None:
            return item
        data, etag = self.storage.get(item.href)
        if etag != item.etag:
            raise PreconditionFailed(
                "changed since it was listed; trying again next run",
                path=f"{self.where}/{item.href}",
            )
        loaded = translate(
            data,
            href=item.href,
            etag=etag,
            options=self.options,
            now=self.now,
            where=f"{self.where}/{item.href}",
        )
        self.local.items[uid] = loaded
        return loaded

    async def _ensure_full(self, uids: set[str]) -> None:
        """Fetch the full schedules of these events where only digests were reused."""
        need = [
            slot.schedule_id
            for uid in uids
            for slot in self.remote.groups.get(uid, {}).values()
            if slot.schedule is None
        ]
        if not need:
            return
        answer = await self.client.schedule_get(need)
        fetched = {s.schedule_id: s for s in answer}
        unreadable = {b.schedule_id for b in broken_of(answer)}
        for uid in uids:
            group = self.remote.groups.get(uid, {})
            for key, slot in list(group.items()):
                if slot.schedule is not None or slot.schedule_id in unreadable:
                    # unreadable now: not gone; the event is not written this run
                    continue
                full = fetched.get(slot.schedule_id)
                if full is None or full.is_cancelled:
                    del group[key]  # gone since the listing
                    continue
                with contextlib.suppress(ValueError):  # unreadable: as above
                    group[key] = remote_slot(full, ldigest=slot.listing_digest)

    # -- the run ---------------------------------------------------------------

    async def run(self, plan: Plan) -> None:
        local_side = [
            a
            for a in plan
            if isinstance(a, KeepBoth | Merge)
            or (isinstance(a, Create | Update | Delete) and a.side is Side.LOCAL)
        ]
        remote_side = [
            a for a in plan if isinstance(a, Create | Update | Delete) and a.side is Side.REMOTE
        ]
        pulls = [a for a in remote_side if isinstance(a, Update) and a.pull_answers]
        self._keep_full = {a.uid for a in pulls}
        self._total = (
            len(local_side)
            + len(remote_side)
            + len(pulls)
            + sum(int(a.push) + len(a.copies) for a in plan if isinstance(a, Merge))
        )
        await self._ensure_full(
            {a.uid for a in local_side if not isinstance(a, Delete)}
            | {a.uid for a in remote_side if isinstance(a, Update)}
        )
        with self.db.transaction():
            for action in plan:
                if isinstance(action, Record):
                    self._record(action.uid)
                elif isinstance(action, Forget):
                    self._forget(action.uid)
        for action in plan:
            if isinstance(action, Skip):
                self.report.skipped += 1
        self._run_local(local_side)
        await self._run_remote([*remote_side, *self._extra_remote])
        # WeCom now holds the local edit with the attendees' answers: bring those home
        self._run_local(
            [
                Update(side=Side.LOCAL, uid=a.uid, reason="attendees answered in WeCom")
                for a in pulls
                if a.uid in self.pushed
            ]
        )

    def _changed_meanwhile(self, uid: str, exc: Exception) -> None:
        # someone is editing the file right now: leave it to the next run
        self.report.problem(
            SyncKind.CHANGED_MEANWHILE, f"skipped this run: {exc}", path=self._path(uid), uid=uid
        )
        self.report.skipped += 1

    def _record(self, uid: str) -> None:
        local = self.local.items.get(uid)
        self.db.put(self._status_for(uid, local, self.remote.groups.get(uid, {})))

    # -- local -------------------------------------------------------------

    def _run_local(self, actions: Sequence[Create | Update | Delete | KeepBoth | Merge]) -> None:
        """Write the files, flush once, then record; each item is marked pending
        (with the digest it will have) just before its write."""
        if not actions:
            return
        done: list[Create | Update | Delete | KeepBoth | Merge] = []
        copies: dict[str, LocalItem] = {}
        for action in actions:
            try:
                if isinstance(action, KeepBoth):
                    # the local version is saved first: a kill after this point loses nothing
                    copy = self._keep_local_copy(action)
                    if copy is not None:
                        copies[action.copy_uid] = copy
                    self._write_local(action.uid)
                elif isinstance(action, Merge):
                    # the local versions are saved first, as for keep-both
                    for slot, copy_uid in action.copies:
                        copy = self._keep_occurrence_copy(action.uid, slot, copy_uid)
                        if copy is not None:
                            copies[copy_uid] = copy
                    self._write_local(action.uid, occurrences=action.pull)
                elif isinstance(action, Delete):
                    item = self.local.items[action.uid]
                    self._mark_local(action.uid, "")
                    self.storage.delete(item.href, item.etag)
                else:
                    self._write_local(action.uid)
                done.append(action)
            except PreconditionFailed as exc:
                self._changed_meanwhile(action.uid, exc)
            except (WesyncError, OSError) as exc:
                self.report.item_error(
                    f"not written to the files: {exc}", path=self._path(action.uid), uid=action.uid
                )
            self._tick()
        try:
            self.storage.flush()
        except (WesyncError, OSError) as exc:
            self.report.item_error(f"local changes not saved: {exc}", path=self.where)
            done = []
        etags = dict(self.storage.list()) if done else {}
        with self.db.transaction():
            for action in actions:
                self.db.set_pending(action.uid, None)
            for action in done:
                self._after_local(action, etags, copies)

    def _mark_local(self, uid: str, digest: str) -> None:
        with self.db.transaction():
            self.db.set_pending(uid, Side.LOCAL, digest=digest)

    def _keep_local_copy(self, action: KeepBoth) -> LocalItem | None:
        """Save the local version under a new UID beside WeCom's (keep-both).

        None when an earlier, interrupted run saved it already (the copy's UID
        comes from its content, and the plan pushes it as a new local event)."""
        if action.copy_uid in self.local.items:
            self.db.log_conflict(action.uid, f"keep-both: local version kept as {action.copy_uid}")
            return None
        mine = self._load_local(action.uid)
        assert mine.data is not None
        cal = icalendar.Calendar.from_ical(mine.data)
        for event in cal.walk("VEVENT"):
            event["UID"] = action.copy_uid
        copy = self._save_copy(action.copy_uid, serialize(cal))
        self.db.log_conflict(action.uid, f"keep-both: local version saved as {action.copy_uid}")
        return copy

    def _save_copy(self, copy_uid: str, data: bytes) -> LocalItem:
        """Create the file of a keep-both copy and take it into this run's scan."""
        href, etag = self.storage.create(copy_uid, data)
        copy = translate(
            data,
            href=href,
            etag=etag,
            options=self.options,
            now=self.now,
            where=f"{self.where}/{href}",
        )
        self.local.items[copy_uid] = copy
        return copy

    def _keep_occurrence_copy(self, uid: str, slot: SlotKey, copy_uid: str) -> LocalItem | None:
        """Keep-both for one occurrence of an expanded event: the file's version of
        it is saved as a single event of its own (None: saved by an earlier run)."""
        if copy_uid in self.local.items:
            self.db.log_conflict(uid, f"keep-both: {slot} of the file kept as {copy_uid}")
            return None
        mine = self._load_local(uid)
        assert mine.translation is not None
        draft = mine.translation.slots[slot]
        cal = schedules_to_item(
            copy_uid,
            {MASTER: schedule_from_draft(draft, cal_id=self.cal_id)},
            options=self.options,
            existing=None,
            now=self.now,
        )
        copy = self._save_copy(copy_uid, serialize(cal))
        self.db.log_conflict(uid, f"keep-both: {slot} of the file saved as {copy_uid}")
        return copy

    def _write_local(self, uid: str, *, occurrences: Sequence[SlotKey] | None = None) -> None:
        """Write WeCom's version of the event into its file; with `occurrences`,
        only those occurrences of an expanded event."""
        group = self.remote.groups.get(uid, {})
        schedules = {k: s.schedule for k, s in group.items() if s.schedule is not None}
        if len(schedules) != len(group):
            raise WesyncError(f"WeCom's version of {uid!r} could not be read in full")
        existing = self.local.items.get(uid)
        if occurrences is not None:
            assert existing is not None
            current = self._load_local(uid)
            assert current.parsed is not None
            data = serialize(
                pull_occurrences(
                    current.parsed, schedules, occurrences, options=self.options, now=self.now
                )
            )
            if data != current.data:
                self._mark_local(uid, self._digest_of(data, uid))
                current.etag = self.storage.update(current.href, data, current.etag)
            return
        if existing is None:
            data = serialize(
                schedules_to_item(uid, schedules, options=self.options, existing=None, now=self.now)
            )
            self._mark_local(uid, self._digest_of(data, uid))
            href, etag = self.storage.create(uid, data)
            self.local.items[uid] = LocalItem(uid=uid, href=href, etag=etag, digests={})
            return
        current = self._load_local(uid)
        cal = schedules_to_item(
            uid, schedules, options=self.options, existing=current.parsed, now=self.now
        )
        data = serialize(cal)
        if data != current.data:
            self._mark_local(uid, self._digest_of(data, uid))
            etag = self.storage.update(current.href, data, current.etag)
            current.etag = etag

    def _digest_of(self, data: bytes, uid: str) -> str:
        """The content digest a file holding `data` will have (as the plan computes it)."""
        item = translate(
            data, href=uid, etag="", options=self.options, now=self.now, where=f"{uid} (new)"
        )
        return slots_digest(item.digests)

    def _after_local(
        self,
        action: Create | Update | Delete | KeepBoth | Merge,
        etags: Mapping[str, str],
        copies: Mapping[str, LocalItem],
    ) -> None:
        uid = action.uid
        if isinstance(action, Delete):
            self.report.deleted_local += 1
            self.db.set_file_problems({self.local.items[uid].href: ()})  # the file is gone
            self._forget(uid)
            return
        item = self.local.items[uid]
        data, etag = self.storage.get(item.href)
        written = translate(
            data,
            href=item.href,
            etag=etags.get(item.href, etag),
            options=self.options,
            now=self.now,
            where=f"{self.where}/{item.href}",
        )
        self.local.items[uid] = written
        group = self.remote.groups.get(uid, {})
        self.db.put(self._status_for(uid, written, group))
        # the file is not read again while it stays as written: keep what it says now
        path = item_path(self.storage, self.where, item.href)
        self.db.set_file_problems({item.href: translation_problems(written, path)})
        remote_content = {k: s.content_digest for k, s in group.items()}
        if isinstance(action, Merge):
            self._after_merge(action, written, remote_content, copies, etags)
            return
        if written.digests != remote_content:
            self.report.problem(
                SyncKind.LOSSY_WRITE,
                "the file cannot hold everything WeCom has for this event; "
                "the difference is left as it is",
                path=path,
                uid=uid,
            )
        if isinstance(action, KeepBoth):
            self.report.conflicts += 1
            self.report.updated_local += 1
            copy = copies.get(action.copy_uid)
            if copy is not None:
                self.report.created_local += 1
                copy.etag = etags.get(copy.href, copy.etag)
                where = item_path(self.storage, self.where, copy.href)
                self.db.set_file_problems({copy.href: translation_problems(copy, where)})
                self.db.set_pending(action.copy_uid, Side.REMOTE)
                self._extra_remote.append(
                    Create(side=Side.REMOTE, uid=action.copy_uid, reason="keep-both copy")
                )
        elif isinstance(action, Create):
            self.report.created_local += 1
        else:
            self.report.updated_local += 1
            if action.conflict:
                self.report.conflicts += 1
                self.db.log_conflict(uid, "wecom-wins: WeCom's version written to the file")

    def _after_merge(
        self,
        action: Merge,
        written: LocalItem,
        remote_content: Mapping[SlotKey, str],
        copies: Mapping[str, LocalItem],
        etags: Mapping[str, str],
    ) -> None:
        self.report.updated_local += 1
        if action.conflicts:
            self.report.conflicts += 1
            self.db.log_conflict(
                action.uid, f"{action.conflicts} occurrences changed on both sides: {action.reason}"
            )
        for _, copy_uid in action.copies:
            copy = copies.get(copy_uid)
            if copy is not None:
                self.report.created_local += 1
                copy.etag = etags.get(copy.href, copy.etag)
                where = item_path(self.storage, self.where, copy.href)
                self.db.set_file_problems({copy.href: translation_problems(copy, where)})
                self.db.set_pending(copy_uid, Side.REMOTE)
                self._extra_remote.append(
                    Create(side=Side.REMOTE, uid=copy_uid, reason="keep-both copy")
                )
        if action.push or written.digests != remote_content:
            # the file's own changes (occurrences new in the window, ...) go next;
            # marked, so a run killed before they land redoes them
            self.db.set_pending(action.uid, Side.REMOTE)
            self._extra_remote.append(
                Update(side=Side.REMOTE, uid=action.uid, reason="changed locally")
            )

    def _path(self, uid: str) -> str | None:
        """The file of an event (None: it has none yet), for the problems naming it."""
        item = self.local.items.get(uid)
        return item_path(self.storage, self.where, item.href) if item is not None else None

    # -- remote ------------------------------------------------------------

    async def _run_remote(self, actions: list[Create | Update | Delete]) -> None:
        if not actions:
            return
        actions = self._arrange(actions)
        # REMOTE_CONCURRENCY workers take the actions in order (not one task per
        # action: a first sync of a big folder would hold them all at once)
        queue = iter(actions)
        # after WeCom refused the quota, one add alone tells whether its day turned
        while self.quota is not None and self.quota.probing:
            action = next(queue, None)
            if action is None:
                break
            await self._push_one(action)

        async def worker() -> None:
            for action in queue:
                await self._push_one(action)

        await asyncio.gather(*(worker() for _ in range(min(REMOTE_CONCURRENCY, len(actions)))))
        await self._refresh_pushed()

    async def _push_one(self, action: Create | Update | Delete) -> None:
        try:
            await self._push(action)
        except PreconditionFailed as exc:
            self._changed_meanwhile(action.uid, exc)
        except AddDeferred:
            self._waits(action)
        except (WesyncError, OSError) as exc:
            if self.quota is not None and await self.quota.refused(exc):
                self._waits(action)
            else:
                self.report.item_error(
                    f"not written to WeCom: {exc}", path=self._path(action.uid), uid=action.uid
                )
        self._tick()

    def _waits(self, action: Create | Update | Delete) -> None:
        assert self.quota is not None
        self.quota.waiting.add(action.uid)

    def _arrange(self, actions: list[Create | Update | Delete]) -> list[Create | Update | Delete]:
        """Nearest adds first, and only as many as the quota allows, when the run
        may not send them all (reading the files it must for that: only then)."""
        gate = self.quota
        if gate is None or not gate.must_arrange(
            sum(
                most_adds(self.local.items[a.uid].digests, self.remote.groups.get(a.uid, {}))
                for a in actions
                if not isinstance(a, Delete) and a.uid in self.local.items
            )
        ):
            return actions
        cands = {a.uid: self._candidates(a) for a in actions if not isinstance(a, Delete)}
        gate.plan(cands)
        return arrange(actions, lambda a: a.uid, cands, self.now)

    def _candidates(self, action: Create | Update) -> list[Candidate]:
        item = self.local.items.get(action.uid)
        was_loaded = item is not None and item.data is not None
        try:
            item = self._load_local(action.uid)
        except (WesyncError, OSError, KeyError):
            return []  # its push says what is wrong
        found = candidates(action.uid, self._old_slots(action.uid), self._new_slots(item), self.now)
        if not was_loaded:
            item.unload()
        return found

    def _new_slots(self, item: LocalItem) -> dict[SlotKey, ScheduleDraft]:
        assert item.translation is not None
        return {k: d for k, d in item.translation.slots.items() if not is_retired(k, self.now)}

    def _old_slots(self, uid: str) -> dict[SlotKey, OldSlot]:
        group = self.remote.groups.get(uid, {})
        return {
            k: OldSlot(schedule_id=s.schedule_id, draft=s.draft, schedule=s.schedule)
            for k, s in group.items()
            if s.draft is not None
        }

    async def _push(self, action: Create | Update | Delete) -> None:
        uid = action.uid
        journal = DbJournal(self.db, uid, self.quota)
        if isinstance(action, Delete):
            known = self.status.get(uid)
            ids = known.schedule_ids() if known else {}
            with self.db.transaction():
                self.db.set_pending(uid, Side.REMOTE)
            await delete_event(self.client, journal, uid=uid, schedule_ids=ids)
            with self.db.transaction():
                self.db.delete(uid)
            self.report.deleted_remote += 1
            return
        item = self._load_local(uid)
        new = self._new_slots(item)
        if any(s.draft is None for s in self.remote.groups.get(uid, {}).values()):
            # a schedule left out of `old` would be added again: a duplicate
            raise WesyncError(f"WeCom's version of {uid!r} could not be read in full")
        old = self._old_slots(uid)
        with self.db.transaction():
            self.db.set_pending(uid, Side.REMOTE)
        try:
            result = await push_event(
                self.client,
                journal,
                uid=uid,
                cal_id=self.cal_id,
                old=old,
                new=new,
                exclusions_kept=self.exclusions_kept,
            )
        except (AddDeferred, WeComAPIError):
            if journal.mapped == 0 and uid not in self.status and not old:
                # nothing of a new event reached WeCom (an add refused for the quota
                # surely did not land): it waits as a new event, not as a cut-off write
                with self.db.transaction():
                    self.db.delete(uid)
            raise
        self.pushed[uid] = result
        self.changed_existing.update(result.written & {o.schedule_id for o in old.values()})
        if result.exclusions_kept is not None:
            # one update that lost them is the answer ("clear"), whatever others showed
            self.exclusions_seen = result.exclusions_kept and self.exclusions_seen is not False
        with self.db.transaction():
            # the push landed: it is not to be redone, even if the run stops before the
            # read-back below; what WeCom shows next run is then compared with what was
            # sent, so an edit made there in between counts as an edit
            self.db.put(self._status_for(uid, item, self._sent_group(uid, item, result)))
        # its digests are all the rest of the run needs (a file is read again if it must)
        item.unload()
        if isinstance(action, Create):
            self.report.created_remote += 1
        else:
            self.report.updated_remote += 1
            if action.conflict:
                self.report.conflicts += 1
                with self.db.transaction():
                    self.db.log_conflict(uid, "local-wins: the file's version sent to WeCom")

    def _sent_group(
        self, uid: str, item: LocalItem, result: PushResult
    ) -> dict[SlotKey, RemoteSlot]:
        """WeCom's slots for `uid` as a push left them, before they are read back: a
        written slot holds the file's content (canonical, so its digest is the local
        one) and unknown attendee answers; an untouched one is as listed."""
        group = self.remote.groups.get(uid, {})
        sent: dict[SlotKey, RemoteSlot] = {}
        for key, sid in result.slots.items():
            listed = group.get(key)
            if sid not in result.written and listed is not None and listed.schedule_id == sid:
                sent[key] = listed
            else:
                sent[key] = RemoteSlot(
                    schedule_id=sid,
                    digest="?",
                    content_digest=item.digests.get(key, "?"),
                    listing_digest=None,
                )
        return sent

    async def _refresh_pushed(self) -> None:
        """Record WeCom's own view of what was just written: batched `get`s of
        READ_BACK_CHUNK ids at a time (so a first sync of a big folder never
        holds every answer at once), each event recorded as soon as all its
        schedules were asked for. Only the events whose attendees' answers are
        written to the files afterwards keep the full schedules."""
        if not self.pushed:
            return
        pushed = list(self.pushed.items())
        written = [sid for _, r in pushed for sid in sorted(r.written)]
        fetched: dict[str, Schedule] = {}
        recorded = asked = 0  # events recorded; ids of the events recorded
        for start in range(0, max(len(written), 1), READ_BACK_CHUNK):
            chunk = written[start : start + READ_BACK_CHUNK]
            if chunk:
                try:
                    for s in await self.client.schedule_get(chunk):
                        if s.schedule_id:
                            fetched[s.schedule_id] = s
                except WeComError as exc:
                    # the writes stand; their digests stay unknown and are fetched next run
                    log.warning("could not read back the schedules just written: %s", exc)
            end = start + len(chunk)
            with self.db.transaction():
                while recorded < len(pushed) and asked + len(pushed[recorded][1].written) <= end:
                    uid, result = pushed[recorded]
                    self._record_read_back(uid, result, fetched)
                    recorded += 1
                    asked += len(result.written)

    def _record_read_back(self, uid: str, result: PushResult, fetched: dict[str, Schedule]) -> None:
        group = self.remote.groups.get(uid, {})
        keep_full = uid in self._keep_full
        now_group: dict[SlotKey, RemoteSlot] = {}
        for key, sid in result.slots.items():
            full = fetched.get(sid)
            read = _read_back(full) if full is not None and not full.is_cancelled else None
            if read is not None:
                now_group[key] = read if keep_full else replace(read, schedule=None, draft=None)
            elif sid not in result.written and key in group:
                now_group[key] = group[key]
            else:
                now_group[key] = RemoteSlot(
                    schedule_id=sid, digest="?", content_digest="?", listing_digest=None
                )
        for sid in result.written:
            fetched.pop(sid, None)
        self.db.put(self._status_for(uid, self.local.items.get(uid), now_group))
        if keep_full:
            self.remote.groups[uid] = now_group
        else:
            # nothing after this reads the event's WeCom side again
            self.remote.groups.pop(uid, None)


def _read_back(schedule: Schedule) -> RemoteSlot | None:
    """The slot of a schedule just written; None when WeCom's answer cannot be read
    (its digests stay unknown, and the next run looks again)."""
    try:
        return remote_slot(schedule, ldigest=None)
    except ValueError as exc:
        log.warning("could not read back schedule %s just written: %s", schedule.schedule_id, exc)
        return None


def skip_messages(plan: Plan) -> list[str]:
    return [f"{a.uid}: skipped: {a.reason}" for a in plan if isinstance(a, Skip)]


__all__ = ["DbJournal", "Executor", "StorageError", "skip_messages"]
