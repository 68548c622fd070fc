"""Writing one event to WeCom: from the schedules it has to the slots it should have.

WeCom's model shapes the steps:

- a series with removed occurrences is written as the series, then one
  ``del op_mode=1`` per removed occurrence (exclude_time_list is read-only);
- a RECURRENCE-ID override is split off the series with ``update op_mode=1``,
  which answers with the new single schedule's id; WeCom refuses that (90488)
  when the override starts before its original occurrence's day (in the
  series' timezone), so such an override is written as an exclusion of the
  occurrence (``del op_mode=1``) plus a single schedule of its own (``add``),
  kept under the same override slot;
- a RECURRENCE-ID that names no occurrence of the series (an extra meeting
  added to it, one before its start or after its end) cannot be split off:
  WeCom refuses an op_start_time that is not an occurrence (90482). Such an
  override is a single schedule of its own (``add``), with no exclusion;
- WeCom cannot bring an excluded occurrence back, so a series whose rule or
  start changed, or whose exclusions shrank, is deleted and created again;
- ``update`` overwrites, so it always carries the whole schedule, including
  the fields wesync does not know (`Schedule.extra`, and the reminders' and
  attendees' own) taken from the schedule WeCom holds now;
- a one-off schedule cannot have its start moved into the past (90706): it
  is deleted and added again instead.

Every call is announced to the `Journal` first (an intent committed to the
status database) and confirmed after, so a run killed between the two can
tell on restart whether the write landed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from wesync.errors import WesyncError
from wesync.sync.status import Intent
from wesync.translate import series
from wesync.translate.canonical import MASTER, ScheduleDraft, SlotKey, slot_start
from wesync.translate.remote import schedule_from_draft
from wesync.wecom.constants import ERR_START_BEFORE_OP_START, OP_THIS
from wesync.wecom.errors import (
    InvalidParameterError,
    NotFoundError,
    StartInPastError,
    WeComAPIError,
    WeComTransportError,
)
from wesync.wecom.models import Schedule

log = logging.getLogger("wesync.sync")


class ScheduleWriter(Protocol):
    async def schedule_add(self, schedule: Schedule) -> str: ...

    async def schedule_update(
        self,
        schedule: Schedule,
        *,
        skip_attendees: bool = False,
        op_mode: int = 0,
        op_start_time: int | None = None,
    ) -> str: ...

    async def schedule_del(
        self, schedule_id: str, *, op_mode: int = 0, op_start_time: int | None = None
    ) -> None: ...

    async def schedule_get(self, schedule_ids: Sequence[str]) -> list[Schedule]: ...


class AddDeferred(WesyncError):
    """An add that is not to be sent now (the daily creation quota): raised by
    `Journal.intend` before anything is recorded or sent."""


class Journal(Protocol):
    def intend(self, intent: Intent) -> int:
        """Record (and commit) a write about to be made; returns its id. May raise
        AddDeferred for an add: then nothing was recorded."""
        ...

    def landed(self, intent_id: int, *, slot: SlotKey, schedule_id: str | None) -> None:
        """The write was made: clear the intent and map `slot` (None: unmapped)."""
        ...

    def done(self, intent_id: int) -> None:
        """The write was made and changes no mapping."""
        ...

    async def refused(self, exc: BaseException) -> bool:
        """Whether `exc`, just raised by an add that surely did not land, is WeCom
        refusing the daily creation quota: then the add waits (AddDeferred) and
        the event's other writes go on."""
        ...


@dataclass(frozen=True, kw_only=True)
class OldSlot:
    schedule_id: str
    draft: ScheduleDraft
    #: the schedule as WeCom holds it (None: not fetched), for what the draft lacks
    schedule: Schedule | None = None


@dataclass(kw_only=True)
class PushResult:
    slots: dict[SlotKey, str] = field(default_factory=dict)  #: slot -> schedule_id now
    written: set[str] = field(default_factory=set)  #: schedule ids added or changed
    deleted: set[str] = field(default_factory=set)  #: schedule ids deleted
    #: after an update of a series with exclusions: whether WeCom kept them (None:
    #: not looked); the engine learns WeCom's answer from it and stops looking
    exclusions_kept: bool | None = None
    calls: int = 0


@dataclass
class _Push:
    client: ScheduleWriter
    journal: Journal
    uid: str
    cal_id: str
    result: PushResult

    def _intent(self, slot: SlotKey, op: str, sid: str | None, d: ScheduleDraft | None) -> int:
        return self.journal.intend(
            Intent(
                uid=self.uid,
                slot=slot,
                op=op,
                schedule_id=sid,
                summary=d.summary if d else "",
                start_time=d.start_time if d else None,
                end_time=d.end_time if d else None,
            )
        )

    @contextlib.contextmanager
    def _unless_lost(self, intent: int) -> Iterator[None]:
        """Drop the intent when the call surely did not land; keep it when the
        answer was lost after sending (the next run looks at WeCom first)."""
        try:
            yield
        except WeComTransportError as exc:
            if not exc.maybe_applied:
                self.journal.done(intent)
            raise
        except Exception:
            self.journal.done(intent)
            raise

    def _schedule(self, draft: ScheduleDraft, sid: str | None = None) -> Schedule:
        schedule = schedule_from_draft(draft, cal_id=self.cal_id)
        return replace(schedule, schedule_id=sid) if sid else schedule

    async def add(self, slot: SlotKey, draft: ScheduleDraft, intent: int | None = None) -> str:
        """Add a schedule; `intent`: the add's intent, when recorded already."""
        if intent is None:
            intent = self._intent(slot, "add", None, draft)
        try:
            with self._unless_lost(intent):
                sid = await self.client.schedule_add(self._schedule(draft))
        except WeComAPIError as exc:
            if await self.journal.refused(exc):
                raise AddDeferred("WeCom refused the daily creation quota") from exc
            raise
        self.result.calls += 1
        self.journal.landed(intent, slot=slot, schedule_id=sid)
        self.result.slots[slot] = sid
        self.result.written.add(sid)
        return sid

    async def update(
        self, slot: SlotKey, sid: str, draft: ScheduleDraft, previous: Schedule | None = None
    ) -> str:
        intent = self._intent(slot, "update", sid, draft)
        try:
            with self._unless_lost(intent):
                await self.client.schedule_update(carry_over(self._schedule(draft, sid), previous))
        except StartInPastError:
            # WeCom refuses to move a one-off's start into the past; a new one may start there
            return await self.recreate(slot, sid, draft)
        self.result.calls += 1
        self.journal.done(intent)
        self.result.slots[slot] = sid
        self.result.written.add(sid)
        return sid

    async def recreate(self, slot: SlotKey, sid: str, draft: ScheduleDraft) -> str:
        """Delete a schedule and add it again. The add's intent is recorded first, so
        that an add the daily creation quota holds back (AddDeferred) deletes nothing."""
        intent = self._intent(slot, "add", None, draft)
        try:
            await self.delete(slot, sid)
        except BaseException:
            self.journal.done(intent)  # the add was not sent
            raise
        return await self.add(slot, draft, intent)

    async def delete(self, slot: SlotKey, sid: str) -> None:
        intent = self._intent(slot, "delete", sid, None)
        try:
            with self._unless_lost(intent):
                await self.client.schedule_del(sid)
        except NotFoundError:
            pass  # already gone (deleted in WeCom meanwhile): the goal is reached
        self.result.calls += 1
        self.journal.landed(intent, slot=slot, schedule_id=None)
        self.result.slots.pop(slot, None)
        self.result.deleted.add(sid)

    async def exclusions_of(self, sid: str) -> frozenset[int]:
        """The occurrences the series `sid` lacks in WeCom now, as `get` shows them."""
        for schedule in await self.client.schedule_get([sid]):
            if schedule.schedule_id == sid and schedule.reminders is not None:
                return frozenset(schedule.reminders.exclude_time_list or ())
        return frozenset()

    async def exclude(self, master: str, at: int) -> None:
        intent = self._intent(MASTER, "exclude", master, None)
        with self._unless_lost(intent):
            await self.client.schedule_del(master, op_mode=OP_THIS, op_start_time=at)
        self.result.calls += 1
        self.journal.done(intent)
        self.result.written.add(master)

    async def split(
        self, master: str, slot: SlotKey, at: int, draft: ScheduleDraft, *, timezone: int
    ) -> str:
        """One occurrence of the series becomes its own schedule (a RECURRENCE-ID override).

        `timezone` is the series' whole-hour offset: WeCom measures the
        occurrence's day in it."""
        if draft.start_time < local_day_start(at, timezone):
            # WeCom refuses to split an occurrence off to an earlier day (90488)
            await self.exclude(master, at)
            return await self.add(slot, draft)
        intent = self._intent(slot, "split", master, draft)
        try:
            with self._unless_lost(intent):
                sid = await self.client.schedule_update(
                    self._schedule(draft, master), op_mode=OP_THIS, op_start_time=at
                )
        except InvalidParameterError as exc:
            if exc.errcode != ERR_START_BEFORE_OP_START:
                raise
            # WeCom drew the day line elsewhere than `local_day_start`: exclude, then add
            log.warning("split of %s at %s refused (%s); excluding and adding", master, at, exc)
            await self.exclude(master, at)
            return await self.add(slot, draft)
        self.result.calls += 1
        self.journal.landed(intent, slot=slot, schedule_id=sid)
        self.result.slots[slot] = sid
        self.result.written.add(sid)
        self.result.written.add(master)
        return sid


def local_day_start(instant: int, timezone: int) -> int:
    """The instant at which the day holding `instant` begins, at UTC offset
    `timezone` hours (how WeCom tells an op_mode=1 edit's day, see 90488)."""
    offset = timezone * 3600
    return (instant + offset) // 86400 * 86400 - offset


def carry_over(schedule: Schedule, previous: Schedule | None) -> Schedule:
    """`schedule` with the unknown fields of `previous` (the same schedule as WeCom
    holds it) put back: an update overwrites the whole schedule, so whatever
    wesync does not model would otherwise be lost. Known fields come from
    `schedule`; an attendee's own extra fields follow its userid."""
    if previous is None:
        return schedule
    extra = {**previous.extra, **schedule.extra}
    reminders = schedule.reminders
    if reminders is not None and previous.reminders is not None and previous.reminders.extra:
        reminders = replace(reminders, extra={**previous.reminders.extra, **reminders.extra})
    attendees = schedule.attendees
    before = {a.userid: a for a in previous.attendees or ()}
    if attendees is not None and any(
        before[a.userid].extra for a in attendees if a.userid in before
    ):
        attendees = tuple(
            replace(a, extra={**before[a.userid].extra, **a.extra}) if a.userid in before else a
            for a in attendees
        )
    return replace(schedule, extra=extra, reminders=reminders, attendees=attendees)


def _exclusions(draft: ScheduleDraft | None) -> frozenset[int]:
    if draft is None or draft.recurrence is None:
        return frozenset()
    return frozenset(draft.recurrence.exclude_times)


def _series_key(draft: ScheduleDraft) -> object:
    """What cannot change without re-creating the series. The end (repeat_until)
    can: an update moves it in place, keeping the schedule and its answers."""
    rec = draft.recurrence
    if rec is None:
        return None
    return (replace(rec, exclude_times=(), repeat_until=0), draft.start_time, draft.is_whole_day)


def _within(times: frozenset[int], draft: ScheduleDraft) -> frozenset[int]:
    """The exclusions that still name occurrences once the series ends where `draft` says."""
    until = draft.recurrence.repeat_until if draft.recurrence else 0
    return times if not until else frozenset(t for t in times if t <= until)


async def push_event(
    client: ScheduleWriter,
    journal: Journal,
    *,
    uid: str,
    cal_id: str,
    old: Mapping[SlotKey, OldSlot],
    new: Mapping[SlotKey, ScheduleDraft],
    exclusions_kept: bool = False,
) -> PushResult:
    """Make WeCom hold `new` for this event, given the schedules it has (`old`).
    `exclusions_kept`: WeCom is known to keep a series' exclusions on update (no
    need to read them back).

    Slots absent from both are not touched; the caller leaves retired
    expanded occurrences out of both.
    """
    result = PushResult(slots={k: o.schedule_id for k, o in old.items()})
    p = _Push(client=client, journal=journal, uid=uid, cal_id=cal_id, result=result)
    old_master = old.get(MASTER)
    new_master = new.get(MASTER)
    overrides_new = {k for k in new if k.startswith("R:")}

    master_id: str | None = old_master.schedule_id if old_master else None
    #: occurrences the master already lacks in WeCom
    excluded: frozenset[int] = _exclusions(old_master.draft) if old_master else frozenset()

    if old_master is not None and new_master is None:
        await p.delete(MASTER, old_master.schedule_id)
        master_id = None
    elif new_master is not None:
        wanted = _exclusions(new_master)
        base = replace(new_master, recurrence=None)
        if new_master.recurrence is not None:
            base = replace(new_master, recurrence=replace(new_master.recurrence, exclude_times=()))
        if old_master is None:
            master_id = await p.add(MASTER, base)
            excluded = frozenset()
        elif old_master.draft.content_digest() != new_master.content_digest():
            excluded = _within(excluded, new_master)
            if not recreates_master(old_master.draft, new_master):
                old_base = replace(old_master.draft, recurrence=None)
                if old_master.draft.recurrence is not None:
                    old_base = replace(
                        old_master.draft,
                        recurrence=replace(old_master.draft.recurrence, exclude_times=()),
                    )
                if old_base.content_digest() != base.content_digest():
                    await p.update(MASTER, old_master.schedule_id, base, old_master.schedule)
                    if excluded and not exclusions_kept:
                        # an update is a full replace, and whether it keeps the series'
                        # exclusions is undocumented: look, and restore what is needed
                        before = excluded
                        excluded = await p.exclusions_of(old_master.schedule_id)
                        result.exclusions_kept = before <= excluded
            else:
                # WeCom cannot un-exclude or re-shape a series: delete and create it again
                master_id = await p.recreate(MASTER, old_master.schedule_id, base)
                excluded = frozenset()
        if master_id is not None and new_master.recurrence is not None:
            for at in sorted(wanted - excluded):
                key = f"R:{at}"
                if key in overrides_new and key not in old:
                    continue  # split below: that excludes it too
                await p.exclude(master_id, at)

    # an add the quota defers (see AddDeferred) leaves the other slots to be written;
    # the event then fails as a whole, so it stays pending and the next run adds it
    # (a deferred master is raised at once: the occurrences hang on it)
    deferred = 0
    for key in sorted(set(old) | set(new)):
        if key == MASTER:
            continue
        try:
            await _push_slot(
                p,
                key,
                before=old.get(key),
                after=new.get(key),
                master_id=master_id,
                new_master=new_master,
                excluded=excluded,
            )
        except AddDeferred:
            deferred += 1
    if deferred:
        raise AddDeferred(f"{deferred} schedules wait for the daily creation quota")
    return result


async def _push_slot(
    p: _Push,
    key: SlotKey,
    *,
    before: OldSlot | None,
    after: ScheduleDraft | None,
    master_id: str | None,
    new_master: ScheduleDraft | None,
    excluded: frozenset[int],
) -> None:
    """Write one slot other than the master (push_event's loop)."""
    if before is not None and after is None:
        await p.delete(key, before.schedule_id)
    elif before is None and after is not None:
        start = slot_start(key)
        if (
            key.startswith("R:")
            and master_id is not None
            and new_master is not None
            and new_master.recurrence is not None
            and start is not None
            and start not in excluded
            # an override of no occurrence is an extra schedule (see above)
            and series.is_occurrence(new_master.start_time, new_master.recurrence, start)
        ):
            await p.split(master_id, key, start, after, timezone=new_master.recurrence.timezone)
        else:
            await p.add(key, after)
    elif (
        before is not None
        and after is not None
        and before.draft.content_digest() != after.content_digest()
    ):
        await p.update(key, before.schedule_id, after, before.schedule)


def recreates_master(old: ScheduleDraft, new: ScheduleDraft) -> bool:
    """Whether push_event deletes the series and adds it again (WeCom cannot
    un-exclude an occurrence or re-shape a series) rather than updating it."""
    if old.content_digest() == new.content_digest():
        return False
    same_series = _series_key(old) == _series_key(new)
    return not (same_series and _within(_exclusions(old), new) <= _exclusions(new))


def planned_adds(
    old: Mapping[SlotKey, OldSlot], new: Mapping[SlotKey, ScheduleDraft]
) -> list[SlotKey]:
    """The slots push_event(old, new) adds schedules for: those `new` has and `old`
    lacks, and the master when the series is created again. An override split off
    the series (no add) is counted too, as WeCom may refuse the split and make it
    one; an update refused for a start in the past (delete + add) is not foreseen."""
    adds = [k for k in new if k not in old]
    master, before = new.get(MASTER), old.get(MASTER)
    if master is not None and before is not None and recreates_master(before.draft, master):
        adds.append(MASTER)
    return adds


async def delete_event(
    client: ScheduleWriter, journal: Journal, *, uid: str, schedule_ids: Mapping[SlotKey, str]
) -> PushResult:
    """Delete every schedule of an event (overrides first, then the series)."""
    result = PushResult(slots=dict(schedule_ids))
    p = _Push(client=client, journal=journal, uid=uid, cal_id="", result=result)
    for key in sorted(schedule_ids, key=lambda k: k == MASTER):
        await p.delete(key, schedule_ids[key])
    return result
