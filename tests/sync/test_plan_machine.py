"""Two in-memory sides, a status, and random edits between syncs (after vdirsyncer's
SyncMachine): after every sync both sides hold the same events, a second plan has
nothing to do, and under keep-both no change a user made is lost."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from wesync.config import ConflictPolicy, Direction
from wesync.sync.actions import Create, Delete, Forget, KeepBoth, Record, Side, Skip, Update
from wesync.sync.plan import (
    ItemStatus,
    LocalState,
    PlanOptions,
    RemoteState,
    plan,
    slots_digest,
)

UIDS = st.sampled_from(["a", "b", "c", "d", "e"])
CONTENT = st.sampled_from(["x", "y", "z", "w"])


def content_digest(content: str) -> str:
    return slots_digest({"": content})


def full_digest(content: str, responses: str) -> str:
    return slots_digest({"": f"{content}|{responses}"})


@dataclass
class World:
    local: dict[str, tuple[str, int]] = field(default_factory=dict)  # uid -> (content, etag)
    remote: dict[str, tuple[str, str]] = field(default_factory=dict)  # uid -> (content, responses)
    status: dict[str, ItemStatus] = field(default_factory=dict)
    etags: int = 0

    def snapshot(self) -> tuple[dict[str, LocalState], dict[str, RemoteState]]:
        local = {
            u: LocalState(uid=u, href=f"{u}.ics", etag=str(e), digest=content_digest(c))
            for u, (c, e) in self.local.items()
        }
        remote = {
            u: RemoteState(uid=u, digest=full_digest(c, r), content_digest=content_digest(c))
            for u, (c, r) in self.remote.items()
        }
        return local, remote

    def write_local(self, uid: str, content: str) -> None:
        self.etags += 1
        self.local[uid] = (content, self.etags)

    def kill_during(self, action: object) -> None:
        """What the engine leaves behind when killed inside `action`: the item marked
        pending for the side being written, and that side half-written."""
        match action:
            case (
                Create(side=Side.REMOTE, uid=uid)
                | Update(side=Side.REMOTE, uid=uid)
                | Delete(side=Side.REMOTE, uid=uid)
            ):
                self.mark_pending(uid, Side.REMOTE)
                self.remote[uid] = ("half-written", "")
            case Create(side=Side.LOCAL, uid=uid) | Update(side=Side.LOCAL, uid=uid):
                # file writes are atomic: the new version is there, the status is not
                self.mark_pending(uid, Side.LOCAL, content_digest(self.remote[uid][0]))
                self.write_local(uid, self.remote[uid][0])

    def mark_pending(self, uid: str, side: Side, digest: str | None = None) -> None:
        old = self.status.get(uid)
        empty = slots_digest({})
        self.status[uid] = ItemStatus(
            uid=uid,
            href=old.href if old else None,
            local_etag=old.local_etag if old else None,
            local_digest=old.local_digest if old else empty,
            remote_digest=old.remote_digest if old else empty,
            remote_content_digest=old.remote_content_digest if old else empty,
            pending=side,
            pending_digest=digest,
        )

    def record(self, uid: str) -> None:
        c, e = self.local[uid]
        rc, rr = self.remote[uid]
        self.status[uid] = ItemStatus(
            uid=uid,
            href=f"{uid}.ics",
            local_etag=str(e),
            local_digest=content_digest(c),
            remote_digest=full_digest(rc, rr),
            remote_content_digest=content_digest(rc),
        )

    def sync(self, options: PlanOptions, *, stop_at: int | None = None) -> bool:
        """One sync; with `stop_at`, the run is killed in the middle of that action.
        True when the run completed."""
        local, remote = self.snapshot()
        for n, action in enumerate(plan(local, remote, self.status, options)):
            uid = action.uid
            if n == stop_at:
                self.kill_during(action)
                return False
            match action:
                case Create(side=Side.REMOTE) | Update(side=Side.REMOTE):
                    responses = self.remote.get(uid, ("", ""))[1]
                    self.remote[uid] = (self.local[uid][0], responses)
                    self.record(uid)
                case Create(side=Side.LOCAL) | Update(side=Side.LOCAL):
                    self.write_local(uid, self.remote[uid][0])
                    self.record(uid)
                case Delete(side=Side.LOCAL):
                    del self.local[uid]
                    del self.status[uid]
                case Delete(side=Side.REMOTE):
                    del self.remote[uid]
                    del self.status[uid]
                case KeepBoth(copy_uid=copy):
                    mine = self.local[uid][0]
                    self.write_local(copy, mine)
                    self.remote[copy] = (mine, "")
                    self.record(copy)
                    self.write_local(uid, self.remote[uid][0])
                    self.record(uid)
                case Record():
                    self.record(uid)
                case Forget():
                    del self.status[uid]
                case Skip():
                    pass
        return True


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World()
        self.options = PlanOptions()
        #: the latest content a user wrote on (side, uid) since the last sync
        self.unsynced: dict[tuple[Side, str], str] = {}
        #: uid -> content both sides held after the last sync
        self.synced: dict[str, str] = {}

    def _note(self, side: Side, uid: str, content: str) -> None:
        # an edit back to what was last synced is no change at all; and an edit in WeCom
        # of an event a killed run was writing there, before the next run, is the
        # documented exception: the next run finishes its write over it
        st = self.world.status.get(uid)
        if self.synced.get(uid) == content or (
            side is Side.REMOTE and st is not None and st.pending is Side.REMOTE
        ):
            self.unsynced.pop((side, uid), None)
        else:
            self.unsynced[side, uid] = content

    @initialize(
        policy=st.sampled_from(list(ConflictPolicy)),
        direction=st.sampled_from([Direction.TWO_WAY, Direction.TWO_WAY, *Direction]),
    )
    def choose_policy(self, policy: ConflictPolicy, direction: Direction) -> None:
        self.options = PlanOptions(direction=direction, conflict=policy)

    @rule(uid=UIDS, content=CONTENT)
    def edit_local(self, uid: str, content: str) -> None:
        self.world.write_local(uid, content)
        self._note(Side.LOCAL, uid, content)

    @rule(uid=UIDS, content=CONTENT)
    def edit_remote(self, uid: str, content: str) -> None:
        responses = self.world.remote.get(uid, ("", ""))[1]
        self.world.remote[uid] = (content, responses)
        self._note(Side.REMOTE, uid, content)

    @precondition(lambda self: bool(self.world.remote))
    @rule(data=st.data())
    def answer_in_wecom(self, data: st.DataObject) -> None:
        uid = data.draw(st.sampled_from(sorted(self.world.remote)))
        answer = data.draw(st.sampled_from(["accept", "decline"]))
        content, _ = self.world.remote[uid]
        self.world.remote[uid] = (content, answer)

    @precondition(lambda self: bool(self.world.local))
    @rule(data=st.data())
    def delete_local(self, data: st.DataObject) -> None:
        uid = data.draw(st.sampled_from(sorted(self.world.local)))
        del self.world.local[uid]
        self.unsynced.pop((Side.LOCAL, uid), None)

    @precondition(lambda self: bool(self.world.remote))
    @rule(data=st.data())
    def delete_remote(self, data: st.DataObject) -> None:
        uid = data.draw(st.sampled_from(sorted(self.world.remote)))
        del self.world.remote[uid]
        self.unsynced.pop((Side.REMOTE, uid), None)

    @rule(stop_at=st.integers(min_value=0, max_value=6))
    def killed_sync(self, stop_at: int) -> None:
        # nothing is promised yet: the next full sync must still converge
        if self.world.sync(self.options, stop_at=stop_at):
            self.check_synced()

    @rule()
    def sync(self) -> None:
        self.world.sync(self.options)
        self.check_synced()

    def check_synced(self) -> None:
        contents = {c for c, _ in self.world.local.values()}
        direction = self.options.direction
        if self.options.conflict is ConflictPolicy.KEEP_BOTH and direction is Direction.TWO_WAY:
            lost = {k: c for k, c in self.unsynced.items() if c not in contents}
            assert not lost, f"user changes lost: {lost}"
        self.unsynced.clear()
        self.synced = {u: c for u, (c, _) in self.world.local.items()}
        local, remote = self.world.snapshot()
        again = plan(local, remote, self.world.status, self.options)
        busy = [a for a in again.actions if not isinstance(a, Skip)]
        assert not busy, f"second sync is not a no-op: {busy}"
        status = set(self.world.status)
        for uid in status:
            assert self.world.local[uid][0] == self.world.remote[uid][0]
        if direction is Direction.TWO_WAY:
            assert set(self.world.local) == set(self.world.remote) == status
        elif direction is Direction.TO_WECOM:
            # every file is in WeCom as it is; WeCom-only schedules are left alone
            assert set(self.world.local) == status
        else:
            assert set(self.world.remote) == status


SyncMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=30, deadline=None)
TestSyncMachine = SyncMachine.TestCase


def test_full_sync_converges() -> None:
    world = World()
    world.write_local("a", "x")
    world.remote["w"] = ("y", "")
    world.sync(PlanOptions())
    assert {u: c for u, (c, _) in world.local.items()} == {
        u: c for u, (c, _) in world.remote.items()
    }
