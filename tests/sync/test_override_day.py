"""An override moved before its original occurrence's day: WeCom refuses the
split (90488), so it is an exclusion plus a schedule of its own."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sync.helpers import (
    DAY,
    HOUR,
    MONDAY_9,
    WEEK,
    MemoryJournal,
    draft,
    loopback_client,
    make_calendar,
    writes,
)
from wesync.sync.remote import OldSlot, local_day_start, push_event
from wesync.translate.remote import draft_from_schedule

ADD, DEL, UPDATE = (f"/cgi-bin/oa/schedule/{op}" for op in ("add", "del", "update"))


@pytest.mark.parametrize(
    ("instant", "timezone", "day"),
    [
        (MONDAY_9, 8, MONDAY_9 - 9 * HOUR),
        (MONDAY_9 - 9 * HOUR, 8, MONDAY_9 - 9 * HOUR),
        (MONDAY_9 - 9 * HOUR - 1, 8, MONDAY_9 - 9 * HOUR - DAY),
        (1799197200, 0, 1799193600),  # 2027-01-06T01:00Z -> 00:00Z
        (1799197200, -5, 1799193600 - DAY + 5 * HOUR),  # 20:00 on the 5th at -05:00
    ],
)
def test_local_day_start(instant: int, timezone: int, day: int) -> None:
    assert local_day_start(instant, timezone) == day


@pytest.mark.parametrize(
    ("moved_to", "expected"),
    [
        (-9 * HOUR, [ADD, UPDATE]),  # midnight of its own day: split off
        (-9 * HOUR - 60, [ADD, DEL, ADD]),  # 23:59 the day before: exclude + add
        (-2 * DAY, [ADD, DEL, ADD]),
        (DAY, [ADD, UPDATE]),
    ],
)
async def test_override_before_its_day(
    emulator_server: Any, moved_to: int, expected: list[str]
) -> None:
    cal = make_calendar(emulator_server)
    at = MONDAY_9 + WEEK  # 09:00 +08:00, the series' zone
    series = draft(weekly=True, until=MONDAY_9 + 5 * WEEK, exclude=(at,))
    new = {"": series, f"R:{at}": draft("Moved", at + moved_to)}
    emulator_server.admin("DELETE", "requests")
    async with loopback_client(emulator_server) as client:
        journal = MemoryJournal()
        result = await push_event(client, journal, uid="u", cal_id=cal, old={}, new=new)
        log = emulator_server.admin("GET", "requests")["requests"]
        assert [r["errcode"] for r in log if "/oa/" in r["path"]] == [0] * len(expected)
        assert writes(emulator_server) == expected
        assert journal.intents == {}
        assert set(result.slots) == {"", f"R:{at}"} == set(journal.mapped)
        fetched = {s.schedule_id: s for s in await client.schedule_get(list(result.slots.values()))}
        got = {k: draft_from_schedule(fetched[sid]) for k, sid in result.slots.items()}
        assert {k: d.content_digest() for k, d in got.items()} == {
            k: d.content_digest() for k, d in new.items()
        }
        # written again from what WeCom holds: nothing to do
        emulator_server.admin("DELETE", "requests")
        old = {k: OldSlot(schedule_id=result.slots[k], draft=d) for k, d in got.items()}
        again = await push_event(client, MemoryJournal(), uid="u", cal_id=cal, old=old, new=new)
        assert again.slots == result.slots and writes(emulator_server) == []
