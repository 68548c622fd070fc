"""The decision table, one row at a time."""

from __future__ import annotations

import pytest

from wesync.config import ConflictPolicy, Direction
from wesync.sync.actions import (
    Create,
    Delete,
    Forget,
    KeepBoth,
    Plan,
    Record,
    Side,
    Skip,
    Update,
)
from wesync.sync.plan import (
    EMPTY_DIGEST,
    ItemStatus,
    LocalState,
    PlanOptions,
    RemoteState,
    copy_uid,
    deletion_guard,
    plan,
    slots_digest,
)

D1 = slots_digest({"": "one"})
D2 = slots_digest({"": "two"})
D3 = slots_digest({"": "three"})


def L(digest: str = D1, **kw: object) -> LocalState:
    fields: dict[str, object] = {"uid": "u", "href": "u.ics", "etag": "e1", "digest": digest}
    fields.update(kw)
    return LocalState(**fields)  # type: ignore[arg-type]


def R(content: str = D1, responses: str = "") -> RemoteState:
    return RemoteState(uid="u", digest=content + responses, content_digest=content)


def S(local: str = D1, remote: str = D1, **kw: object) -> ItemStatus:
    fields: dict[str, object] = {
        "uid": "u",
        "href": "u.ics",
        "local_etag": "e1",
        "local_digest": local,
        "remote_digest": remote,
    }
    fields.update(kw)
    return ItemStatus(**fields)  # type: ignore[arg-type]


def one(
    loc: LocalState | None,
    rem: RemoteState | None,
    st: ItemStatus | None,
    direction: Direction = Direction.TWO_WAY,
    conflict: ConflictPolicy = ConflictPolicy.KEEP_BOTH,
) -> object:
    p = plan(
        {"u": loc} if loc else {},
        {"u": rem} if rem else {},
        {"u": st} if st else {},
        PlanOptions(direction=direction, conflict=conflict),
    )
    assert len(p) <= 1
    return p.actions[0] if p.actions else None


def kind(action: object) -> tuple[str, Side | None]:
    return type(action).__name__, getattr(action, "side", None)


def test_nothing_changed_does_nothing() -> None:
    assert one(L(), R(), S()) is None


def test_touched_file_with_same_content_only_records() -> None:
    assert isinstance(one(L(etag="e2"), R(), S()), Record)


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        (Direction.TWO_WAY, ("Create", Side.REMOTE)),
        (Direction.TO_WECOM, ("Create", Side.REMOTE)),
        (Direction.FROM_WECOM, ("Skip", None)),
    ],
)
def test_new_local(direction: Direction, expected: tuple[str, Side | None]) -> None:
    assert kind(one(L(), None, None, direction)) == expected


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        (Direction.TWO_WAY, ("Create", Side.LOCAL)),
        (Direction.TO_WECOM, ("Skip", None)),
        (Direction.FROM_WECOM, ("Create", Side.LOCAL)),
    ],
)
def test_new_remote(direction: Direction, expected: tuple[str, Side | None]) -> None:
    assert kind(one(None, R(), None, direction)) == expected


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        (Direction.TWO_WAY, ("Update", Side.REMOTE)),
        (Direction.TO_WECOM, ("Update", Side.REMOTE)),
        (Direction.FROM_WECOM, ("Update", Side.LOCAL)),
    ],
)
def test_changed_locally(direction: Direction, expected: tuple[str, Side | None]) -> None:
    assert kind(one(L(D2, etag="e2"), R(), S(), direction)) == expected


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        (Direction.TWO_WAY, ("Update", Side.LOCAL)),
        (Direction.TO_WECOM, ("Update", Side.REMOTE)),
        (Direction.FROM_WECOM, ("Update", Side.LOCAL)),
    ],
)
def test_changed_in_wecom(direction: Direction, expected: tuple[str, Side | None]) -> None:
    assert kind(one(L(), R(D2), S(), direction)) == expected


def test_attendee_answer_is_a_wecom_change() -> None:
    action = one(L(), R(D1, responses="+zhangsan:2"), S())
    assert kind(action) == ("Update", Side.LOCAL)


def test_expanded_series_pushes_back_wecom_edits() -> None:
    assert kind(one(L(expanded=True), R(D2), S())) == ("Update", Side.REMOTE)


def test_same_change_on_both_sides_records() -> None:
    assert isinstance(one(L(D2, etag="e2"), R(D2), S()), Record)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (ConflictPolicy.WECOM_WINS, ("Update", Side.LOCAL)),
        (ConflictPolicy.LOCAL_WINS, ("Update", Side.REMOTE)),
        (ConflictPolicy.KEEP_BOTH, ("KeepBoth", None)),
    ],
)
def test_conflict_by_policy(policy: ConflictPolicy, expected: tuple[str, Side | None]) -> None:
    action = one(L(D2, etag="e2"), R(D3), S(), conflict=policy)
    assert kind(action) == expected
    if isinstance(action, Update):
        assert action.conflict
    if isinstance(action, KeepBoth):
        assert action.copy_uid == copy_uid("u", D2)
        assert action.copy_uid != "u"


@pytest.mark.parametrize(
    ("direction", "expected"),
    [(Direction.TO_WECOM, ("Update", Side.REMOTE)), (Direction.FROM_WECOM, ("Update", Side.LOCAL))],
)
def test_conflict_in_one_way_pairs_follows_the_direction(
    direction: Direction, expected: tuple[str, Side | None]
) -> None:
    action = one(L(D2, etag="e2"), R(D3), S(), direction)
    assert kind(action) == expected
    assert isinstance(action, Update) and not action.conflict


@pytest.mark.parametrize(
    ("local", "direction", "expected"),
    [
        (D1, Direction.TWO_WAY, ("Delete", Side.LOCAL)),
        (D2, Direction.TWO_WAY, ("Create", Side.REMOTE)),
        (D1, Direction.TO_WECOM, ("Create", Side.REMOTE)),
        (D2, Direction.FROM_WECOM, ("Delete", Side.LOCAL)),
    ],
)
def test_deleted_in_wecom(local: str, direction: Direction, expected: object) -> None:
    assert kind(one(L(local), None, S(), direction)) == expected


@pytest.mark.parametrize(
    ("remote", "direction", "expected"),
    [
        (D1, Direction.TWO_WAY, ("Delete", Side.REMOTE)),
        (D2, Direction.TWO_WAY, ("Create", Side.LOCAL)),
        (D2, Direction.TO_WECOM, ("Delete", Side.REMOTE)),
        (D1, Direction.FROM_WECOM, ("Create", Side.LOCAL)),
    ],
)
def test_deleted_locally(remote: str, direction: Direction, expected: object) -> None:
    assert kind(one(None, R(remote), S(), direction)) == expected


def test_gone_from_both_sides_is_forgotten() -> None:
    assert isinstance(one(None, None, S()), Forget)


def test_first_sync_pairs_equal_events() -> None:
    assert isinstance(one(L(), R(D1, responses="+x"), None), Record)


def test_first_sync_pairs_different_events_as_conflict() -> None:
    assert isinstance(one(L(), R(D2), None), KeepBoth)


def test_held_item_is_left_alone_even_when_wecom_deleted_it() -> None:
    assert isinstance(one(L(held="cannot parse"), None, S()), Skip)


def test_skipped_translation_never_deletes_in_wecom() -> None:
    assert isinstance(one(L(EMPTY_DIGEST, skipped=True), R(), S()), Skip)


def test_cancelled_event_without_schedules_is_stable() -> None:
    # the master was cancelled locally and its schedules deleted last run
    assert one(L(EMPTY_DIGEST), None, S(EMPTY_DIGEST, EMPTY_DIGEST)) is None
    assert isinstance(one(L(EMPTY_DIGEST), None, None), Record)
    # cancelling an event deletes its schedules through an update to nothing
    assert kind(one(L(EMPTY_DIGEST, etag="e2"), R(), S())) == ("Update", Side.REMOTE)


def test_interrupted_push_is_redone_not_read_as_a_conflict() -> None:
    # WeCom shows half of our own write; the status still has the old digests
    action = one(L(D2, etag="e2"), R(D3), S(pending=Side.REMOTE))
    assert kind(action) == ("Update", Side.REMOTE)
    # interrupted before anything reached WeCom
    action = one(L(D2), None, S(EMPTY_DIGEST, EMPTY_DIGEST, pending=Side.REMOTE))
    assert kind(action) == ("Create", Side.REMOTE)
    # interrupted while creating the file, then WeCom deleted the event
    action = one(L(D2), None, S(EMPTY_DIGEST, EMPTY_DIGEST, pending=Side.LOCAL, pending_digest=D2))
    assert kind(action) == ("Delete", Side.LOCAL)


def test_interrupted_pull_is_redone() -> None:
    # the write landed (the file is what we were writing) or did not (still the old one)
    for digest in (D2, D1):
        landed = S(pending=Side.LOCAL, pending_digest=D2)
        assert kind(one(L(digest, etag="e9"), R(D2), landed)) == ("Update", Side.LOCAL)
    assert kind(one(None, R(D2), S(pending=Side.LOCAL))) == ("Create", Side.LOCAL)


def test_edit_after_an_interrupted_pull_is_still_a_conflict() -> None:
    action = one(L(D3, etag="e9"), R(D2), S(pending=Side.LOCAL, pending_digest=D2))
    assert isinstance(action, KeepBoth)


def test_answers_alone_do_not_conflict_with_a_local_edit() -> None:
    answered = RemoteState(uid="u", digest=D1 + "+answer", content_digest=D1)
    st = S(remote_content_digest=D1)
    action = one(L(D2, etag="e2"), answered, st)
    assert isinstance(action, Update) and action.side is Side.REMOTE and action.pull_answers
    action = one(L(D2, etag="e2"), answered, st, Direction.TO_WECOM)
    assert isinstance(action, Update) and action.side is Side.REMOTE and not action.pull_answers
    # and an answer does not bring back an event deleted locally
    assert kind(one(None, answered, st)) == ("Delete", Side.REMOTE)


def test_plan_is_in_uid_order_and_counts() -> None:
    local = {u: LocalState(uid=u, href=f"{u}.ics", etag="e", digest=D1) for u in "cab"}
    p = plan(local, {}, {}, PlanOptions())
    assert [a.uid for a in p] == ["a", "b", "c"]
    assert p.count(Create, Side.REMOTE) == 3
    assert p.count(Create, Side.LOCAL) == 0


def test_keep_both_counts_a_conflict_and_creates_on_both_sides() -> None:
    p = Plan(actions=(KeepBoth(uid="u", copy_uid="u2"),))
    assert p.conflicts == 1
    assert p.count(Create, Side.REMOTE) == 1
    assert p.count(Update, Side.LOCAL) == 1


def test_deletion_guard() -> None:
    deletes = tuple(Delete(side=Side.REMOTE, uid=str(i)) for i in range(6))
    assert deletion_guard(Plan(actions=deletes), local_items=0, remote_items=10) is not None
    assert deletion_guard(Plan(actions=deletes), local_items=0, remote_items=13) is None
    assert deletion_guard(Plan(actions=deletes[:5]), local_items=0, remote_items=5) is None
    message = deletion_guard(Plan(actions=deletes), local_items=0, remote_items=6)
    assert message is not None and "--force" in message
