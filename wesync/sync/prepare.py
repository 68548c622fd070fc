"""Between reading both sides and planning: settle, pair up, and take snapshots.

- intents a killed run left behind are settled against the fresh listing;
- WeCom schedules no status row maps are paired with new local events that are
  the same event (summary, start, end), or else become new events of their own;
- the scans become the plain snapshots `wesync.sync.plan.plan` takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wesync.sync.listing import RemoteScan, remote_slot
from wesync.sync.local import LocalScan
from wesync.sync.plan import ItemStatus, LocalState, RemoteState
from wesync.sync.plan import slots_digest as _slots_digest
from wesync.sync.problems import SyncKind, SyncProblem, slot_recurrence_id
from wesync.sync.slots import is_retired, live, match_key
from wesync.sync.status import Intent, StatusDB, StatusItem
from wesync.wecom.models import Schedule


def live_ids(item: StatusItem, now: int) -> dict[str, str]:
    """slot -> schedule_id of the mapped slots that are not retired."""
    return {k: v for k, v in item.schedule_ids().items() if not is_retired(k, now)}


#: how long an add whose outcome a killed run never saw is watched for a late landing
WATCH_SECONDS = 86400.0


@dataclass(frozen=True)
class LateWrite:
    """A schedule a killed run's request created after the next run had redone it."""

    intent_id: int
    uid: str
    schedule_id: str


def reconcile_intents(
    db: StatusDB, remote: RemoteScan, *, now: float
) -> tuple[list[SyncProblem], list[LateWrite]]:
    """Settle the writes a killed run announced but never confirmed.

    An add that is not in the listing is redone by this run's plan, but its request
    was already sent and may still be applied (the server had it before the kill).
    So the intent is kept as a watch, and a schedule that later shows up matching it
    is returned as a late write for the caller to remove: it would otherwise become
    a second copy of the event.
    """
    messages: list[SyncProblem] = []
    late: list[LateWrite] = []
    intents = db.intents()
    if not intents:
        return messages, late
    with db.transaction():
        for intent in intents:
            assert intent.id is not None
            if intent.op in ("add", "split", "watch"):
                schedule = _take_unmapped(remote, intent)
                if schedule is None or schedule.schedule_id is None:
                    if intent.op != "watch":
                        db.watch_intent(intent.id)
                    elif now - intent.created > WATCH_SECONDS:
                        db.clear_intent(intent.id)
                    continue
                if intent.op == "watch":
                    late.append(LateWrite(intent.id, intent.uid, schedule.schedule_id))
                    continue
                db.map_slot(intent.uid, intent.slot, schedule.schedule_id)
                remote.groups.setdefault(intent.uid, {})[intent.slot] = remote_slot(
                    schedule, ldigest=None
                )
                messages.append(
                    SyncProblem.of(
                        SyncKind.INTERRUPTED_WRITE,
                        "adopted this schedule, created by an interrupted run",
                        uid=intent.uid,
                        recurrence_id=slot_recurrence_id(intent.slot),
                        schedule_id=schedule.schedule_id,
                    )
                )
            elif intent.op == "delete" and intent.schedule_id not in remote.live_ids:
                db.map_slot(intent.uid, intent.slot, None)
            db.clear_intent(intent.id)
    return messages, late


def _take_unmapped(remote: RemoteScan, intent: Intent) -> Schedule | None:
    """Remove and return the unmapped schedule this add would have created, if listed."""
    key = match_key(intent.summary, intent.start_time, intent.end_time)
    for i, (schedule, draft) in enumerate(remote.unmapped):
        if match_key(draft.summary, draft.start_time, draft.end_time) == key:
            del remote.unmapped[i]
            return schedule
    return None


def remember_listing(db: StatusDB, status: Mapping[str, StatusItem], remote: RemoteScan) -> None:
    """Store listing digests of schedules whose stored digests a `get` just confirmed,
    so the next run needs no `get` for them."""
    confirmed: dict[str, str] = {}
    for uid, group in remote.groups.items():
        item = status.get(uid)
        if item is None:
            continue
        for key, slot in group.items():
            old = item.slots.get(key)
            if (
                old is not None
                and slot.fetched
                and slot.listing_digest
                and old.schedule_id == slot.schedule_id
                and old.remote_digest == slot.digest
                and old.listing_digest != slot.listing_digest
            ):
                confirmed[slot.schedule_id] = slot.listing_digest
    if confirmed:
        with db.transaction():
            db.set_listing_digests(confirmed)


def pair_up(local: LocalScan, remote: RemoteScan, status: Mapping[str, StatusItem]) -> None:
    """Unmapped WeCom schedules that are the same event as a new local one
    (summary, start, end) become that event's slots instead of duplicates."""
    if not remote.unmapped:
        return
    index: dict[tuple[str, int, int], list[int]] = {}
    for i, (_, draft) in enumerate(remote.unmapped):
        index.setdefault(match_key(draft.summary, draft.start_time, draft.end_time), []).append(i)
    taken: set[int] = set()
    for uid, item in local.items.items():
        if uid in status or uid in remote.groups or item.matches is None:
            continue
        slots = item.matches
        primary = "" if "" in slots else None
        if primary is None:
            continue
        found: dict[str, int] = {}
        for key in ["", *sorted(k for k in slots if k)]:
            free = [i for i in index.get(match_key(*slots[key]), []) if i not in taken]
            if free:
                found[key] = free[0]
                taken.add(free[0])
            elif key == primary:
                break
        if primary not in found:
            taken.difference_update(found.values())
            continue
        group = remote.groups.setdefault(uid, {})
        for key, i in found.items():
            schedule, _ = remote.unmapped[i]
            group[key] = remote_slot(
                schedule, ldigest=remote.listing.get(schedule.schedule_id or "")
            )
    remote.unmapped = [u for i, u in enumerate(remote.unmapped) if i not in taken]


def name_new_remote(remote: RemoteScan) -> list[str]:
    """Give each remaining unmapped schedule an event UID of its own."""
    uids: list[str] = []
    for schedule, _ in remote.unmapped:
        sid = schedule.schedule_id
        assert sid is not None
        uid = f"{sid}@wecom"
        remote.groups.setdefault(uid, {})[""] = remote_slot(
            schedule, ldigest=remote.listing.get(sid)
        )
        uids.append(uid)
    remote.unmapped = []
    return uids


def snapshots(
    local: LocalScan, remote: RemoteScan, status: Mapping[str, StatusItem], now: int
) -> tuple[dict[str, LocalState], dict[str, RemoteState], dict[str, ItemStatus], dict[str, str]]:
    held = {**remote.held, **local.held}
    # an event both scans reused whole from the status is planned to do nothing:
    # it needs no snapshot at all
    same = _untouched(local, remote, status, held, now)
    # most events hold the same per-slot digests in the scans and the status
    memo: dict[frozenset[tuple[str, str]], str] = {}

    def slots_digest(digests: Mapping[str, str]) -> str:
        key = frozenset(digests.items())
        found = memo.get(key)
        if found is None:
            found = memo[key] = _slots_digest(digests)
        return found

    local_states = {
        uid: LocalState(
            uid=uid,
            href=item.href,
            etag=item.etag,
            digest=slots_digest(item.digests),
            summary=item.summary,
            skipped=item.skipped,
            expanded=item.expanded,
            slots=dict(item.digests) if item.expanded else None,
        )
        for uid, item in local.items.items()
        if uid not in held and uid not in same
    }
    # expanded events are merged occurrence by occurrence: they keep per-slot digests
    expanded = {uid for uid, s in local_states.items() if s.expanded}
    remote_states = {
        uid: RemoteState(
            uid=uid,
            digest=slots_digest({k: s.digest for k, s in group.items()}),
            content_digest=slots_digest({k: s.content_digest for k, s in group.items()}),
            summary=next((s.summary for s in group.values() if s.summary), ""),
            slots={k: s.content_digest for k, s in group.items()} if uid in expanded else None,
        )
        for uid, group in remote.groups.items()
        if group and uid not in held and uid not in same
    }
    status_states: dict[str, ItemStatus] = {}
    for uid, item in status.items():
        if uid in held or uid in same:
            continue
        if (
            item.href is None
            and not live_ids(item, now)
            and item.pending is None
            and uid not in local_states
            and uid not in remote_states
        ):
            continue  # a tombstone holding retired occurrences only
        local_digests = {k: s.local_digest for k, s in item.slots.items() if s.local_digest}
        mapped = [(k, s) for k, s in item.slots.items() if s.schedule_id is not None]
        remote_digests = {k: s.remote_digest for k, s in mapped}
        remote_contents = {k: s.remote_content for k, s in mapped}
        status_states[uid] = ItemStatus(
            uid=uid,
            href=item.href,
            local_etag=item.local_etag,
            local_digest=slots_digest(live(local_digests, now)),
            remote_digest=slots_digest(live(remote_digests, now)),
            remote_content_digest=slots_digest(live(remote_contents, now)),
            pending=item.pending,
            pending_digest=item.pending_digest,
            local_slots=live(local_digests, now) if uid in expanded else None,
            remote_slots=live(remote_contents, now) if uid in expanded else None,
        )
    return local_states, remote_states, status_states, held


def _untouched(
    local: LocalScan,
    remote: RemoteScan,
    status: Mapping[str, StatusItem],
    held: Mapping[str, str],
    now: int,
) -> set[str]:
    """The UIDs whose file and every live slot on both sides are the status's own
    (the very digest objects the scans took from it, so equal without hashing),
    file name and etag included: `plan` would decide nothing for them."""
    same: set[str] = set()
    groups = remote.groups
    for uid, loc in local.items.items():
        st = status.get(uid)
        if (
            st is None
            or st.pending is not None
            or loc.skipped
            or loc.href != st.href
            or loc.etag != st.local_etag
            or uid in held
        ):
            continue
        group = groups.get(uid) or {}
        digests = loc.digests
        n_local = n_remote = 0
        for key, s in st.slots.items():
            if is_retired(key, now):
                continue
            if s.local_digest:
                if digests.get(key) is not s.local_digest:
                    break
                n_local += 1
            elif s.local_digest is not None:
                break  # an empty digest: left to the full comparison
            if s.schedule_id is not None:
                r = group.get(key)
                if (
                    r is None
                    or not s.remote_digest
                    or not s.remote_content
                    or r.digest is not s.remote_digest
                    or r.content_digest is not s.remote_content
                ):
                    break
                n_remote += 1
        else:
            if n_local == len(digests) and n_remote == len(group):
                same.add(uid)
    return same
