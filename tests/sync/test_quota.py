"""The daily creation quota's pure decisions: which adds go today, in which order."""

from __future__ import annotations

from tests.sync.helpers import DAY, MONDAY_9, WEEK, draft
from wesync.sync.quota import Candidate, allot, arrange, candidates, most_adds, slot_time
from wesync.sync.remote import OldSlot

NOW = MONDAY_9 - 2 * DAY


def c(uid: str, at: int, slot: str = "") -> Candidate:
    return Candidate(uid=uid, slot=slot, at=at)


def test_allot_takes_the_nearest_across_events() -> None:
    # an expanded event's far occurrences wait behind another event's next week
    cands = [
        c("daily", NOW + DAY, "X:1"),
        c("daily", NOW + 300 * DAY, "X:2"),
        c("single", NOW + WEEK),
        c("past", NOW - 2 * DAY),
        c("daily", NOW + 2 * DAY, "X:3"),
    ]
    assert allot(cands, 3, NOW) == {("daily", "X:1"), ("past", ""), ("daily", "X:3")}
    assert allot(cands, 0, NOW) == frozenset()
    assert len(allot(cands, 99, NOW)) == 5


def test_arrange_orders_events_by_their_nearest_add_and_keeps_the_rest() -> None:
    actions = ["delete-me", "far", "near", "update-only"]
    cands = {"far": [c("far", NOW + 90 * DAY)], "near": [c("near", NOW + DAY)]}
    assert arrange(actions, lambda a: a, cands, NOW) == ["near", "far", "delete-me", "update-only"]


def test_a_series_counts_by_its_next_occurrence() -> None:
    weekly = draft(start=MONDAY_9 - 10 * WEEK, weekly=True)
    assert slot_time("", weekly, NOW) == MONDAY_9  # the Monday after NOW
    ended = draft(start=MONDAY_9 - 10 * WEEK, weekly=True, until=MONDAY_9 - 5 * WEEK)
    assert slot_time("", ended, NOW) == MONDAY_9 - 5 * WEEK
    assert slot_time("X:123", draft(), NOW) == 123  # an occurrence of its own


def test_candidates_are_the_slots_wecom_lacks() -> None:
    old = {"": OldSlot(schedule_id="s1", draft=draft())}
    new = {"": draft(), "X:1800000000": draft(start=1800000000)}
    assert [(x.slot, x.at) for x in candidates("u", old, new, NOW)] == [
        ("X:1800000000", 1800000000)
    ]
    # a series created again (an exclusion taken back) adds its master
    excluded = OldSlot(schedule_id="s1", draft=draft(weekly=True, exclude=(MONDAY_9 + WEEK,)))
    assert [x.slot for x in candidates("u", {"": excluded}, {"": draft(weekly=True)}, NOW)] == [""]
    assert most_adds(["", "X:1"], [""]) == 2
    assert most_adds(["X:1"], []) == 1
