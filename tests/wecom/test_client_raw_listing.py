"""schedule_pages_raw / schedule_list_raw: the listing as sent, with the same
paging checks as schedule_list."""

from __future__ import annotations

import pytest

from tests.wecom.test_client_decisions import Script, client, script  # noqa: F401
from wesync.wecom import constants as C
from wesync.wecom.client import WeComClient, WeComTransportError

OK = {"errcode": 0, "errmsg": "ok"}


async def test_raw_listing_pages_until_empty_and_drops_repeats(
    client: WeComClient, script: Script  # noqa: F811
) -> None:
    first = {**OK, "schedule_list": [{"schedule_id": "a", "summary": 1}, {"schedule_id": "b"}]}
    second = {**OK, "schedule_list": [{"schedule_id": "b"}, {"schedule_id": "c"}]}
    script.then(C.SCHEDULE_GET_BY_CALENDAR, first, second, {**OK, "schedule_list": []})
    got = await client.schedule_list_raw("cal", limit=2)
    # kept as sent (a broken field included): the caller decides what to parse
    assert got == [{"schedule_id": "a", "summary": 1}, {"schedule_id": "b"}, {"schedule_id": "c"}]
    assert [b["offset"] for b in script.bodies(C.SCHEDULE_GET_BY_CALENDAR)] == [0, 2, 4]


@pytest.mark.parametrize("pages", [
    [{"schedule_list": [{"schedule_id": "x"}]}, {"schedule_list": [{"schedule_id": "x"}]}],
    [{}],
    [{"schedule_list": ["x"]}],
    [{"schedule_list": [{"schedule_id": 7}]}],
])
async def test_raw_listing_raises_where_schedule_list_does(
    client: WeComClient, script: Script, pages: list[dict[str, object]]  # noqa: F811
) -> None:
    script.then(C.SCHEDULE_GET_BY_CALENDAR, *({**OK, **p} for p in pages))
    with pytest.raises(WeComTransportError):
        await client.schedule_list_raw("cal-1")
