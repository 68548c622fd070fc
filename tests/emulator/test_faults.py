"""Injected faults and the request log, over real HTTP and in-process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulator.helpers import T0, Api
from wesync.emulator import Emulator, make_transport
from wesync.wecom import constants as C


@pytest.fixture
def api(emulator_server: Any) -> Iterator[Api]:
    with httpx.Client(base_url=emulator_server.url, timeout=10) as client:
        yield Api(client)


def fault(server: Any, **body: Any) -> None:
    server.admin("POST", "faults", body)


def test_errcode_fault_then_normal(api: Api, emulator_server: Any) -> None:
    fault(emulator_server, path=C.CALENDAR_ADD, times=2, kind="errcode", errcode=45009)
    body = {"calendar": {"summary": "x", "color": "#000000"}}
    assert [api.post(C.CALENDAR_ADD, body)["errcode"] for _ in range(3)] == [45009, 45009, 0]
    # failed calls changed nothing
    assert emulator_server.emulator.dump()["calendars"].__len__() == 1


def test_http_status_fault(api: Api, emulator_server: Any) -> None:
    fault(emulator_server, path=C.GETTOKEN_PATH, kind="http_status", status=502)
    response = api.client.get(C.GETTOKEN_PATH, params={"corpid": "wwemulator",
                                                       "corpsecret": "emulator-secret"})
    assert response.status_code == 502
    assert api.gettoken()["errcode"] == 0


def test_delay_fault(api: Api, emulator_server: Any) -> None:
    api.gettoken()
    fault(emulator_server, path=C.CALENDAR_GET, kind="delay", seconds=0.3)
    began = time.monotonic()
    assert api.post(C.CALENDAR_GET, {"cal_id_list": ["x"]})["errcode"] == C.ERR_BAD_CAL_ID
    assert time.monotonic() - began >= 0.3
    began = time.monotonic()
    api.post(C.CALENDAR_GET, {"cal_id_list": ["x"]})
    assert time.monotonic() - began < 0.3


def test_drop_after_commit_over_http(api: Api, emulator_server: Any) -> None:
    cal_id = api.add_calendar()
    fault(emulator_server, path=C.SCHEDULE_ADD, kind="drop_after_commit")
    body = {"schedule": {"cal_id": cal_id, "start_time": T0, "end_time": T0 + 60}}
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.client.post(C.SCHEDULE_ADD, params={"access_token": api.token}, json=body)
    # the schedule exists although the client never heard of it
    listed = api.listing(cal_id)
    assert len(listed) == 1 and listed[0]["start_time"] == T0
    # and the server still serves the next call normally
    assert api.post(C.SCHEDULE_ADD, body)["errcode"] == 0
    log = emulator_server.admin("GET", "requests")["requests"]
    dropped = [r for r in log if r["http_status"] is None]
    assert dropped == [{"method": "POST", "path": C.SCHEDULE_ADD, "errcode": 0,
                        "http_status": None}]


async def test_drop_after_commit_in_process() -> None:
    transport = make_transport(state_path=None)
    emulator: Emulator = transport.emulator  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://wecom.emulator") as client:
        token = (await client.get(C.GETTOKEN_PATH, params={
            "corpid": "wwemulator", "corpsecret": "emulator-secret"})).json()["access_token"]
        emulator.add_fault({"path": C.CALENDAR_ADD, "kind": "drop_after_commit"})
        with pytest.raises(httpx.TransportError):
            await client.post(C.CALENDAR_ADD, params={"access_token": token},
                              json={"calendar": {"summary": "x", "color": "#000000"}})
        assert len(emulator.dump()["calendars"]) == 1
        again = await client.post(C.CALENDAR_ADD, params={"access_token": token},
                                  json={"calendar": {"summary": "y", "color": "#000000"}})
        assert again.json()["errcode"] == 0


def test_request_log(api: Api, emulator_server: Any) -> None:
    emulator_server.admin("DELETE", "requests")
    api.gettoken()
    api.post(C.CALENDAR_GET, {"cal_id_list": ["x"]})
    api.client.get("/cgi-bin/oa/nothing")
    emulator_server.admin("GET", "state")  # administration calls are not logged
    assert emulator_server.admin("GET", "requests") == {"requests": [
        {"method": "GET", "path": C.GETTOKEN_PATH, "errcode": 0, "http_status": 200},
        {"method": "POST", "path": C.CALENDAR_GET, "errcode": C.ERR_BAD_CAL_ID,
         "http_status": 200},
        {"method": "GET", "path": "/cgi-bin/oa/nothing", "errcode": None, "http_status": 404},
    ]}
    emulator_server.admin("DELETE", "requests")
    assert emulator_server.admin("GET", "requests") == {"requests": []}


def test_reset_forgets_everything(api: Api, emulator_server: Any) -> None:
    api.add_calendar()
    fault(emulator_server, path=C.CALENDAR_ADD, kind="errcode", errcode=-1)
    emulator_server.admin("POST", "clock", {"advance": 100})
    emulator_server.admin("POST", "reset")
    state = emulator_server.admin("GET", "state")
    assert state["calendars"] == {} and state["tokens"] == 0 and state["faults"] == []
    assert abs(state["now"] - time.time()) < 5
    assert emulator_server.admin("GET", "requests") == {"requests": []}
    # the old token is gone too
    assert api.post(C.CALENDAR_GET, {"cal_id_list": ["x"]})["errcode"] == C.ERR_INVALID_TOKEN


@pytest.mark.parametrize("body", [
    {"path": C.CALENDAR_ADD, "kind": "explode"},
    {"path": C.CALENDAR_ADD, "kind": "errcode"},
    {"path": C.CALENDAR_ADD, "kind": "http_status", "status": 42},
    {"path": C.CALENDAR_ADD, "kind": "delay"},
    {"path": C.CALENDAR_ADD, "kind": "errcode", "errcode": 1, "times": 0},
    {"kind": "errcode", "errcode": 1},
])
def test_bad_fault_requests_are_400(emulator_server: Any, body: dict[str, Any]) -> None:
    response = httpx.post(f"{emulator_server.url}/_emulator/faults", json=body)
    assert response.status_code == 400 and response.json()["error"]


async def test_admin_refuses_non_loopback_clients() -> None:
    from wesync.emulator import create_app

    app = create_app(Emulator())
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
        assert (await client.post("/_emulator/reset")).status_code == 403
        # the API itself answers anyone
        response = await client.get(C.GETTOKEN_PATH, params={"corpid": "x"})
        assert response.json()["errcode"] == C.ERR_INVALID_CORPID


def test_delay_applies_the_write_even_when_the_client_gave_up(
        api: Api, emulator_server: Any) -> None:
    # a real server has the request before it is slow: a client that times out during
    # the delay cannot tell whether its write happened, and here it did
    cal_id = api.add_calendar()
    api.gettoken()
    fault(emulator_server, path=C.SCHEDULE_ADD, kind="delay", seconds=0.6)
    body = {"schedule": {"cal_id": cal_id, "start_time": T0, "end_time": T0 + 60}}
    with pytest.raises(httpx.TimeoutException):
        api.client.post(C.SCHEDULE_ADD, params={"access_token": api.token}, json=body,
                        timeout=0.2)
    deadline = time.monotonic() + 5
    while not api.listing(cal_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    listed = api.listing(cal_id)
    assert len(listed) == 1 and listed[0]["start_time"] == T0


def test_a_request_delayed_across_a_reset_is_dropped(api: Api, emulator_server: Any) -> None:
    # a reset forgets everything: a slow request from before it must not land in
    # (or be logged by) the emulator that follows, or it leaks into the next test
    cal_id = api.add_calendar()
    api.gettoken()
    fault(emulator_server, path=C.SCHEDULE_ADD, kind="delay", seconds=0.5)
    body = {"schedule": {"cal_id": cal_id, "start_time": T0, "end_time": T0 + 60}}
    with pytest.raises(httpx.TimeoutException):
        api.client.post(C.SCHEDULE_ADD, params={"access_token": api.token}, json=body,
                        timeout=0.1)
    emulator_server.admin("POST", "reset")
    time.sleep(0.8)
    assert emulator_server.admin("GET", "requests")["requests"] == []
    assert emulator_server.emulator.state.schedules == {}


def test_state_dump_and_repr_hold_no_secret_or_token(api: Api, emulator_server: Any) -> None:
    cal_id = api.add_calendar()
    api.add_schedule(cal_id)
    state = emulator_server.admin("GET", "state")
    text = repr(state) + repr(emulator_server.emulator.state)
    assert api.token and api.token not in text
    assert api.corpsecret not in text
    # the app is still named, by its agentid
    assert state["calendars"][cal_id]["app"] == 1000002 and state["apps"] == [1000002]
