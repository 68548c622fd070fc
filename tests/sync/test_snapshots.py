"""snapshots: an event both scans reused whole from the status gets no snapshot
(plan would decide nothing for it); any other event is compared in full."""

from __future__ import annotations

from wesync.config import ConflictPolicy, Direction
from wesync.sync.listing import RemoteScan, RemoteSlot
from wesync.sync.local import LocalItem, LocalScan
from wesync.sync.plan import PlanOptions, plan
from wesync.sync.prepare import snapshots
from wesync.sync.status import SlotStatus, StatusItem

NOW = 2_000_000_000


def status_item(uid: str = "u") -> StatusItem:
    return StatusItem(
        uid=uid,
        href=f"{uid}.ics",
        local_etag="e1",
        summary="Standup",
        slots={
            "": SlotStatus(
                slot="",
                schedule_id="s1",
                local_digest="L" * 8,
                remote_digest="R" * 8,
                remote_content="L" * 8,
                listing_digest="G" * 8,
            )
        },
    )


def scans(st: StatusItem, *, copy: bool = False) -> tuple[LocalScan, RemoteScan]:
    """The scans of an event nobody touched; `copy`: equal digests, other objects."""
    s = st.slots[""]
    assert s.local_digest and s.remote_digest and s.remote_content and s.schedule_id

    def own(text: str) -> str:
        return "".join(list(text)) if copy else text

    local = LocalScan(
        items={
            st.uid: LocalItem(
                uid=st.uid,
                href=st.href or "",
                etag=st.local_etag or "",
                digests={"": own(s.local_digest)},
            )
        }
    )
    remote = RemoteScan(
        groups={
            st.uid: {
                "": RemoteSlot(
                    schedule_id=s.schedule_id,
                    digest=own(s.remote_digest),
                    content_digest=own(s.remote_content),
                    listing_digest=s.listing_digest,
                )
            }
        }
    )
    return local, remote


OPTIONS = PlanOptions(direction=Direction.TWO_WAY, conflict=ConflictPolicy.KEEP_BOTH)


def test_an_event_reused_whole_gets_no_snapshot() -> None:
    st = status_item()
    local, remote = scans(st)
    loc, rem, sta, held = snapshots(local, remote, {"u": st}, NOW)
    assert (loc, rem, sta, held) == ({}, {}, {}, {})


def test_equal_digests_that_are_not_the_status_own_are_compared_in_full() -> None:
    st = status_item()
    local, remote = scans(st, copy=True)
    loc, rem, sta, _ = snapshots(local, remote, {"u": st}, NOW)
    assert set(loc) == set(rem) == set(sta) == {"u"}
    assert not plan(loc, rem, sta, OPTIONS).actions


def test_a_touched_side_is_compared_in_full() -> None:
    st = status_item()
    # the file was renamed
    local, remote = scans(st)
    local.items["u"].href = "moved.ics"
    loc, rem, sta, _ = snapshots(local, remote, {"u": st}, NOW)
    assert [a.reason for a in plan(loc, rem, sta, OPTIONS)] == ["file touched, content unchanged"]
    # a schedule is gone from WeCom
    local, remote = scans(st)
    remote.groups["u"] = {}
    loc, rem, sta, _ = snapshots(local, remote, {"u": st}, NOW)
    assert set(sta) == {"u"}
    assert [type(a).__name__ for a in plan(loc, rem, sta, OPTIONS)] == ["Delete"]
    # a slot the status does not know appeared locally
    local, remote = scans(st)
    local.items["u"].digests["X:20300101T000000Z"] = "new"
    loc, rem, sta, _ = snapshots(local, remote, {"u": st}, NOW)
    assert [type(a).__name__ for a in plan(loc, rem, sta, OPTIONS)] == ["Update"]
