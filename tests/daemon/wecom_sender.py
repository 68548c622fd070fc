"""A test-side WeCom callback sender: builds the signed, encrypted POST the way WeCom does."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from wesync.daemon.wecom_crypto import WeComCrypto

TOKEN = "cbToken2026"
AES_KEY = "4Ma3YBrSBbX2aez8MJpXGBne5LSDwgGqHbhM9WPYIws"
CORPID = "wwemulator"


def event_xml(
    event: str,
    *,
    cal_id: str,
    schedule_id: str | None = None,
    from_user: str = "zhangsan",
    create_time: int,
    corpid: str = CORPID,
) -> bytes:
    sched = f"<ScheduleId><![CDATA[{schedule_id}]]></ScheduleId>" if schedule_id else ""
    return (
        f"<xml><ToUserName><![CDATA[{corpid}]]></ToUserName>"
        f"<FromUserName><![CDATA[{from_user}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event><CalId><![CDATA[{cal_id}]]></CalId>{sched}</xml>"
    ).encode()


@dataclass(frozen=True)
class Signed:
    params: dict[str, str]
    body: bytes


def sign_post(
    message: bytes,
    *,
    timestamp: int,
    token: str = TOKEN,
    key: str = AES_KEY,
    receive_id: str = CORPID,
    nonce: str | None = None,
) -> Signed:
    crypto = WeComCrypto.from_settings(token=token, encoding_aes_key=key, receive_id=receive_id)
    encrypted = crypto.encrypt(message)
    nonce = nonce or secrets.token_hex(5)
    ts = str(timestamp)
    body = (
        f"<xml><ToUserName><![CDATA[{receive_id}]]></ToUserName><AgentID>1000002</AgentID>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    ).encode()
    return Signed(
        params={
            "msg_signature": crypto.sign(ts, nonce, encrypted),
            "timestamp": ts,
            "nonce": nonce,
        },
        body=body,
    )


def sign_get(
    echo: bytes, *, timestamp: int, token: str = TOKEN, key: str = AES_KEY, receive_id: str = CORPID
) -> dict[str, str]:
    crypto = WeComCrypto.from_settings(token=token, encoding_aes_key=key, receive_id=receive_id)
    echostr = crypto.encrypt(echo)
    nonce = secrets.token_hex(5)
    ts = str(timestamp)
    return {
        "msg_signature": crypto.sign(ts, nonce, echostr),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": echostr,
    }
