"""The occurrence-by-occurrence merge of expanded events (pure), and plan's use of it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wesync.config import ConflictPolicy, Direction
from wesync.sync.actions import Merge, Record, Side, Update
from wesync.sync.occurrences import merge_occurrences
from wesync.sync.plan import ItemStatus, LocalState, PlanOptions, RemoteState, decide, slots_digest

POLICIES = (ConflictPolicy.KEEP_BOTH, ConflictPolicy.WECOM_WINS, ConflictPolicy.LOCAL_WINS)

#: what happened to one occurrence on one side since the last sync
SIDE_EVENTS = ("same", "edit", "delete", "new")


def _side(last: str | None, event: str, tag: str) -> str | None:
    if event == "same":
        return last
    if event == "delete":
        return None
    if event == "edit":
        return f"{last}-{tag}" if last is not None else None
    return f"new-{tag}" if last is None else last


@st.composite
def histories(
    draw: st.DrawFn,
) -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]]:
    n = draw(st.integers(0, 8))
    local: dict[str, str] = {}
    remote: dict[str, str] = {}
    last_local: dict[str, str] = {}
    last_remote: dict[str, str] = {}
    for i in range(n):
        key = f"X:{1800000000 + i * 86400}"
        synced = draw(st.booleans())
        last = f"d{i}" if synced else None
        same_edit = draw(st.booleans())
        l_ev = draw(st.sampled_from(SIDE_EVENTS))
        r_ev = draw(st.sampled_from(SIDE_EVENTS))
        mine = _side(last, l_ev, "L")
        theirs = _side(last, r_ev, "L" if same_edit else "R")
        if not synced and r_ev == "new":
            theirs = None  # WeCom cannot make a schedule of an occurrence by itself
        if last is not None:
            last_local[key] = last_remote[key] = last
        if mine is not None:
            local[key] = mine
        if theirs is not None:
            remote[key] = theirs
    return local, remote, last_local, last_remote


@settings(max_examples=2000, deadline=None)
@given(histories(), st.sampled_from((*POLICIES, None)))
def test_each_occurrence_follows_its_own_history(
    h: tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]],
    policy: ConflictPolicy | None,
) -> None:
    local, remote, last_local, last_remote = h
    m = merge_occurrences(local, remote, last_local, last_remote, policy=policy)
    pulled = set(m.pull)
    both = 0
    for key in set(local) | set(remote) | set(last_local):
        mine, theirs = local.get(key), remote.get(key)
        l_changed = mine != last_local.get(key)
        r_changed = theirs != last_remote.get(key)
        if mine == theirs:
            assert key not in pulled
        elif policy is None:
            assert (key in pulled) == r_changed
        elif r_changed and not l_changed:
            assert key in pulled  # WeCom's edit or deletion comes home
        elif l_changed and not r_changed:
            assert key not in pulled and m.push
        elif mine is None or theirs is None:
            assert (key in pulled) == (theirs is not None)  # a change beats a deletion
        else:
            both += 1
            assert (key in pulled) == (policy is not ConflictPolicy.LOCAL_WINS)
    assert m.conflicts == both
    assert set(m.copies) <= pulled
    assert bool(m.copies) == (policy is ConflictPolicy.KEEP_BOTH and both > 0)
    # after the pulls the file equals WeCom unless something is left to push
    after = {k: v for k, v in local.items() if k not in pulled}
    after.update({k: remote[k] for k in pulled if k in remote})
    assert m.push == (after != remote and policy is not None)
    # and once both sides hold that, a second merge finds nothing
    again = merge_occurrences(after, after, after, after, policy=policy)
    assert (again.pull, again.push, again.conflicts) == ((), False, 0)


def _states(
    local: dict[str, str],
    remote: dict[str, str],
    last_local: dict[str, str],
    last_remote: dict[str, str],
) -> tuple[LocalState, RemoteState | None, ItemStatus]:
    loc = LocalState(
        uid="u", href="u.ics", etag="e", digest=slots_digest(local), expanded=True, slots=local
    )
    rem = (
        RemoteState(
            uid="u", digest=slots_digest(remote), content_digest=slots_digest(remote), slots=remote
        )
        if remote
        else None
    )
    st_ = ItemStatus(
        uid="u",
        href="u.ics",
        local_etag="e",
        local_digest=slots_digest(last_local),
        remote_digest=slots_digest(last_remote),
        remote_content_digest=slots_digest(last_remote),
        local_slots=last_local,
        remote_slots=last_remote,
    )
    return loc, rem, st_


def test_plan_pulls_a_wecom_edit_and_pushes_the_window() -> None:
    last = {"X:1": "a", "X:2": "b"}
    local = {**last, "X:3": "c"}  # a new occurrence entered the window
    remote = {"X:1": "a", "X:2": "b2"}  # WeCom edited the second
    action = decide(*_states(local, remote, last, last), PlanOptions(), uid="u")
    assert action == Merge(
        uid="u", pull=("X:2",), push=True, reason="1 occurrences changed in WeCom"
    )


def test_plan_every_schedule_deleted_in_wecom_is_exdates_not_a_deleted_file() -> None:
    last = {"X:1": "a"}
    action = decide(*_states(last, {}, last, last), PlanOptions(), uid="u")
    assert isinstance(action, Merge) and action.pull == ("X:1",) and not action.push


def test_plan_a_file_change_alone_is_an_update_and_nothing_is_quiet() -> None:
    last = {"X:1": "a"}
    action = decide(*_states({"X:1": "a2"}, last, last, last), PlanOptions(), uid="u")
    assert isinstance(action, Update) and action.side is Side.REMOTE
    assert decide(*_states(last, last, last, last), PlanOptions(), uid="u") is None


def test_plan_local_wins_counts_the_conflict() -> None:
    last = {"X:1": "a"}
    options = PlanOptions(conflict=ConflictPolicy.LOCAL_WINS)
    action = decide(*_states({"X:1": "L"}, {"X:1": "R"}, last, last), options, uid="u")
    assert isinstance(action, Update) and action.conflict and action.side is Side.REMOTE


def test_plan_keep_both_copies_have_stable_uids() -> None:
    last = {"X:1": "a"}
    states = _states({"X:1": "L"}, {"X:1": "R"}, last, last)
    one = decide(*states, PlanOptions(), uid="u")
    two = decide(*states, PlanOptions(), uid="u")
    assert isinstance(one, Merge) and one == two
    assert one.copies[0][0] == "X:1" and one.copies[0][1].startswith("u-conflict-")


def test_plan_from_wecom_takes_wecom_and_keeps_the_file_otherwise() -> None:
    last = {"X:1": "a", "X:2": "b"}
    options = PlanOptions(direction=Direction.FROM_WECOM)
    action = decide(*_states({"X:1": "a", "X:2": "b2"}, last, last, last), options, uid="u")
    assert isinstance(action, Record)
    action = decide(*_states(last, {"X:1": "a2", "X:2": "b"}, last, last), options, uid="u")
    assert isinstance(action, Merge) and action.pull == ("X:1",) and not action.push


def test_plan_to_wecom_leaves_expanded_events_to_the_table() -> None:
    last = {"X:1": "a"}
    options = PlanOptions(direction=Direction.TO_WECOM)
    action = decide(*_states(last, {"X:1": "R"}, last, last), options, uid="u")
    assert isinstance(action, Update) and action.side is Side.REMOTE
