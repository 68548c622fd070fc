"""Contract tests against the real WeCom, for the facts the emulator assumes.

They run only when WESYNC_LIVE_CORPID, WESYNC_LIVE_CORPSECRET and
WESYNC_LIVE_CALID are set (the calendar must have been created by the app);
WESYNC_LIVE_USERID (a member in the app's visible range) enables the
attendee checks. They write only inside that calendar, a week or more ahead,
and cancel every schedule they create, even when they fail.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator

import pytest

from wesync.config import Secret
from wesync.wecom import constants as C
from wesync.wecom.client import WeComClient
from wesync.wecom.errors import NotFoundError
from wesync.wecom.models import Attendee, Reminders, Schedule

CORPID = os.environ.get("WESYNC_LIVE_CORPID", "")
SECRET = os.environ.get("WESYNC_LIVE_CORPSECRET", "")
CAL_ID = os.environ.get("WESYNC_LIVE_CALID", "")
USERID = os.environ.get("WESYNC_LIVE_USERID", "")
DAY = 86400

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (CORPID and SECRET and CAL_ID),
        reason="set WESYNC_LIVE_CORPID, WESYNC_LIVE_CORPSECRET and WESYNC_LIVE_CALID",
    ),
]


@pytest.fixture
async def live() -> AsyncIterator[tuple[WeComClient, list[str]]]:
    created: list[str] = []
    async with WeComClient(corpid=CORPID, corpsecret=Secret(SECRET), rate_limit=60) as client:
        try:
            yield client, created
        finally:
            for schedule_id in created:
                with contextlib.suppress(NotFoundError):  # already cancelled by the test
                    await client.schedule_del(schedule_id)


def week_ahead(hour: int) -> int:
    return (int(time.time()) // DAY + 7) * DAY + hour * 3600


def one_off(summary: str) -> Schedule:
    start = week_ahead(2)  # 10:00 in UTC+8
    return Schedule(
        cal_id=CAL_ID,
        summary=summary,
        start_time=start,
        end_time=start + 1800,
        is_whole_day=0,
        reminders=Reminders(is_remind=1, remind_time_diffs=(-900,), is_repeat=0, timezone=8),
    )


async def test_credentials_and_calendar(live: tuple[WeComClient, list[str]]) -> None:
    client, _ = live
    await client.check_credentials()
    [calendar] = await client.calendar_get([CAL_ID])
    assert calendar.cal_id == CAL_ID
    assert calendar.summary


async def test_one_off_lifecycle(live: tuple[WeComClient, list[str]]) -> None:
    client, created = live
    schedule_id = await client.schedule_add(one_off("wesync live test"))
    created.append(schedule_id)
    [got] = await client.schedule_get([schedule_id])
    assert got.cal_id == CAL_ID
    assert got.status == 0
    assert got.reminders is not None
    assert got.reminders.remind_time_diffs == (-900,)

    await client.schedule_update(got.with_changes(summary="wesync live test (edited)"))
    [got] = await client.schedule_get([schedule_id])
    assert got.summary == "wesync live test (edited)"

    listed = {s.schedule_id: s for s in await client.schedule_list(CAL_ID)}
    assert schedule_id in listed

    await client.schedule_del(schedule_id)
    [got] = await client.schedule_get([schedule_id])
    assert got.is_cancelled


async def test_single_occurrence_edit_splits(live: tuple[WeComClient, list[str]]) -> None:
    client, created = live
    start = week_ahead(1)
    series = Schedule(
        cal_id=CAL_ID,
        summary="wesync live series",
        start_time=start,
        end_time=start + 900,
        is_whole_day=0,
        reminders=Reminders(
            is_remind=0,
            is_repeat=1,
            repeat_type=C.REPEAT_DAILY,
            repeat_until=start + 3 * DAY,
            timezone=8,
        ),
    )
    series_id = await client.schedule_add(series)
    created.append(series_id)
    second = start + DAY
    moved = series.with_changes(
        schedule_id=series_id,
        start_time=second + 1800,
        end_time=second + 2700,
        reminders=Reminders(is_remind=0, is_repeat=0, timezone=8),
    )
    split_id = await client.schedule_update(moved, op_mode=C.OP_THIS, op_start_time=second)
    created.append(split_id)
    assert split_id != series_id
    [master] = await client.schedule_get([series_id])
    assert master.reminders is not None
    assert second in (master.reminders.exclude_time_list or ())


@pytest.mark.skipif(not USERID, reason="set WESYNC_LIVE_USERID for attendee checks")
async def test_attendees(live: tuple[WeComClient, list[str]]) -> None:
    client, created = live
    schedule_id = await client.schedule_add(
        one_off("wesync live attendees").with_changes(attendees=(Attendee(userid=USERID),))
    )
    created.append(schedule_id)
    await client.schedule_del_attendees(schedule_id, [USERID])
    [got] = await client.schedule_get([schedule_id])
    assert not got.attendees
    await client.schedule_add_attendees(schedule_id, [USERID])
    [got] = await client.schedule_get([schedule_id])
    assert got.attendees is not None
    assert [a.userid for a in got.attendees] == [USERID]
