"""Two in-memory sides, a status, and random edits between syncs (after vdirsyncer's
SyncMachine): after every sync both sides hold the same events, a second plan has
nothing to do, and under keep-both no change a user made is lost."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from wesync.config import ConflictPolicy, Direction
from wesync.sync.actions import (
    Action,
    Create,
    Delete,
    Forget,
    KeepBoth,
    Record,
    Side,
    Skip,
    Update,
)
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
    #: the actions the last sync completed
    done: list[Action] = field(default_factory=list)

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

    def kill_during(self, action: object, phase: int = 1) -> None:
        """What the engine leaves behind when killed inside `action`: the item marked
        pending for the side being written, and (from `phase` 1 on) that side written
        (a file atomically, WeCom by halves). Inside a keep-both, in the executor's
        order: 0 the local copy saved; 1 WeCom's version written into the file too;
        2 both recorded and the copy marked for its push to WeCom; 3 that push half done."""
        match action:
            case (
                Create(side=Side.REMOTE, uid=uid)
                | Update(side=Side.REMOTE, uid=uid)
                | Delete(side=Side.REMOTE, uid=uid)
            ):
                self.mark_pending(uid, Side.REMOTE)
                if phase:
                    self.remote[uid] = ("half-written", "")
            case Create(side=Side.LOCAL, uid=uid) | Update(side=Side.LOCAL, uid=uid):
                # file writes are atomic: the new version is there, the status is not
                self.mark_pending(uid, Side.LOCAL, content_digest(self.remote[uid][0]))
                if phase:
                    self.write_local(uid, self.remote[uid][0])
            case Delete(side=Side.LOCAL, uid=uid):
                self.mark_pending(uid, Side.LOCAL, "")
                if phase:
                    del self.local[uid]
            case KeepBoth(uid=uid, copy_uid=copy):
                # (a copy an earlier run saved is reused, and pushed as a new event)
                new_copy = copy not in self.local
                self.write_local(copy, self.local[uid][0])
                if phase >= 1:
                    self.mark_pending(uid, Side.LOCAL, content_digest(self.remote[uid][0]))
                    self.write_local(uid, self.remote[uid][0])
                if phase >= 2:
                    self.record(uid)
                    if new_copy:
                        self.mark_pending(copy, Side.REMOTE)
                if phase >= 3 and new_copy:
                    self.remote[copy] = ("half-written", "")

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

    def sync(self, options: PlanOptions, *, stop_at: int | None = None, phase: int = 0) -> bool:
        """One sync; with `stop_at`, the run is killed in the middle of that action
        (`phase`: how far into it). True when the run completed; `self.done` lists
        the actions that completed before."""
        local, remote = self.snapshot()
        self.done = []
        for n, action in enumerate(plan(local, remote, self.status, options)):
            uid = action.uid
            if n == stop_at:
                self.kill_during(action, phase)
                return False
            self.done.append(action)
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
        # documented exception: the next run finishes its write over it (the push the
        # kill cut short; a push that returned is recorded at once, like every action
        # here, so later WeCom edits of it count)
        # The same holds for a file written with exactly the content a killed run was
        # writing there: its bytes are all wesync has, so it is that write, landed.
        st = self.world.status.get(uid)
        if (
            self.synced.get(uid) == content
            or (side is Side.REMOTE and st is not None and st.pending is Side.REMOTE)
            or (
                side is Side.LOCAL
                and st is not None
                and st.pending is Side.LOCAL
                and st.pending_digest == content_digest(content)
            )
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
        self.delete(Side.LOCAL, data.draw(st.sampled_from(sorted(self.world.local))))

    @precondition(lambda self: bool(self.world.remote))
    @rule(data=st.data())
    def delete_remote(self, data: st.DataObject) -> None:
        self.delete(Side.REMOTE, data.draw(st.sampled_from(sorted(self.world.remote))))

    def delete(self, side: Side, uid: str) -> None:
        del (self.world.local if side is Side.LOCAL else self.world.remote)[uid]
        self.unsynced.pop((side, uid), None)

    @rule(stop_at=st.integers(min_value=0, max_value=6), phase=st.integers(0, 3))
    def killed_sync(self, stop_at: int, phase: int) -> None:
        # nothing is promised yet: the next full sync must still converge
        if self.world.sync(self.options, stop_at=stop_at, phase=phase):
            self.check_synced()
        else:
            self.credit(self.world.done)

    def credit(self, actions: list[Action]) -> None:
        """The actions a killed run completed brought their events in sync: what
        both sides now hold is synced (a user may delete or change it again)."""
        world = self.world
        for action in actions:
            uids = [action.uid, *([action.copy_uid] if isinstance(action, KeepBoth) else [])]
            held = {
                world.local[u][0]
                for u in uids
                if u in world.local
                and u in world.remote
                and world.local[u][0] == world.remote[u][0]
                and u in world.status
                and world.status[u].pending is None
            }
            for u in uids:
                if u in world.local and world.local[u][0] in held:
                    self.synced[u] = world.local[u][0]
                elif u not in world.local and u not in world.remote:
                    self.synced.pop(u, None)
            for side in Side:
                if self.unsynced.get((side, action.uid)) in held:
                    del self.unsynced[side, action.uid]

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


def test_an_event_a_killed_run_synced_may_then_be_deleted() -> None:
    """Found by the machine (keep-both): a run pulls WeCom's new event `a` into a file
    and is killed pushing `b`; the user then deletes `a`'s file. Deleting `a` in WeCom
    too loses nothing: its WeCom version had reached the files before the user's
    deletion (the machine used to flag it, as if the killed run had synced nothing)."""
    machine = SyncMachine()
    machine.choose_policy(policy=ConflictPolicy.KEEP_BOTH, direction=Direction.TWO_WAY)
    machine.edit_remote(content="y", uid="a")
    machine.edit_local(content="x", uid="b")
    machine.killed_sync(stop_at=1, phase=1)
    assert machine.world.local["a"][0] == "y"
    machine.delete(Side.LOCAL, "a")
    machine.sync()
    assert machine.world.local == {"b": ("x", machine.world.local["b"][1])}
    assert machine.world.remote == {"b": ("x", "")}


def test_a_keep_both_killed_after_saving_the_copy_loses_neither_version() -> None:
    world = World()
    world.write_local("a", "x")
    world.sync(PlanOptions())
    world.write_local("a", "y")
    world.remote["a"] = ("z", "")
    for phase in range(4):
        killed = World(local=dict(world.local), remote=dict(world.remote))
        killed.status = dict(world.status)
        assert not killed.sync(PlanOptions(), stop_at=0, phase=phase)
        assert killed.sync(PlanOptions())
        contents = sorted(c for c, _ in killed.local.values())
        assert contents == sorted(c for c, _ in killed.remote.values()) == ["y", "z"], phase


def test_a_file_equal_to_the_write_a_killed_run_was_making_is_that_write() -> None:
    """Found by the machine (keep-both): a run is killed about to write WeCom's new
    event `a` into a file; WeCom then deletes `a`, and a file `a` appears holding
    exactly what that write would have written. wesync cannot tell it from its own
    write having landed, so it follows WeCom's deletion."""
    machine = SyncMachine()
    machine.choose_policy(policy=ConflictPolicy.KEEP_BOTH, direction=Direction.TWO_WAY)
    machine.edit_remote(content="y", uid="a")
    machine.edit_remote(content="x", uid="b")
    machine.killed_sync(phase=0, stop_at=0)
    machine.delete(Side.REMOTE, "a")
    machine.edit_local(content="y", uid="a")
    machine.sync()
    assert "a" not in machine.world.local and "a" not in machine.world.remote
