"""The client against the emulator over real loopback HTTP: every endpoint,
every error path, token expiry, retries, lost answers, paging and batching."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from wesync.config import Secret
from wesync.wecom import constants as C
from wesync.wecom.client import WeComClient
from wesync.wecom.errors import (
    BusyError,
    CredentialsError,
    InvalidParameterError,
    NotFoundError,
    RateLimitedError,
    StartInPastError,
    UnknownUserError,
    WeComTransportError,
)
from wesync.wecom.models import Attendee, Calendar, Reminders, Schedule, Share
from wesync.wecom.ratelimit import RateLimiter
from wesync.wecom.retry import RetryPolicy
from wesync.wecom.token import TokenCache, cache_key

CORPID = "wwemulator"
SECRET = "emulator-secret"
FAST = RetryPolicy(attempts=4, base=0.0, cap=0.0)
DAY = 86400


def make_client(server: Any, **kw: Any) -> WeComClient:
    options: dict[str, Any] = {
        "corpid": CORPID,
        "corpsecret": Secret(SECRET),
        "base_url": server.url,
        "retry": FAST,
        "timeout": 5.0,
    }
    options.update(kw)
    return WeComClient(**options)


@pytest.fixture
async def client(emulator_server: Any) -> AsyncIterator[WeComClient]:
    async with make_client(emulator_server) as c:
        yield c


def requests_to(server: Any, path: str) -> list[dict[str, Any]]:
    log = server.admin("GET", "/_emulator/requests")["requests"]
    return [r for r in log if r["path"] == path]


def fault(server: Any, path: str, kind: str, times: int = 1, **detail: Any) -> None:
    server.admin(
        "POST", "/_emulator/faults", {"path": path, "times": times, "kind": kind, **detail}
    )


def tomorrow_at(hour: int) -> int:
    start_of_today = int(time.time()) // DAY * DAY
    return start_of_today + DAY + hour * 3600


async def new_calendar(client: WeComClient, summary: str = "Team") -> str:
    return await client.calendar_add(Calendar(summary=summary, color="#1E90FF", description="d"))


def single(cal_id: str, summary: str = "one-off", start: int | None = None) -> Schedule:
    start = start if start is not None else tomorrow_at(10)
    return Schedule(
        cal_id=cal_id,
        summary=summary,
        start_time=start,
        end_time=start + 3600,
        is_whole_day=0,
        reminders=Reminders(is_remind=1, remind_time_diffs=(-900,), is_repeat=0, timezone=8),
    )


def daily(cal_id: str, days: int = 5) -> Schedule:
    start = tomorrow_at(9)
    return Schedule(
        cal_id=cal_id,
        summary="stand-up",
        start_time=start,
        end_time=start + 900,
        is_whole_day=0,
        attendees=(Attendee(userid="lisi"),),
        reminders=Reminders(
            is_remind=0,
            remind_time_diffs=(),
            is_repeat=1,
            repeat_type=C.REPEAT_DAILY,
            repeat_until=start + (days - 1) * DAY,
            timezone=8,
        ),
    )


# --- every endpoint ---------------------------------------------------------------


async def test_calendar_lifecycle(client: WeComClient) -> None:
    cal_id = await client.calendar_add(
        Calendar(
            summary="Rota",
            color="#FF3030",
            description="shifts",
            admins=("lisi",),
            shares=(Share(userid="lisi", permission=1), Share(userid="wangwu", permission=3)),
        )
    )
    [got] = await client.calendar_get([cal_id])
    assert (got.cal_id, got.summary, got.color, got.description) == (
        cal_id,
        "Rota",
        "#FF3030",
        "shifts",
    )
    assert got.admins == ("lisi",)
    assert got.shares is not None
    assert {(s.userid, s.permission) for s in got.shares} == {("lisi", 1), ("wangwu", 3)}
    await client.calendar_update(
        Calendar(cal_id=cal_id, summary="Rota 2", color="#00FF00", description=""),
        skip_public_range=True,
    )
    [got] = await client.calendar_get([cal_id])
    assert (got.summary, got.color) == ("Rota 2", "#00FF00")
    await client.calendar_del(cal_id)
    with pytest.raises(NotFoundError) as info:
        await client.calendar_get([cal_id])
    assert info.value.errcode == C.ERR_CALENDAR_DELETED


async def test_schedule_lifecycle(client: WeComClient) -> None:
    cal_id = await new_calendar(client)
    schedule_id = await client.schedule_add(single(cal_id, "review"))
    [got] = await client.schedule_get([schedule_id])
    assert got.summary == "review"
    assert got.cal_id == cal_id
    assert got.status == 0
    assert got.is_complete
    assert got.reminders is not None
    assert got.reminders.remind_time_diffs == (-900,)

    edited = got.with_changes(summary="review (moved)", location="Room 2")
    assert await client.schedule_update(edited) == schedule_id
    [got] = await client.schedule_get([schedule_id])
    assert (got.summary, got.location) == ("review (moved)", "Room 2")

    listed = await client.schedule_list(cal_id)
    assert [s.schedule_id for s in listed] == [schedule_id]

    await client.schedule_del(schedule_id)
    [got] = await client.schedule_get([schedule_id])
    assert got.is_cancelled
    # cancelled schedules are still listed
    assert [s.status for s in await client.schedule_list(cal_id)] == [1]


async def test_attendees_are_added_and_removed(client: WeComClient, emulator_server: Any) -> None:
    cal_id = await new_calendar(client)
    schedule_id = await client.schedule_add(
        single(cal_id).with_changes(attendees=(Attendee(userid="lisi"),))
    )
    await client.schedule_add_attendees(schedule_id, ["wangwu", "zhaoliu"])
    [got] = await client.schedule_get([schedule_id])
    assert got.attendees is not None
    assert [a.userid for a in got.attendees] == ["lisi", "wangwu", "zhaoliu"]

    emulator_server.admin(
        "POST",
        "/_emulator/respond",
        {"schedule_id": schedule_id, "userid": "wangwu", "response_status": 4},
    )
    await client.schedule_del_attendees(schedule_id, ["lisi"])
    [got] = await client.schedule_get([schedule_id])
    assert got.attendees is not None
    assert {a.userid: a.response_status for a in got.attendees} == {"wangwu": 4, "zhaoliu": 0}

    # update with skip_attendees leaves them alone
    await client.schedule_update(got.with_changes(attendees=()), skip_attendees=True)
    [after] = await client.schedule_get([schedule_id])
    assert after.attendees is not None
    assert len(after.attendees) == 2


async def test_one_occurrence_edit_and_delete(client: WeComClient) -> None:
    cal_id = await new_calendar(client)
    series = daily(cal_id)
    series_id = await client.schedule_add(series)
    assert series.start_time is not None
    second = series.start_time + DAY
    moved = Schedule(
        schedule_id=series_id,
        summary="stand-up (late)",
        start_time=second + 3600,
        end_time=second + 4500,
        is_whole_day=0,
        reminders=Reminders(is_remind=0, is_repeat=0, timezone=8),
    )
    split_id = await client.schedule_update(moved, op_mode=C.OP_THIS, op_start_time=second)
    assert split_id != series_id

    third = series.start_time + 2 * DAY
    await client.schedule_del(series_id, op_mode=C.OP_THIS, op_start_time=third)

    master, split = await client.schedule_get([series_id, split_id])
    assert master.reminders is not None
    assert set(master.reminders.exclude_time_list or ()) == {second, third}
    assert split.summary == "stand-up (late)"
    assert split.start_time == second + 3600
    assert {s.schedule_id for s in await client.schedule_list(cal_id)} == {series_id, split_id}


async def test_listing_in_sample_mode_lacks_fields_get_fills_them(client: WeComClient) -> None:
    cal_id = await new_calendar(client)
    schedule_id = await client.schedule_add(single(cal_id))
    [listed] = await client.schedule_list(cal_id)
    assert listed.is_whole_day is None
    assert not listed.is_complete
    [full] = await client.schedule_get([schedule_id])
    assert full.is_complete
    assert full.is_whole_day == 0


# --- errors ---------------------------------------------------------------------


async def test_unknown_ids_are_not_found(client: WeComClient) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.schedule_get(["no-such-schedule"])
    assert info.value.errcode == C.ERR_BAD_SCHEDULE_ID
    with pytest.raises(NotFoundError) as info:
        await client.calendar_get(["no-such-calendar"])
    assert info.value.errcode == C.ERR_BAD_CAL_ID
    with pytest.raises(NotFoundError):
        await client.schedule_list("no-such-calendar")


async def test_cancelled_schedule_cannot_be_updated(client: WeComClient) -> None:
    cal_id = await new_calendar(client)
    schedule_id = await client.schedule_add(single(cal_id))
    await client.schedule_del(schedule_id)
    with pytest.raises(NotFoundError) as info:
        await client.schedule_update(single(cal_id).with_changes(schedule_id=schedule_id))
    assert info.value.errcode == C.ERR_SCHEDULE_DELETED


async def test_invalid_parameters_are_rejected_without_retry(
    client: WeComClient, emulator_server: Any
) -> None:
    cal_id = await new_calendar(client)
    with pytest.raises(InvalidParameterError) as info:
        await client.schedule_add(single(cal_id, summary="x" * (C.SUMMARY_MAX + 1)))
    assert info.value.endpoint == C.SCHEDULE_ADD
    bad_reminder = single(cal_id).with_changes(
        reminders=Reminders(is_remind=1, remind_time_diffs=(3600,), is_repeat=0)
    )
    with pytest.raises(InvalidParameterError) as info:
        await client.schedule_add(bad_reminder)
    assert info.value.errcode == C.ERR_BAD_REMIND_TIME_DIFFS
    assert [r["errcode"] for r in requests_to(emulator_server, C.SCHEDULE_ADD)] == [
        40058,
        C.ERR_BAD_REMIND_TIME_DIFFS,
    ]


async def test_moving_a_one_off_into_the_past(client: WeComClient) -> None:
    cal_id = await new_calendar(client)
    schedule_id = await client.schedule_add(single(cal_id))
    past = int(time.time()) - 3 * DAY
    with pytest.raises(StartInPastError) as info:
        await client.schedule_update(
            single(cal_id, start=past).with_changes(schedule_id=schedule_id)
        )
    assert info.value.errcode == C.ERR_START_IN_PAST


async def test_bad_op_mode_use(client: WeComClient) -> None:
    cal_id = await new_calendar(client)
    schedule_id = await client.schedule_add(single(cal_id))
    with pytest.raises(InvalidParameterError):
        await client.schedule_del(schedule_id, op_mode=C.OP_THIS, op_start_time=tomorrow_at(10))


@pytest.mark.parametrize(
    ("corpid", "secret", "errcode"),
    [(CORPID, "wrong-secret-value", 40001), ("wwsomeoneelse", SECRET, 40013)],
)
async def test_wrong_credentials(
    emulator_server: Any, corpid: str, secret: str, errcode: int
) -> None:
    async with make_client(emulator_server, corpid=corpid, corpsecret=Secret(secret)) as c:
        with pytest.raises(CredentialsError) as info:
            await c.check_credentials()
        with pytest.raises(CredentialsError):
            await c.schedule_get(["x"])
    assert info.value.errcode == errcode
    assert secret not in str(info.value)
    assert len(requests_to(emulator_server, C.GETTOKEN_PATH)) == 2  # never retried


@pytest.mark.parametrize(
    ("errcode", "cls"),
    [(60111, UnknownUserError), (40003, UnknownUserError), (48002, type(None))],
)
async def test_errcodes_wecom_may_send(
    client: WeComClient, emulator_server: Any, errcode: int, cls: type
) -> None:
    fault(emulator_server, C.SCHEDULE_ADD_ATTENDEES, "errcode", errcode=errcode)
    with pytest.raises(Exception) as info:
        await client.schedule_add_attendees("any", ["ghost"])
    assert getattr(info.value, "errcode", None) == errcode
    if cls is not type(None):
        assert isinstance(info.value, cls)
    assert len(requests_to(emulator_server, C.SCHEDULE_ADD_ATTENDEES)) == 1


# --- token ----------------------------------------------------------------------


async def test_expired_token_is_replaced_and_the_call_sent_again(
    client: WeComClient, emulator_server: Any
) -> None:
    cal_id = await new_calendar(client)
    emulator_server.admin("POST", "/_emulator/clock", {"advance": 7200 + 60})
    [got] = await client.calendar_get([cal_id])
    assert got.cal_id == cal_id
    log = [
        (r["path"], r["errcode"])
        for r in emulator_server.admin("GET", "/_emulator/requests")["requests"]
    ]
    assert log == [
        (C.GETTOKEN_PATH, 0),
        (C.CALENDAR_ADD, 0),
        (C.CALENDAR_GET, C.ERR_TOKEN_EXPIRED),
        (C.GETTOKEN_PATH, 0),
        (C.CALENDAR_GET, 0),
    ]


async def test_invalid_cached_token_is_replaced(emulator_server: Any, tmp_path: Path) -> None:
    cache_path = tmp_path / "token.json"
    key = cache_key(emulator_server.url, CORPID, Secret(SECRET))
    far = time.time() + 7000
    cache_path.write_text(
        json.dumps(
            {key: {"access_token": "forged-token-xyz", "expires_at": far, "refresh_at": far}}
        )
    )
    async with make_client(emulator_server, token_cache=cache_path) as c:
        await c.calendar_add(Calendar(summary="t", color="#000000"))
    log = [
        (r["path"], r["errcode"])
        for r in emulator_server.admin("GET", "/_emulator/requests")["requests"]
    ]
    assert log == [
        (C.CALENDAR_ADD, C.ERR_INVALID_TOKEN),
        (C.GETTOKEN_PATH, 0),
        (C.CALENDAR_ADD, 0),
    ]
    cached = TokenCache(cache_path).load(key)
    assert cached is not None
    assert cached.value != "forged-token-xyz"

    # the next run uses the cached token: no gettoken at all
    emulator_server.admin("DELETE", "/_emulator/requests")
    async with make_client(emulator_server, token_cache=cache_path) as c:
        await c.calendar_add(Calendar(summary="t2", color="#000000"))
    assert requests_to(emulator_server, C.GETTOKEN_PATH) == []


async def test_concurrent_first_calls_fetch_one_token(
    client: WeComClient, emulator_server: Any
) -> None:
    cal_id = await new_calendar(client)
    emulator_server.admin("POST", "/_emulator/reset")
    async with make_client(emulator_server, max_concurrency=8) as fresh:
        results = await asyncio.gather(
            *(fresh.calendar_add(Calendar(summary=f"c{i}", color="#000000")) for i in range(20)),
            return_exceptions=True,
        )
    assert all(isinstance(r, str) for r in results), results
    assert cal_id not in results
    assert len(requests_to(emulator_server, C.GETTOKEN_PATH)) == 1


# --- retries and lost answers ---------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        {"kind": "errcode", "errcode": -1},
        {"kind": "errcode", "errcode": 45009},
        {"kind": "errcode", "errcode": 45033},
        {"kind": "http_status", "status": 502},
        {"kind": "drop_after_commit"},
    ],
)
async def test_reads_are_retried(client: WeComClient, emulator_server: Any, kind: Any) -> None:
    cal_id = await new_calendar(client)
    fault(emulator_server, C.CALENDAR_GET, times=2, **kind)
    [got] = await client.calendar_get([cal_id])
    assert got.cal_id == cal_id
    assert len(requests_to(emulator_server, C.CALENDAR_GET)) == 3
    assert client.stats.retries[C.CALENDAR_GET] == 2


async def test_read_timeout_is_retried(emulator_server: Any) -> None:
    async with make_client(emulator_server, timeout=0.3) as c:
        cal_id = await new_calendar(c)
        fault(emulator_server, C.SCHEDULE_GET_BY_CALENDAR, "delay", seconds=1.0)
        assert await c.schedule_list(cal_id) == []
        assert c.stats.transport_errors[C.SCHEDULE_GET_BY_CALENDAR] == 1
        assert c.stats.retries[C.SCHEDULE_GET_BY_CALENDAR] == 1


async def test_busy_add_is_retried(client: WeComClient, emulator_server: Any) -> None:
    cal_id = await new_calendar(client)
    fault(emulator_server, C.SCHEDULE_ADD, "errcode", times=2, errcode=45009)
    schedule_id = await client.schedule_add(single(cal_id))
    assert [s.schedule_id for s in await client.schedule_list(cal_id)] == [schedule_id]


async def test_retries_give_up_with_the_last_error(
    client: WeComClient, emulator_server: Any
) -> None:
    n = FAST.attempts
    fault(emulator_server, C.CALENDAR_GET, "errcode", times=n, errcode=-1)
    with pytest.raises(BusyError):
        await client.calendar_get(["x"])
    fault(emulator_server, C.SCHEDULE_GET, "errcode", times=n, errcode=45009)
    with pytest.raises(RateLimitedError):
        await client.schedule_get(["x"])
    fault(emulator_server, C.SCHEDULE_GET, "http_status", times=n, status=503)
    with pytest.raises(WeComTransportError) as info:
        await client.schedule_get(["x"])
    assert info.value.cause == "HTTP 503"
    assert len(requests_to(emulator_server, C.SCHEDULE_GET)) == 2 * FAST.attempts


async def test_no_retry_on_invalid_parameter(client: WeComClient, emulator_server: Any) -> None:
    cal_id = await new_calendar(client)
    schedule_id = await client.schedule_add(single(cal_id))
    fault(emulator_server, C.SCHEDULE_UPDATE, "errcode", times=3, errcode=40058)
    with pytest.raises(InvalidParameterError):
        await client.schedule_update(single(cal_id).with_changes(schedule_id=schedule_id))
    assert len(requests_to(emulator_server, C.SCHEDULE_UPDATE)) == 1


async def test_lost_add_answer_is_maybe_applied_and_applied(
    client: WeComClient, emulator_server: Any
) -> None:
    cal_id = await new_calendar(client)
    fault(emulator_server, C.SCHEDULE_ADD, "drop_after_commit")
    with pytest.raises(WeComTransportError) as info:
        await client.schedule_add(single(cal_id, "ghost write"))
    assert info.value.maybe_applied
    assert len(requests_to(emulator_server, C.SCHEDULE_ADD)) == 1  # not sent twice
    listed = await client.schedule_list(cal_id)
    assert [s.summary for s in listed] == ["ghost write"]


async def test_lost_calendar_add_answer_is_maybe_applied(
    client: WeComClient, emulator_server: Any
) -> None:
    fault(emulator_server, C.CALENDAR_ADD, "drop_after_commit")
    with pytest.raises(WeComTransportError) as info:
        await client.calendar_add(Calendar(summary="c", color="#000000"))
    assert info.value.maybe_applied
    assert len(requests_to(emulator_server, C.CALENDAR_ADD)) == 1


async def test_timed_out_add_is_maybe_applied(emulator_server: Any) -> None:
    async with make_client(emulator_server, timeout=0.3) as c:
        cal_id = await new_calendar(c)
        fault(emulator_server, C.SCHEDULE_ADD, "delay", seconds=0.6)
        with pytest.raises(WeComTransportError) as info:
            await c.schedule_add(single(cal_id))
        assert info.value.maybe_applied
        assert "Timeout" in info.value.cause


async def test_delete_whose_answer_was_lost_succeeds(
    client: WeComClient, emulator_server: Any
) -> None:
    cal_id = await new_calendar(client)
    schedule_id = await client.schedule_add(single(cal_id))
    fault(emulator_server, C.SCHEDULE_DEL, "drop_after_commit")
    await client.schedule_del(schedule_id)
    first, second = requests_to(emulator_server, C.SCHEDULE_DEL)
    assert first["http_status"] is None  # no answer went out
    assert second["errcode"] == C.ERR_SCHEDULE_DELETED
    fault(emulator_server, C.CALENDAR_DEL, "drop_after_commit")
    await client.calendar_del(cal_id)
    [second] = requests_to(emulator_server, C.CALENDAR_DEL)[1:]
    assert second["errcode"] == C.ERR_CALENDAR_DELETED


async def test_full_update_whose_answer_was_lost_is_sent_again(
    client: WeComClient, emulator_server: Any
) -> None:
    cal_id = await new_calendar(client)
    schedule_id = await client.schedule_add(single(cal_id))
    fault(emulator_server, C.SCHEDULE_UPDATE, "drop_after_commit")
    edited = single(cal_id, "edited").with_changes(schedule_id=schedule_id)
    assert await client.schedule_update(edited) == schedule_id
    assert len(requests_to(emulator_server, C.SCHEDULE_UPDATE)) == 2
    [got] = await client.schedule_get([schedule_id])
    assert got.summary == "edited"


# --- paging and batching --------------------------------------------------------------


def bulk_add(server: Any, cal_id: str, count: int) -> list[str]:
    """Schedules straight into the emulator: the test is about reading them back."""
    emulator = server.emulator
    token = emulator.issue_token()
    start = tomorrow_at(8)
    ids = []
    for i in range(count):
        body = {
            "schedule": {
                "cal_id": cal_id,
                "summary": f"bulk {i}",
                "start_time": start + i * 60,
                "end_time": start + i * 60 + 30,
            }
        }
        reply = emulator.handle(
            "POST", C.SCHEDULE_ADD, {"access_token": token}, json.dumps(body).encode()
        )
        assert reply.errcode == 0, reply.payload
        ids.append(reply.payload["schedule_id"])
    return ids


async def test_listing_pages_through_everything(client: WeComClient, emulator_server: Any) -> None:
    cal_id = await new_calendar(client)
    ids = bulk_add(emulator_server, cal_id, 2345)
    listed = await client.schedule_list(cal_id)
    assert sorted(s.schedule_id or "" for s in listed) == sorted(ids)
    pages = requests_to(emulator_server, C.SCHEDULE_GET_BY_CALENDAR)
    assert len(pages) == 4, pages  # 1000 + 1000 + 345 + the empty page

    small_pages = await client.schedule_list(cal_id, limit=700)
    assert len(small_pages) == 2345
    assert len(requests_to(emulator_server, C.SCHEDULE_GET_BY_CALENDAR)) == 4 + 5


class FaultAfterFirstPage(httpx.AsyncBaseTransport):
    """Real HTTP; once the first listing page has been answered, the emulator
    is told to fail every later call to get_by_calendar."""

    def __init__(self, server: Any) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.server = server
        self.pages = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path == C.SCHEDULE_GET_BY_CALENDAR:
            self.pages += 1
            if self.pages == 1:
                await asyncio.to_thread(
                    fault, self.server, C.SCHEDULE_GET_BY_CALENDAR, "errcode", 50, errcode=-1
                )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_listing_that_fails_midway_raises(emulator_server: Any) -> None:
    transport = FaultAfterFirstPage(emulator_server)
    async with make_client(emulator_server, transport=transport) as c:
        cal_id = await new_calendar(c)
        bulk_add(emulator_server, cal_id, 30)
        with pytest.raises(BusyError):
            await c.schedule_list(cal_id, limit=10)
    assert transport.pages == 1 + FAST.attempts


async def test_get_batches_a_thousand_ids_per_call(
    client: WeComClient, emulator_server: Any
) -> None:
    cal_id = await new_calendar(client)
    ids = bulk_add(emulator_server, cal_id, 2100)
    got = await client.schedule_get(ids)
    assert [s.schedule_id for s in got] == ids
    assert all(s.is_complete for s in got)
    assert len(requests_to(emulator_server, C.SCHEDULE_GET)) == 3


# --- quota ------------------------------------------------------------------------


async def test_rate_limiter_keeps_under_the_emulators_quota(emulator_server: Any) -> None:
    emulator_server.admin("POST", "/_emulator/config", {"rate_limit": 3})
    minute = 1_893_456_000  # a whole minute, so the emulator's windows line up
    emulator_server.admin("POST", "/_emulator/clock", {"now": minute})
    fake_now = [float(minute)]

    async def sleep(seconds: float) -> None:
        # waiting moves both clocks: the limiter's and the emulator's
        fake_now[0] += seconds
        await asyncio.to_thread(
            emulator_server.admin, "POST", "/_emulator/clock", {"advance": seconds}
        )

    limiter = RateLimiter(3, clock=lambda: fake_now[0], sleep=sleep)
    async with make_client(emulator_server, limiter=limiter) as c:
        cal_id = await new_calendar(c)
        for _ in range(7):
            await c.calendar_get([cal_id])
    got = requests_to(emulator_server, C.CALENDAR_GET)
    assert [r["errcode"] for r in got] == [0] * 7
    assert limiter.waits == 2
    assert fake_now[0] - minute == 120

    # without the limiter the same burst runs into WeCom's 45009
    emulator_server.admin("DELETE", "/_emulator/requests")
    async with make_client(emulator_server) as unlimited:
        with pytest.raises(RateLimitedError):
            for _ in range(7):
                await unlimited.calendar_get([cal_id])
    assert C.ERR_RATE_LIMITED in [
        r["errcode"] for r in requests_to(emulator_server, C.CALENDAR_GET)
    ]
