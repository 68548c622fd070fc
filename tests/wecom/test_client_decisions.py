"""The client's decisions, driven by a scripted transport: what is retried,
what is never sent twice, what each request looks like.

The same behaviours are checked against the emulator over real HTTP in
test_client_emulator.py; here each failure can be placed exactly (a
connection refused before sending versus an answer lost after it).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from wesync.config import Secret
from wesync.wecom import constants as C
from wesync.wecom.client import WeComClient
from wesync.wecom.errors import (
    CredentialsError,
    InvalidParameterError,
    NotFoundError,
    TokenError,
    WeComTransportError,
)
from wesync.wecom.models import Calendar, Schedule
from wesync.wecom.ratelimit import RateLimiter
from wesync.wecom.retry import RetryPolicy

SECRET = "scripted-corp-secret"
Step = Callable[[httpx.Request], httpx.Response] | httpx.Response | Exception | dict[str, Any]


class Script:
    """A transport answering from per-path queues, then with a default success."""

    def __init__(self) -> None:
        self.queues: defaultdict[str, deque[Step]] = defaultdict(deque)
        self.requests: list[httpx.Request] = []
        self.tokens_issued = 0

    def then(self, path: str, *steps: Step) -> None:
        self.queues[path].extend(steps)

    def calls(self, path: str) -> int:
        return sum(1 for r in self.requests if r.url.path == path)

    def bodies(self, path: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.url.path == path]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if self.queues[path]:
            step = self.queues[path].popleft()
            if isinstance(step, Exception):
                raise step
            if isinstance(step, httpx.Response):
                return step
            if isinstance(step, dict):
                return httpx.Response(200, json=step)
            return step(request)
        if path == C.GETTOKEN_PATH:
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "errcode": 0,
                    "errmsg": "ok",
                    "access_token": f"scripted-token-{self.tokens_issued:03d}",
                    "expires_in": 7200,
                },
            )
        token = request.url.params.get("access_token")
        if token != f"scripted-token-{self.tokens_issued:03d}":
            return httpx.Response(200, json={"errcode": 40014, "errmsg": "invalid access_token"})
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok", **_default(path, request)})


def _default(path: str, request: httpx.Request) -> dict[str, Any]:
    if path == C.SCHEDULE_ADD:
        return {"schedule_id": "sch-new"}
    if path == C.CALENDAR_ADD:
        return {"cal_id": "cal-new"}
    if path == C.SCHEDULE_GET:
        ids = json.loads(request.content)["schedule_id_list"]
        return {"schedule_list": [{"schedule_id": i, "start_time": 1, "end_time": 2} for i in ids]}
    if path == C.CALENDAR_GET:
        ids = json.loads(request.content)["cal_id_list"]
        return {"calendar_list": [{"cal_id": i, "summary": "s", "color": "#000000"} for i in ids]}
    if path == C.SCHEDULE_GET_BY_CALENDAR:
        return {"schedule_list": []}
    return {}


FAST = RetryPolicy(attempts=4, base=0.0, cap=0.0)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
async def client(script: Script) -> AsyncIterator[WeComClient]:
    async with WeComClient(
        corpid="wwscripted",
        corpsecret=Secret(SECRET),
        base_url="http://wecom.test",
        transport=httpx.MockTransport(script.handler),
        retry=FAST,
    ) as c:
        yield c


def lost(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def dropped(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("server disconnected without response", request=request)


SCHEDULE = Schedule(cal_id="cal-1", summary="s", start_time=1767232800, end_time=1767236400)


# --- non-idempotent writes ---------------------------------------------------------------


@pytest.mark.parametrize("failure", [lost, dropped, httpx.Response(502), httpx.Response(200)])
async def test_add_whose_answer_is_lost_is_not_sent_again(
    client: WeComClient, script: Script, failure: Step
) -> None:
    script.then(C.SCHEDULE_ADD, failure)
    with pytest.raises(WeComTransportError) as info:
        await client.schedule_add(SCHEDULE)
    assert info.value.maybe_applied
    assert info.value.endpoint == C.SCHEDULE_ADD
    assert script.calls(C.SCHEDULE_ADD) == 1


async def test_calendar_add_whose_answer_is_lost_is_not_sent_again(
    client: WeComClient, script: Script
) -> None:
    script.then(C.CALENDAR_ADD, lost)
    with pytest.raises(WeComTransportError) as info:
        await client.calendar_add(Calendar(summary="c", color="#123456"))
    assert info.value.maybe_applied
    assert script.calls(C.CALENDAR_ADD) == 1


async def test_add_refused_before_sending_is_retried(client: WeComClient, script: Script) -> None:
    script.then(C.SCHEDULE_ADD, refused, refused)
    assert await client.schedule_add(SCHEDULE) == "sch-new"
    assert script.calls(C.SCHEDULE_ADD) == 3
    assert client.stats.retries[C.SCHEDULE_ADD] == 2


async def test_add_refused_every_time_is_not_maybe_applied(
    client: WeComClient, script: Script
) -> None:
    script.then(C.SCHEDULE_ADD, *[refused] * 4)
    with pytest.raises(WeComTransportError) as info:
        await client.schedule_add(SCHEDULE)
    assert not info.value.maybe_applied
    assert "ConnectError" in info.value.cause
    assert script.calls(C.SCHEDULE_ADD) == 4


@pytest.mark.parametrize("errcode", [-1, 45009, 45033])
async def test_add_that_wecom_turned_away_is_retried(
    client: WeComClient, script: Script, errcode: int
) -> None:
    script.then(C.SCHEDULE_ADD, {"errcode": errcode, "errmsg": "busy"})
    assert await client.schedule_add(SCHEDULE) == "sch-new"
    assert script.calls(C.SCHEDULE_ADD) == 2


async def test_add_answer_without_id_is_maybe_applied(client: WeComClient, script: Script) -> None:
    script.then(C.SCHEDULE_ADD, {"errcode": 0, "errmsg": "ok"})
    with pytest.raises(WeComTransportError) as info:
        await client.schedule_add(SCHEDULE)
    assert info.value.maybe_applied


async def test_split_update_whose_answer_is_lost_is_not_sent_again(
    client: WeComClient, script: Script
) -> None:
    script.then(C.SCHEDULE_UPDATE, lost)
    with pytest.raises(WeComTransportError) as info:
        await client.schedule_update(
            SCHEDULE.with_changes(schedule_id="sch-1"), op_mode=C.OP_THIS, op_start_time=5
        )
    assert info.value.maybe_applied
    assert script.calls(C.SCHEDULE_UPDATE) == 1


# --- idempotent calls ----------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        lost,
        dropped,
        refused,
        httpx.Response(502),
        httpx.Response(503, text="<html>busy</html>"),
        httpx.Response(200, text="<html>captive portal</html>"),
        {"errcode": -1, "errmsg": "system busy"},
        {"errcode": 45009, "errmsg": "api freq out of limit"},
    ],
)
async def test_reads_and_full_updates_are_retried(
    client: WeComClient, script: Script, failure: Step
) -> None:
    script.then(C.SCHEDULE_GET, failure)
    script.then(C.SCHEDULE_UPDATE, failure)
    script.then(C.SCHEDULE_DEL_ATTENDEES, failure)
    got = await client.schedule_get(["a"])
    assert [s.schedule_id for s in got] == ["a"]
    assert await client.schedule_update(SCHEDULE.with_changes(schedule_id="a")) == "a"
    await client.schedule_del_attendees("a", ["lisi"])
    for path in (C.SCHEDULE_GET, C.SCHEDULE_UPDATE, C.SCHEDULE_DEL_ATTENDEES):
        assert script.calls(path) == 2


async def test_retries_are_bounded_and_end_in_a_transport_error(
    client: WeComClient, script: Script
) -> None:
    script.then(C.SCHEDULE_GET, *[httpx.Response(502)] * 10)
    with pytest.raises(WeComTransportError) as info:
        await client.schedule_get(["a"])
    assert info.value.cause == "HTTP 502"
    assert not info.value.maybe_applied
    assert script.calls(C.SCHEDULE_GET) == FAST.attempts
    assert client.stats.transport_errors[C.SCHEDULE_GET] == FAST.attempts


async def test_busy_to_the_end_raises_the_api_error(client: WeComClient, script: Script) -> None:
    script.then(C.SCHEDULE_GET, *[{"errcode": 45009, "errmsg": "freq"}] * 10)
    with pytest.raises(Exception) as info:
        await client.schedule_get(["a"])
    assert getattr(info.value, "errcode", None) == 45009
    assert script.calls(C.SCHEDULE_GET) == FAST.attempts


@pytest.mark.parametrize("errcode", [40058, 90704, 90706, 60111, 90460])
async def test_parameter_and_other_errors_are_not_retried(
    client: WeComClient, script: Script, errcode: int
) -> None:
    script.then(C.SCHEDULE_UPDATE, {"errcode": errcode, "errmsg": "no"})
    with pytest.raises(Exception) as info:
        await client.schedule_update(SCHEDULE.with_changes(schedule_id="a"))
    assert getattr(info.value, "errcode", None) == errcode
    assert script.calls(C.SCHEDULE_UPDATE) == 1


async def test_http_4xx_is_not_retried(client: WeComClient, script: Script) -> None:
    script.then(C.SCHEDULE_GET, httpx.Response(404, text="not found"))
    with pytest.raises(WeComTransportError) as info:
        await client.schedule_get(["a"])
    assert info.value.cause == "HTTP 404"
    assert script.calls(C.SCHEDULE_GET) == 1


async def test_total_time_budget_stops_retries(script: Script) -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    policy = RetryPolicy(
        attempts=100,
        base=10.0,
        cap=10.0,
        total=25.0,
        random=lambda: 1.0,
        sleep=sleep,
        clock=lambda: now[0],
    )
    script.then(C.SCHEDULE_GET, *[{"errcode": -1, "errmsg": "busy"}] * 10)
    async with WeComClient(
        corpid="ww",
        corpsecret=Secret(SECRET),
        base_url="http://wecom.test",
        transport=httpx.MockTransport(script.handler),
        retry=policy,
    ) as c:
        with pytest.raises(Exception) as info:
            await c.schedule_get(["a"])
    assert getattr(info.value, "errcode", None) == -1
    assert script.calls(C.SCHEDULE_GET) == 3  # t=0, 10, 20; the next wait would pass 25 s
    assert now[0] == 20.0


async def test_delete_whose_first_answer_was_lost_accepts_gone(
    client: WeComClient, script: Script
) -> None:
    script.then(C.SCHEDULE_DEL, lost, {"errcode": 90460, "errmsg": "schedule deleted"})
    await client.schedule_del("sch-1")
    script.then(C.CALENDAR_DEL, dropped, {"errcode": 90459, "errmsg": "calendar deleted"})
    await client.calendar_del("cal-1")


async def test_delete_of_a_missing_schedule_still_raises(
    client: WeComClient, script: Script
) -> None:
    script.then(C.SCHEDULE_DEL, {"errcode": 90460, "errmsg": "schedule deleted"})
    with pytest.raises(NotFoundError):
        await client.schedule_del("sch-1")


# --- token ----------------------------------------------------------------------


@pytest.mark.parametrize("errcode", [40014, 42001])
async def test_refused_token_is_replaced_once(
    client: WeComClient, script: Script, errcode: int
) -> None:
    await client.schedule_get(["a"])
    script.then(C.SCHEDULE_GET, {"errcode": errcode, "errmsg": "token"})
    await client.schedule_get(["a"])
    assert script.tokens_issued == 2
    tokens = [
        r.url.params["access_token"] for r in script.requests if r.url.path != "/cgi-bin/gettoken"
    ]
    assert tokens == ["scripted-token-001", "scripted-token-001", "scripted-token-002"]


async def test_token_refused_twice_raises(client: WeComClient, script: Script) -> None:
    script.then(
        C.SCHEDULE_ADD,
        {"errcode": 42001, "errmsg": "expired"},
        {"errcode": 42001, "errmsg": "expired"},
    )
    with pytest.raises(TokenError):
        await client.schedule_add(SCHEDULE)
    assert script.tokens_issued == 2
    assert script.calls(C.SCHEDULE_ADD) == 2


async def test_bad_secret_is_a_credentials_error_not_retried(
    client: WeComClient, script: Script
) -> None:
    script.then(C.GETTOKEN_PATH, {"errcode": 40001, "errmsg": "invalid credential"})
    with pytest.raises(CredentialsError) as info:
        await client.check_credentials()
    assert SECRET not in str(info.value)
    assert "corpsecret" in str(info.value)
    assert script.calls(C.GETTOKEN_PATH) == 1


async def test_gettoken_is_retried_when_busy(client: WeComClient, script: Script) -> None:
    script.then(C.GETTOKEN_PATH, refused, {"errcode": -1, "errmsg": "busy"})
    await client.check_credentials()
    assert script.calls(C.GETTOKEN_PATH) == 3


async def test_gettoken_without_a_token_is_an_error(client: WeComClient, script: Script) -> None:
    script.then(C.GETTOKEN_PATH, {"errcode": 0, "errmsg": "ok"})
    with pytest.raises(WeComTransportError, match="without an access_token"):
        await client.check_credentials()


# --- request shapes ---------------------------------------------------------------


async def test_request_bodies(client: WeComClient, script: Script) -> None:
    cal = Calendar(cal_id="cal-1", summary="Rota", color="#112233", is_public=1)
    await client.calendar_update(cal, skip_public_range=True)
    assert script.bodies(C.CALENDAR_UPDATE) == [
        {
            "calendar": {"cal_id": "cal-1", "summary": "Rota", "color": "#112233"},
            "skip_public_range": 1,
        }
    ]
    script.then(C.SCHEDULE_UPDATE, {"errcode": 0, "errmsg": "ok", "schedule_id": "split-off"})
    new_id = await client.schedule_update(
        SCHEDULE.with_changes(schedule_id="sch-1"),
        skip_attendees=True,
        op_mode=C.OP_THIS_AND_FOLLOWING,
        op_start_time=1767837600,
    )
    assert new_id == "split-off"
    body = script.bodies(C.SCHEDULE_UPDATE)[0]
    assert body["skip_attendees"] == 1
    assert body["op_mode"] == 2
    assert body["op_start_time"] == 1767837600
    assert body["schedule"]["schedule_id"] == "sch-1"
    assert "cal_id" not in body["schedule"]

    await client.schedule_del("sch-1", op_mode=C.OP_THIS, op_start_time=1767837600)
    await client.schedule_del("sch-2")
    assert script.bodies(C.SCHEDULE_DEL) == [
        {"schedule_id": "sch-1", "op_mode": 1, "op_start_time": 1767837600},
        {"schedule_id": "sch-2", "op_mode": 0},
    ]
    await client.schedule_add_attendees("sch-2", ["lisi", "wangwu"])
    assert script.bodies(C.SCHEDULE_ADD_ATTENDEES) == [
        {"schedule_id": "sch-2", "attendees": [{"userid": "lisi"}, {"userid": "wangwu"}]}
    ]
    await client.calendar_del("cal-1")
    assert script.bodies(C.CALENDAR_DEL) == [{"cal_id": "cal-1"}]
    added = await client.schedule_add(SCHEDULE)
    assert added == "sch-new"
    assert script.bodies(C.SCHEDULE_ADD)[0] == {"schedule": SCHEDULE.to_api()}


async def test_empty_inputs_make_no_call(client: WeComClient, script: Script) -> None:
    assert await client.schedule_get([]) == []
    assert await client.calendar_get([]) == []
    await client.schedule_add_attendees("s", [])
    await client.schedule_del_attendees("s", [])
    assert script.requests == []
    with pytest.raises(TypeError):
        await client.schedule_get("abc")


async def test_calendar_add_logs_members_wecom_refused(
    client: WeComClient, script: Script, caplog: pytest.LogCaptureFixture
) -> None:
    script.then(
        C.CALENDAR_ADD,
        {
            "errcode": 0,
            "errmsg": "ok",
            "cal_id": "cal-9",
            "fail_result": {"shares": [{"errcode": 60111, "errmsg": "bad", "userid": "ghost"}]},
        },
    )
    with caplog.at_level(logging.WARNING, logger="wesync.wecom"):
        assert await client.calendar_add(Calendar(summary="c", color="#000000")) == "cal-9"
    assert "ghost" in caplog.text
    assert "60111" in caplog.text


async def test_invalid_doc_sample_calendar_get_is_accepted(
    client: WeComClient, script: Script
) -> None:
    raw = b'{"errcode": 0, "calendar_list": [{"cal_id": "c1", "adminis": ["a", "b",],}]}'
    script.then(C.CALENDAR_GET, httpx.Response(200, content=raw))
    [cal] = await client.calendar_get(["c1"])
    assert cal.admins == ("a", "b")


async def test_unexpected_payload_is_an_error_not_a_partial_result(
    client: WeComClient, script: Script
) -> None:
    script.then(
        C.SCHEDULE_GET, {"errcode": 0, "errmsg": "ok", "schedule_list": [{"start_time": "x"}]}
    )
    with pytest.raises(WeComTransportError, match="unexpected answer"):
        await client.schedule_get(["a"])


# --- paging and batching ------------------------------------------------------------


@pytest.mark.parametrize(("path", "call"), [
    (C.SCHEDULE_GET_BY_CALENDAR, lambda c: c.schedule_list("cal")),
    (C.SCHEDULE_GET, lambda c: c.schedule_get(["s1"])),
    (C.CALENDAR_GET, lambda c: c.calendar_get(["cal"])),
])
async def test_answer_without_its_list_is_an_error_not_empty(
    client: WeComClient, script: Script, path: str, call: Callable[[WeComClient], Any]
) -> None:
    # errcode 0 with the list left out must not read as "nothing there": a listing
    # taken as empty makes every schedule look deleted to the sync engine
    script.then(path, {"errcode": 0, "errmsg": "ok"})
    with pytest.raises(WeComTransportError, match="missing"):
        await call(client)


async def test_listing_that_repeats_a_page_raises(client: WeComClient, script: Script) -> None:
    page = {"errcode": 0, "errmsg": "ok", "schedule_list": [{"schedule_id": "x"}]}
    script.then(C.SCHEDULE_GET_BY_CALENDAR, page, page)
    with pytest.raises(WeComTransportError, match="repeated"):
        await client.schedule_list("cal-1")


async def test_listing_failure_midway_raises(client: WeComClient, script: Script) -> None:
    page = {"errcode": 0, "errmsg": "ok", "schedule_list": [{"schedule_id": "x"}]}
    script.then(C.SCHEDULE_GET_BY_CALENDAR, page, {"errcode": 90459, "errmsg": "calendar deleted"})
    with pytest.raises(NotFoundError):
        await client.schedule_list("cal-1", limit=1)


async def test_listing_limit_is_checked(client: WeComClient) -> None:
    with pytest.raises(ValueError):
        await client.schedule_list("c", limit=1001)
    with pytest.raises(ValueError):
        await client.schedule_list("c", limit=0)


async def test_get_batches_of_a_thousand_keep_order(client: WeComClient, script: Script) -> None:
    ids = [f"id{i:05d}" for i in range(2345)]
    got = await client.schedule_get(ids)
    assert [s.schedule_id for s in got] == ids
    sizes = [len(b["schedule_id_list"]) for b in script.bodies(C.SCHEDULE_GET)]
    assert sorted(sizes) == [345, 1000, 1000]
    cals = await client.calendar_get(ids[:1001])
    assert len(cals) == 1001
    assert script.calls(C.CALENDAR_GET) == 2


async def test_one_failed_batch_fails_the_whole_get(client: WeComClient, script: Script) -> None:
    script.then(C.SCHEDULE_GET, {"errcode": 40058, "errmsg": "bad"})
    with pytest.raises(InvalidParameterError):
        await client.schedule_get([f"id{i}" for i in range(2500)])


# --- quota -------------------------------------------------------------------------


async def test_client_spaces_calls_under_the_rate_limit(script: Script) -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    arrivals: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == C.SCHEDULE_GET:
            arrivals.append(now[0])
        return script.handler(request)

    limiter = RateLimiter(2, period=60.0, clock=lambda: now[0], sleep=sleep)
    async with WeComClient(
        corpid="ww",
        corpsecret=Secret(SECRET),
        base_url="http://wecom.test",
        transport=httpx.MockTransport(handler),
        retry=FAST,
        limiter=limiter,
    ) as c:
        for i in range(5):
            await c.schedule_get([f"s{i}"])
    assert arrivals == [0.0, 0.0, 60.0, 60.0, 120.0]
    assert limiter.waits == 2


async def test_stats_count_calls_and_errcodes(client: WeComClient, script: Script) -> None:
    script.then(C.SCHEDULE_GET, {"errcode": -1, "errmsg": "busy"})
    await client.schedule_get(["a"])
    assert client.stats.calls == {C.GETTOKEN_PATH: 1, C.SCHEDULE_GET: 2}
    assert client.stats.errcodes == {0: 2, -1: 1}
    assert client.stats.by_endpoint_errcode == {
        (C.GETTOKEN_PATH, 0): 1, (C.SCHEDULE_GET, -1): 1, (C.SCHEDULE_GET, 0): 1}
    assert client.stats.total_calls() == 3


async def test_stats_leave_unanswered_calls_out_of_the_errcode_counts(
        client: WeComClient, script: Script) -> None:
    script.then(C.SCHEDULE_GET, httpx.Response(502), {"errcode": 90461, "errmsg": "bad id"})
    with pytest.raises(NotFoundError):
        await client.schedule_get(["a"])
    assert client.stats.by_endpoint_errcode == {(C.GETTOKEN_PATH, 0): 1,
                                                (C.SCHEDULE_GET, 90461): 1}
    assert client.stats.transport_errors == {C.SCHEDULE_GET: 1}
    assert client.token_fetches == 1


def test_repr_shows_no_secret() -> None:
    c = WeComClient(corpid="wwx", corpsecret=Secret(SECRET))
    assert SECRET not in repr(c)
    assert "wwx" in repr(c)


async def test_unusable_base_url_fails_at_once() -> None:
    async with WeComClient(
        corpid="ww", corpsecret=Secret(SECRET), base_url="ftp://wecom.test", retry=FAST
    ) as c:
        with pytest.raises(WeComTransportError, match="UnsupportedProtocol"):
            await c.check_credentials()
        assert c.stats.calls[C.GETTOKEN_PATH] == 1
