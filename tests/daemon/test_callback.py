"""The callback receiver over real loopback HTTP (uvicorn in this event loop)."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from wesync.daemon.callback import (
    PATH,
    CallbackEvent,
    CallbackReceiver,
    ReplayGuard,
    create_callback_app,
)
from wesync.daemon.httpserver import HttpServer
from wesync.daemon.wecom_crypto import WeComCrypto

from .wecom_sender import AES_KEY, CORPID, TOKEN, event_xml, sign_get, sign_post

VECTORS = json.loads((Path(__file__).parent / "fixtures" / "crypto_vectors.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Clock:
    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now


@dataclass
class Running:
    url: str
    receiver: CallbackReceiver
    events: list[CallbackEvent]
    clock: Clock
    client: httpx.AsyncClient


async def start(
    crypto: WeComCrypto, clock: Clock, handler: Callable[[CallbackEvent], None] | None = None
) -> tuple[HttpServer, Running]:
    events: list[CallbackEvent] = []
    receiver = CallbackReceiver(crypto, handler or events.append, clock=clock)
    server = HttpServer(create_callback_app(receiver), f"127.0.0.1:{free_port()}", name="callback")
    await server.start()
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}")
    return server, Running(f"http://127.0.0.1:{server.port}", receiver, events, clock, client)


@pytest.fixture
async def cb() -> AsyncIterator[Running]:
    crypto = WeComCrypto.from_settings(token=TOKEN, encoding_aes_key=AES_KEY, receive_id=CORPID)
    server, running = await start(crypto, Clock())
    yield running
    await running.client.aclose()
    await server.stop()


async def test_url_verification_with_published_vector() -> None:
    v = VECTORS["vectors"][0]
    crypto = WeComCrypto.from_settings(
        token=v["token"],
        encoding_aes_key=v["encoding_aes_key"],
        receive_id=v["expected_receive_id"],
    )
    server, r = await start(crypto, Clock(float(v["timestamp"]) + 10))
    try:
        params = {k: v[k] for k in ("msg_signature", "timestamp", "nonce")}
        params["echostr"] = v["encrypted"]
        resp = await r.client.get(PATH, params=params)
        assert resp.status_code == 200
        # exactly the plaintext: no quotes, no BOM, no newline
        assert resp.content == v["expected_message"].encode()
        params["msg_signature"] = v["bad_signature"]
        assert (await r.client.get(PATH, params=params)).status_code == 403
    finally:
        await r.client.aclose()
        await server.stop()


async def test_url_verification_survives_unescaped_plus(cb: Running) -> None:
    for _ in range(20):  # find an echostr containing '+', which a sloppy sender leaves raw
        params = sign_get(b"1234567890", timestamp=int(cb.clock()))
        if "+" in params["echostr"]:
            break
    query = "&".join(f"{k}={v}" for k, v in params.items())
    resp = await cb.client.get(f"{PATH}?{query}")
    assert resp.status_code == 200
    assert resp.content == b"1234567890"


async def test_good_event_is_accepted_once_and_replay_refused(
    cb: Running, caplog: pytest.LogCaptureFixture
) -> None:
    now = int(cb.clock())
    msg = event_xml("modify_schedule", cal_id="wcCAL", schedule_id="sch1", create_time=now)
    s = sign_post(msg, timestamp=now)
    resp = await cb.client.post(PATH, params=s.params, content=s.body)
    assert resp.status_code == 200
    assert resp.content == b""
    assert cb.events == [CallbackEvent("modify_schedule", "wcCAL", "sch1", "zhangsan", now)]
    # the very same request again
    with caplog.at_level(logging.WARNING):
        again = await cb.client.post(PATH, params=s.params, content=s.body)
    assert again.status_code == 403
    assert "replayed" in caplog.text
    assert TOKEN not in caplog.text and AES_KEY not in caplog.text
    # the same event re-signed with a fresh nonce (a resend) is a replay too
    s2 = sign_post(msg, timestamp=now)
    assert (await cb.client.post(PATH, params=s2.params, content=s2.body)).status_code == 403
    assert len(cb.events) == 1


async def test_forged_signature_refused(cb: Running) -> None:
    now = int(cb.clock())
    s = sign_post(event_xml("modify_schedule", cal_id="c", create_time=now), timestamp=now)
    forged = dict(s.params, msg_signature="0" * 40)
    assert (await cb.client.post(PATH, params=forged, content=s.body)).status_code == 403
    wrong_token = sign_post(
        event_xml("modify_schedule", cal_id="c", create_time=now), timestamp=now, token="other"
    )
    resp = await cb.client.post(PATH, params=wrong_token.params, content=wrong_token.body)
    assert resp.status_code == 403
    assert cb.events == []
    assert cb.receiver.rejected == {"bad_signature": 2}


async def test_wrong_receive_id_refused(cb: Running) -> None:
    now = int(cb.clock())
    msg = event_xml("modify_schedule", cal_id="c", create_time=now, corpid="wwother")
    s = sign_post(msg, timestamp=now, receive_id="wwother")
    assert (await cb.client.post(PATH, params=s.params, content=s.body)).status_code == 403
    assert cb.receiver.rejected == {"bad_receiveid": 1}
    assert cb.events == []


async def test_stale_and_future_timestamps_refused(cb: Running) -> None:
    now = int(cb.clock())
    for ts in (now - 301, now + 301):
        s = sign_post(event_xml("modify_schedule", cal_id="c", create_time=ts), timestamp=ts)
        assert (await cb.client.post(PATH, params=s.params, content=s.body)).status_code == 403
    assert cb.receiver.rejected == {"stale_timestamp": 2}
    ok = sign_post(event_xml("modify_schedule", cal_id="c", create_time=now), timestamp=now - 200)
    assert (await cb.client.post(PATH, params=ok.params, content=ok.body)).status_code == 200


async def test_entities_and_dtd_refused(cb: Running) -> None:
    now = int(cb.clock())
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>'
    )
    params = {"msg_signature": "x", "timestamp": str(now), "nonce": "n"}
    assert (await cb.client.post(PATH, params=params, content=bomb)).status_code == 400
    assert (await cb.client.post(PATH, params=params, content=b"<xml><Enc")).status_code == 400
    assert (await cb.client.post(PATH, params={}, content=b"<xml/>")).status_code == 400


async def test_other_events_are_answered_but_not_acted_on(cb: Running) -> None:
    now = int(cb.clock())
    s = sign_post(event_xml("enter_agent", cal_id="c", create_time=now), timestamp=now)
    assert (await cb.client.post(PATH, params=s.params, content=s.body)).status_code == 200
    assert cb.events == []


def test_replay_guard_forgets_after_window() -> None:
    clock = Clock(1000.0)
    guard = ReplayGuard(300, clock)
    guard.add("k")
    assert guard.seen("k")
    clock.now += 301
    assert not guard.seen("k")
    assert len(guard) == 0
