"""State files: atomic, private, and the same world after a restart (in-process and HTTP)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from tests.emulator.helpers import T0, Api, daily
from wesync.emulator import BackgroundServer, Emulator, make_transport
from wesync.emulator.errors import EmulatorError
from wesync.wecom import constants as C


def test_state_survives_a_restart_over_http(tmp_path: Path) -> None:
    path = tmp_path / "wecom.json"
    with BackgroundServer(Emulator(state_path=path)) as server, \
            httpx.Client(base_url=server.url) as client:
        api = Api(client)
        cal_id = api.add_calendar()
        sid = api.add_schedule(cal_id, reminders=daily())
        api.ok(C.SCHEDULE_DEL, {"schedule_id": sid, "op_mode": 1, "op_start_time": T0 + 86400})
        before = api.get(sid)
        token = api.token
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with BackgroundServer(Emulator(state_path=path)) as server, \
            httpx.Client(base_url=server.url) as client:
        api = Api(client)
        api.token = token  # tokens persist too, so a cached token keeps working
        assert api.get(sid) == before
        assert [i["schedule_id"] for i in api.listing(cal_id)] == [sid]
        # ids and sequences continue, not restart
        second = api.add_schedule(cal_id)
        assert api.listing(cal_id)[1]["sequence"] > api.listing(cal_id)[0]["sequence"]
        assert second != sid


async def test_in_process_transport_keeps_state(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "emulator.json"
    transport = make_transport(state_path=path, listing="full")
    async with httpx.AsyncClient(transport=transport, base_url="http://wecom") as client:
        token = (await client.get(C.GETTOKEN_PATH, params={
            "corpid": "wwemulator", "corpsecret": "emulator-secret"})).json()["access_token"]
        added = await client.post(C.CALENDAR_ADD, params={"access_token": token},
                                  json={"calendar": {"summary": "日历", "color": "#123456"}})
        cal_id = added.json()["cal_id"]
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["calendars"][cal_id]["fields"]["summary"] == "日历"
    transport = make_transport(state_path=path)
    async with httpx.AsyncClient(transport=transport, base_url="http://wecom") as client:
        got = await client.post(C.CALENDAR_GET, params={"access_token": token},
                                json={"cal_id_list": [cal_id]})
        assert got.json()["calendar_list"][0]["summary"] == "日历"


def test_clock_offset_persists(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    first = Emulator(state_path=path)
    first.set_clock({"now": T0})
    first.close()
    assert abs(Emulator(state_path=path).now() - T0) < 5


def test_every_mutating_call_is_saved_before_the_answer(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    emulator = Emulator(state_path=path)
    token = emulator.issue_token()
    reply = emulator.handle("POST", C.CALENDAR_ADD, {"access_token": token},
                            b'{"calendar": {"summary": "a", "color": "#000000"}}')
    cal_id = reply.payload["cal_id"]
    assert cal_id in json.loads(path.read_text())["calendars"]


def test_corrupt_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text("{half")
    with pytest.raises(EmulatorError, match="not valid"):
        Emulator(state_path=path)


def test_big_states_coalesce_saves_but_lose_nothing(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from wesync.emulator.state import Persister

    path = tmp_path / "p.json"
    data = {"n": 0}
    saves: list[int] = []

    def snapshot() -> dict[str, int]:
        saves.append(data["n"])
        time.sleep(0.01)  # a slow serialisation, as with a very big state
        return dict(data)

    persister = Persister(path, snapshot, threading.RLock())
    monkeypatch.setattr(Persister, "FAST", 0.001)
    for n in range(1, 21):
        data["n"] = n
        persister.changed()
    assert len(saves) < 10  # coalesced
    deadline = time.monotonic() + 5
    while json.loads(path.read_text())["n"] != 20 and time.monotonic() < deadline:
        time.sleep(0.02)  # the timer writes the last change without any flush
    assert json.loads(path.read_text())["n"] == 20
    data["n"] = 21
    persister.changed()
    persister.flush()
    assert json.loads(path.read_text())["n"] == 21


async def test_transports_on_one_state_file_share_one_world(tmp_path: Path) -> None:
    path = tmp_path / "shared.json"
    first, second = make_transport(state_path=path), make_transport(state_path=path)
    async with httpx.AsyncClient(transport=first, base_url="http://a") as a, \
            httpx.AsyncClient(transport=second, base_url="http://b") as b:
        params = {"corpid": "wwemulator", "corpsecret": "emulator-secret"}
        token = (await a.get(C.GETTOKEN_PATH, params=params)).json()["access_token"]
        cal = (await a.post(C.CALENDAR_ADD, params={"access_token": token}, json={
            "calendar": {"summary": "x", "color": "#000000"}})).json()["cal_id"]
        got = await b.post(C.CALENDAR_GET, params={"access_token": token},
                           json={"cal_id_list": [cal]})
        assert got.json()["errcode"] == 0
    assert cal in json.loads(path.read_text())["calendars"]


async def test_in_process_with_own_credentials() -> None:
    transport = make_transport(state_path=None, corpid="wwmine", corpsecret="mine")
    async with httpx.AsyncClient(transport=transport, base_url="http://wecom") as client:
        ok = await client.get(C.GETTOKEN_PATH, params={"corpid": "wwmine", "corpsecret": "mine"})
        assert ok.json()["errcode"] == 0
        bad = await client.get(C.GETTOKEN_PATH, params={"corpid": "wwemulator",
                                                        "corpsecret": "mine"})
        assert bad.json()["errcode"] == C.ERR_INVALID_CORPID


def test_ensure_calendar_creates_the_named_calendar_once(tmp_path: Path) -> None:
    path = tmp_path / "wecom.json"
    emulator = Emulator(state_path=path, corpsecret="mine")
    emulator.ensure_calendar("wcCHOSEN", "Team")
    emulator.ensure_calendar("wcCHOSEN", "Renamed", "#000000")  # present: left alone
    emulator.close()
    with BackgroundServer(Emulator(state_path=path, corpsecret="mine")) as server, \
            httpx.Client(base_url=server.url) as client:
        api = Api(client, corpsecret="mine")
        got = api.ok(C.CALENDAR_GET, {"cal_id_list": ["wcCHOSEN"]})["calendar_list"]
        assert [(c["cal_id"], c["summary"], c["color"]) for c in got] == [
            ("wcCHOSEN", "Team", "#3366CC")
        ]
        api.add_schedule("wcCHOSEN")  # the default app owns it
    with pytest.raises(EmulatorError):
        Emulator().ensure_calendar("wcBAD", "Team", "blue")


def test_sandbox_seeds_the_pairs_calendars_through_the_emulator(tmp_path: Path) -> None:
    from wesync.sync.sandbox import ensure_calendars

    path = tmp_path / "state" / "wecom.json"
    seeded = {"wcA": "pair a", "wcB": "pair b"}
    args = {"state_path": path, "corpid": "wwemulator", "corpsecret": "emulator-secret"}
    assert ensure_calendars(**args, calendars=seeded) == ["wcA", "wcB"]
    assert ensure_calendars(**args, calendars=seeded) == []
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert {k: v["fields"]["summary"] for k, v in saved["calendars"].items()} == seeded
