"""Deciding what a sync does: one pure function over three snapshots.

`plan(local, remote, status, options)` compares, per event UID, what the files
hold now, what WeCom holds now, and what both held at the end of the last
sync (the status), and returns a `Plan` value. It reads no file, calls no API
and touches no database, so the whole decision table is tested directly.

Everything is compared by digest in the canonical form (what WeCom can hold),
so a property WeCom cannot store never looks like a change. Attendee answers
count as a WeCom change (they are pulled into the file as PARTSTAT) but not as
a content difference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from wesync.config import ConflictPolicy, Direction
from wesync.sync.actions import (
    Action,
    Create,
    Delete,
    Forget,
    KeepBoth,
    Merge,
    Plan,
    Record,
    Side,
    Skip,
    Uid,
    Update,
)
from wesync.sync.occurrences import merge_occurrences


def slots_digest(digests: Mapping[str, str]) -> str:
    """One digest for an event from its per-slot digests (order-independent)."""
    h = hashlib.sha256()
    for slot, digest in sorted(digests.items()):
        h.update(f"{slot}\0{digest}\n".encode())
    return h.hexdigest()


#: the digest of an event with no schedules (all cancelled, or nothing pushed yet)
EMPTY_DIGEST = slots_digest({})


@dataclass(frozen=True, kw_only=True)
class LocalState:
    """One UID as the files hold it now."""

    uid: Uid
    href: str
    etag: str
    digest: str  #: content digest of its WeCom slots (responses excluded)
    summary: str = ""
    #: not to be touched this run (unparsable file, duplicate UID); the reason
    held: str | None = None
    #: the translator could not express it and the fallback is `skip`
    skipped: bool = False
    #: its slots come from the `expand` fallback: merged occurrence by occurrence
    expanded: bool = False
    #: expanded only: slot -> content digest (the occurrences merged one by one)
    slots: Mapping[str, str] | None = None


@dataclass(frozen=True, kw_only=True)
class RemoteState:
    """One UID's group of live WeCom schedules as WeCom holds them now."""

    uid: Uid
    digest: str  #: with attendee responses
    content_digest: str  #: without them, comparable with LocalState.digest
    summary: str = ""
    #: for an expanded event: slot -> content digest
    slots: Mapping[str, str] | None = None


@dataclass(frozen=True, kw_only=True)
class ItemStatus:
    """What both sides held after the last sync that touched this UID."""

    uid: Uid
    href: str | None
    local_etag: str | None
    local_digest: str
    remote_digest: str  #: with attendee answers
    #: without answers; None when unknown (then any WeCom change counts as content)
    remote_content_digest: str | None = None
    #: a write to this side was in flight when a run stopped; it is redone
    pending: Side | None = None
    #: for pending=LOCAL: the digest the file would have once that write landed
    #: ("" for a deletion), so a later edit by the user is still told apart
    pending_digest: str | None = None
    #: for an expanded event: slot -> local and WeCom content digests
    local_slots: Mapping[str, str] | None = None
    remote_slots: Mapping[str, str] | None = None


@dataclass(frozen=True, kw_only=True)
class PlanOptions:
    direction: Direction = Direction.TWO_WAY
    conflict: ConflictPolicy = ConflictPolicy.KEEP_BOTH


def plan(
    local: Mapping[Uid, LocalState],
    remote: Mapping[Uid, RemoteState],
    status: Mapping[Uid, ItemStatus],
    options: PlanOptions,
) -> Plan:
    """The actions that bring both sides together, in UID order."""
    actions: list[Action] = []
    for uid in sorted(set(local) | set(remote) | set(status)):
        action = decide(local.get(uid), remote.get(uid), status.get(uid), options, uid=uid)
        if action is not None:
            actions.append(action)
    return Plan(actions=tuple(actions))


def decide(
    loc: LocalState | None,
    rem: RemoteState | None,
    st: ItemStatus | None,
    options: PlanOptions,
    *,
    uid: Uid,
) -> Action | None:
    """The decision table for one UID."""
    direction = options.direction
    if loc is not None and loc.held:
        return Skip(uid=uid, reason=loc.held)
    if loc is not None and loc.skipped:
        # Never read "cannot express it" as "deleted": WeCom's copy stays as it was.
        return Skip(uid=uid, reason="WeCom cannot hold it (fallback = skip, or out of range)")
    if loc is not None and loc.expanded and st is not None:
        merged = _merge(loc, rem, st, options, uid=uid)
        if merged is not None:
            return merged
    if rem is None and st is not None and st.pending is None and st.remote_digest == EMPTY_DIGEST:
        # WeCom held no schedule for it last time either (e.g. a cancelled master);
        # a row that only marks an interrupted write has no such history.
        rem = RemoteState(uid=uid, digest=EMPTY_DIGEST, content_digest=EMPTY_DIGEST)

    local_changed = loc is not None and st is not None and loc.digest != st.local_digest
    remote_changed = rem is not None and st is not None and rem.digest != st.remote_digest
    content_changed = remote_changed and (
        st is None
        or st.remote_content_digest is None
        or (rem is not None and rem.content_digest != st.remote_content_digest)
    )
    if st is not None and st.pending is Side.LOCAL:
        # Our own write to the files was cut short: WeCom's version is the one to redo;
        # the file counts as changed only if it is neither the old nor our new version.
        local_changed = loc is not None and loc.digest not in (st.local_digest, st.pending_digest)
        remote_changed = content_changed = rem is not None
    elif st is not None and st.pending is Side.REMOTE:
        # Our own writes to WeCom were cut short: what WeCom shows is partly ours.
        local_changed, remote_changed, content_changed = loc is not None, False, False

    match (loc, rem, st):
        case (None, None, None):
            return None
        case (LocalState(), None, None):
            # new file
            if loc.digest == EMPTY_DIGEST:
                return Record(uid=uid, reason="nothing WeCom can hold (cancelled)")
            if direction is Direction.FROM_WECOM:
                return Skip(uid=uid, reason="new local event; direction is from-wecom")
            return Create(side=Side.REMOTE, uid=uid, reason="new local event")
        case (None, RemoteState(), None):
            # new in WeCom
            if direction is Direction.TO_WECOM:
                return Skip(uid=uid, reason="not created by wesync; direction is to-wecom")
            return Create(side=Side.LOCAL, uid=uid, reason="new in WeCom")
        case (LocalState(), RemoteState(), None):
            # on both sides with no history (paired on a first sync)
            if loc.digest == rem.content_digest:
                return Record(uid=uid, reason="same event on both sides")
            return _conflict(loc, options, reason="differs between the two sides")
        case (LocalState(), RemoteState(), ItemStatus()):
            # known on both sides
            if not local_changed and not remote_changed:
                if loc.href != st.href or loc.etag != st.local_etag:
                    return Record(uid=uid, reason="file touched, content unchanged")
                return None
            if local_changed and not remote_changed:
                if direction is Direction.FROM_WECOM:
                    return Update(side=Side.LOCAL, uid=uid, reason="local edit reverted")
                return Update(side=Side.REMOTE, uid=uid, reason="changed locally")
            if remote_changed and not local_changed:
                if direction is Direction.TO_WECOM:
                    return Update(side=Side.REMOTE, uid=uid, reason="WeCom edit reverted")
                if loc.expanded:
                    return Update(
                        side=Side.REMOTE,
                        uid=uid,
                        reason="WeCom edit of an expanded series reverted",
                    )
                return Update(side=Side.LOCAL, uid=uid, reason="changed in WeCom")
            if not content_changed:
                # only attendees answered in WeCom: the edit goes there, the answers come back
                if direction is Direction.FROM_WECOM:
                    return Update(side=Side.LOCAL, uid=uid, reason="local edit reverted")
                return Update(
                    side=Side.REMOTE,
                    uid=uid,
                    reason="changed locally; attendees answered in WeCom",
                    pull_answers=direction is Direction.TWO_WAY and not loc.expanded,
                )
            if loc.digest == rem.content_digest:
                return Record(uid=uid, reason="same change on both sides")
            return _conflict(loc, options, reason="changed on both sides")
        case (LocalState(), None, ItemStatus()):
            # deleted in WeCom
            if direction is Direction.TO_WECOM:
                return Create(side=Side.REMOTE, uid=uid, reason="deleted in WeCom; re-created")
            if local_changed and direction is Direction.TWO_WAY:
                return Create(
                    side=Side.REMOTE,
                    uid=uid,
                    reason="deleted in WeCom but changed locally; re-created",
                )
            return Delete(side=Side.LOCAL, uid=uid, reason="deleted in WeCom")
        case (None, RemoteState(), ItemStatus()):
            # deleted locally
            if direction is Direction.FROM_WECOM:
                return Create(side=Side.LOCAL, uid=uid, reason="deleted locally; re-created")
            if content_changed and direction is Direction.TWO_WAY:
                # (an attendee's answer alone does not bring a deleted event back)
                return Create(
                    side=Side.LOCAL,
                    uid=uid,
                    reason="deleted locally but changed in WeCom; re-created",
                )
            return Delete(side=Side.REMOTE, uid=uid, reason="deleted locally")
        case (None, None, ItemStatus()):
            # gone from both sides
            return Forget(uid=uid)
    raise AssertionError(f"unhandled case for {uid!r}")  # pragma: no cover


def _merge(
    loc: LocalState, rem: RemoteState | None, st: ItemStatus, options: PlanOptions, *, uid: Uid
) -> Action | None:
    """An expanded event known to both sides, merged occurrence by occurrence
    (wesync.sync.occurrences); None leaves it to the table (no per-occurrence
    digests, to-wecom, or a push of ours to finish first)."""
    if (
        options.direction is Direction.TO_WECOM
        or st.pending is Side.REMOTE
        or loc.slots is None
        or st.local_slots is None
        or st.remote_slots is None
        or (rem is not None and rem.slots is None)
    ):
        return None
    from_wecom = options.direction is Direction.FROM_WECOM
    remote = rem.slots if rem is not None and rem.slots is not None else {}
    m = merge_occurrences(
        loc.slots,
        remote,
        st.local_slots,
        st.remote_slots,
        policy=None if from_wecom else options.conflict,
    )
    if m.pull:
        return Merge(
            uid=uid,
            pull=m.pull,
            copies=tuple((k, _occurrence_copy_uid(uid, k, loc.slots)) for k in m.copies),
            push=m.push,
            conflicts=m.conflicts,
            reason=_merge_reason(m.pull, m.conflicts, options.conflict),
        )
    if m.push:
        if m.conflicts:
            reason = f"{m.conflicts} occurrences changed on both sides; file wins"
            return Update(side=Side.REMOTE, uid=uid, conflict=True, reason=reason)
        return Update(side=Side.REMOTE, uid=uid, reason="changed locally")
    changed = (
        loc.href != st.href
        or loc.etag != st.local_etag
        or loc.digest != st.local_digest
        or (rem.digest if rem is not None else EMPTY_DIGEST) != st.remote_digest
    )
    if not changed:
        return None
    # from-wecom: an occurrence changed in the file stays as the file has it
    return Record(uid=uid, reason="both sides hold the same occurrences")


def _conflict(loc: LocalState, options: PlanOptions, *, reason: str) -> Action:
    uid = loc.uid
    if options.direction is Direction.TO_WECOM:
        return Update(side=Side.REMOTE, uid=uid, reason=f"{reason}; the files win (to-wecom)")
    if options.direction is Direction.FROM_WECOM:
        return Update(side=Side.LOCAL, uid=uid, reason=f"{reason}; WeCom wins (from-wecom)")
    if loc.expanded:
        # An expanded series cannot take WeCom's edits back, so the file wins.
        return Update(side=Side.REMOTE, uid=uid, conflict=True, reason=f"{reason}; expanded series")
    match options.conflict:
        case ConflictPolicy.WECOM_WINS:
            return Update(side=Side.LOCAL, uid=uid, conflict=True, reason=f"{reason}; WeCom wins")
        case ConflictPolicy.LOCAL_WINS:
            return Update(side=Side.REMOTE, uid=uid, conflict=True, reason=f"{reason}; file wins")
        case ConflictPolicy.KEEP_BOTH:
            return KeepBoth(uid=uid, copy_uid=copy_uid(uid, loc.digest), reason=reason)


def _merge_reason(pull: tuple[str, ...], conflicts: int, policy: ConflictPolicy) -> str:
    reason = f"{len(pull)} occurrences changed in WeCom"
    if conflicts:
        reason += f"; {conflicts} changed on both sides ({policy.value})"
    return reason


def _occurrence_copy_uid(uid: Uid, slot: str, slots: Mapping[str, str]) -> Uid:
    return copy_uid(uid, slots_digest({slot: slots.get(slot, "")}))


def copy_uid(uid: Uid, digest: str) -> Uid:
    """The UID of the local copy kept by keep-both: stable, so a rerun reuses it."""
    return f"{uid}-conflict-{digest[:10]}"


def deletion_guard(
    plan: Plan, *, local_items: int, remote_items: int, limit: int = 5
) -> str | None:
    """Why the plan looks like a mass deletion, or None.

    More than half of a side's items (and more than `limit`) deleted in one
    run is far more often a moved folder or a wrong cal_id than intent.
    """
    for side, total in ((Side.LOCAL, local_items), (Side.REMOTE, remote_items)):
        n = plan.count(Delete, side)
        if n > limit and n * 2 > total:
            where = "local files" if side is Side.LOCAL else "WeCom schedules"
            return (
                f"this sync would delete {n} of {total} {where}; "
                "check the pair's path and cal_id, then rerun with --force if it is intended"
            )
    return None
