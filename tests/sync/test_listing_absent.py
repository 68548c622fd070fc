"""A schedule the listing leaves out is gone only on WeCom's word; a listing that
shifted while it was paged is read again (issue 11: whatever WeCom's order and
`get` do)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from wesync.sync.listing import LISTING_READS, scan_remote
from wesync.sync.status import SlotStatus, StatusItem
from wesync.wecom.errors import NotFoundError
from wesync.wecom.models import Schedule, ScheduleList

NOW = 1800000000


def _entry(sid: str, start: int, *, status: int = 0) -> dict[str, Any]:
    return {
        "schedule_id": sid,
        "summary": sid,
        "start_time": start,
        "end_time": start + 3600,
        "is_whole_day": 0,
        "status": status,
        "reminders": {"is_remind": 0, "is_repeat": 0, "remind_time_diffs": []},
    }


class Reader:
    """get_by_calendar and get over a dict; `pages` are the listings each read gives."""

    def __init__(
        self,
        schedules: dict[str, dict[str, Any]],
        pages: list[list[list[str]]],
        *,
        get_mode: str = "all-or-nothing",
    ) -> None:
        self.schedules = schedules
        self.pages = pages
        self.reads = 0
        self.get_mode = get_mode
        self.gets: list[list[str]] = []

    async def schedule_pages_raw(self, cal_id: str) -> AsyncIterator[list[dict[str, Any]]]:
        listing = self.pages[min(self.reads, len(self.pages) - 1)]
        self.reads += 1
        for page in listing:
            yield [dict(self.schedules[sid]) for sid in page]

    async def schedule_get(self, schedule_ids: Sequence[str]) -> list[Schedule]:
        self.gets.append(list(schedule_ids))
        unknown = [s for s in schedule_ids if s not in self.schedules]
        if unknown and self.get_mode == "all-or-nothing":
            raise NotFoundError(90460, "schedule deleted", "/cgi-bin/oa/schedule/get")
        out = ScheduleList()
        out.extend(
            Schedule.from_api(self.schedules[s]) for s in schedule_ids if s in self.schedules
        )
        return out


def _status(*sids: str) -> dict[str, StatusItem]:
    return {
        f"{sid}@x": StatusItem(
            uid=f"{sid}@x",
            href=f"{sid}.ics",
            local_etag="e",
            slots={
                "": SlotStatus(
                    slot="",
                    schedule_id=sid,
                    local_digest="d",
                    remote_digest="r",
                    remote_content="c",
                    listing_digest="old",
                )
            },
        )
        for sid in sids
    }


async def test_a_live_schedule_the_listing_missed_is_not_gone() -> None:
    schedules = {s: _entry(s, NOW + i * 3600) for i, s in enumerate(("a", "b", "c"))}
    reader = Reader(schedules, [[["a"], ["c"]]])  # b slipped between two pages
    scan = await scan_remote(reader, "cal", _status("a", "b", "c"), now=NOW)
    assert set(scan.live_ids) == {"a", "b", "c"}
    assert scan.groups["b@x"][""].schedule_id == "b"
    assert ["b"] in reader.gets


@pytest.mark.parametrize("get_mode", ["all-or-nothing", "partial"])
async def test_an_unknown_id_is_gone_and_the_others_stay(get_mode: str) -> None:
    schedules = {s: _entry(s, NOW + i * 3600) for i, s in enumerate(("a", "c", "d"))}
    reader = Reader(schedules, [[["a"]]], get_mode=get_mode)  # b deleted, c and d missed
    scan = await scan_remote(reader, "cal", _status("a", "b", "c", "d"), now=NOW)
    assert set(scan.live_ids) == {"a", "c", "d"}
    assert "b@x" not in scan.groups and {"c@x", "d@x"} <= set(scan.groups)
    if get_mode == "all-or-nothing":
        assert len(reader.gets) > 1  # the failed get was split until b stood alone
        assert ["b"] in reader.gets


async def test_cancelled_in_the_listing_needs_no_get() -> None:
    schedules = {"a": _entry("a", NOW), "b": _entry("b", NOW, status=1)}
    reader = Reader(schedules, [[["a", "b"]]])
    scan = await scan_remote(reader, "cal", _status("a", "b"), now=NOW)
    assert scan.live_ids == {"a"} and reader.gets == []  # "a" is listed in full


async def test_a_shifted_listing_is_read_again() -> None:
    schedules = {s: _entry(s, NOW + i * 3600) for i, s in enumerate(("a", "b", "c"))}
    shifted = [["a", "b"], ["b", "c"]]  # b twice: something was added before it
    reader = Reader(schedules, [shifted, [["a", "b"], ["c"]]])
    scan = await scan_remote(reader, "cal", _status("a", "b", "c"), now=NOW)
    assert reader.reads == 2 and set(scan.live_ids) == {"a", "b", "c"}


async def test_a_listing_that_keeps_shifting_is_used_with_repeats_dropped() -> None:
    schedules = {s: _entry(s, NOW + i * 3600) for i, s in enumerate(("a", "b", "c"))}
    reader = Reader(schedules, [[["a", "b"], ["b", "c"]]])
    scan = await scan_remote(reader, "cal", _status("a", "b", "c"), now=NOW)
    assert reader.reads == LISTING_READS and set(scan.live_ids) == {"a", "b", "c"}
