"""The callback sender: published test vectors, and real encrypted POSTs decrypted here."""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.etree import ElementTree

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.emulator.helpers import T0, Api, daily
from wesync.emulator import BackgroundServer, Emulator
from wesync.emulator.callbacks import decode_aes_key, encrypt, signature
from wesync.emulator.errors import EmulatorError

# Test vector published with wechatpy's crypto tests (a fixed 16-byte random prefix).
VEC_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
VEC_TOKEN = "123456"
VEC_RECEIVER = "wx49f0ab532d5d035a"
VEC_PLAIN = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
    "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n"
    "<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n"
    "<CreateTime>1411525903</CreateTime>\n</xml>"
)
VEC_ENCRYPTED = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYq"
    "xgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCF"
    "M2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2I"
    "EvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nT"
    "YjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)
VEC_SIGNATURE = "407518b7649e86ef23978113f92d27afa9296533"

CB_TOKEN = "kz7Yx62CH8SaLN"
CB_KEY = "cD0d7jx4tYvVtzqrmh3Dm3QFCXe6f8SlHoMtMh3qQEP"


def test_encrypt_matches_published_vector() -> None:
    key = decode_aes_key(VEC_KEY)
    got = encrypt(VEC_PLAIN.encode(), key=key, receive_id=VEC_RECEIVER,
                  random16=b"1234567890123456")
    assert got == VEC_ENCRYPTED
    assert signature(VEC_TOKEN, "1411525903", "461056294", got) == VEC_SIGNATURE


@pytest.mark.parametrize(
    "bad", ["", "x" * 42, "x" * 44, "4Ma3YBrSBbX2aez8MJpXGBne5LSDwgGqHbhM9WPYIw$"]
)
def test_malformed_aes_keys_are_refused(bad: str) -> None:
    with pytest.raises(EmulatorError):
        decode_aes_key(bad)


def decrypt(encrypted: str, encoding_aes_key: str) -> tuple[str, str]:
    """The test's own reading of the scheme: (xml, receive id)."""
    key = base64.b64decode(encoding_aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    pad = plain[-1]
    assert 1 <= pad <= 32 and len(plain) % 32 == 0
    plain = plain[:-pad]
    (length,) = struct.unpack(">I", plain[16:20])
    return plain[20:20 + length].decode(), plain[20 + length:].decode()


class Receiver:
    """A stdlib HTTP server that keeps what WeCom (the emulator) posted."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, list[str]], str]] = []
        self.arrived = threading.Semaphore(0)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length).decode()
                receiver.posts.append((parse_qs(urlparse(self.path).query), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.arrived.release()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/wecom/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def next_event(self) -> dict[str, str]:
        assert self.arrived.acquire(timeout=10), "no callback arrived"
        query, body = self.posts.pop(0)
        outer = ElementTree.fromstring(body)
        encrypted = outer.findtext("Encrypt") or ""
        assert outer.findtext("ToUserName") == "wwemulator"
        assert outer.findtext("AgentID") == "1000002"
        assert query["msg_signature"] == [signature(CB_TOKEN, query["timestamp"][0],
                                                    query["nonce"][0], encrypted)]
        expected = "".join(sorted([CB_TOKEN, query["timestamp"][0], query["nonce"][0],
                                   encrypted]))
        assert query["msg_signature"][0] == hashlib.sha1(expected.encode()).hexdigest()
        xml, receive_id = decrypt(encrypted, CB_KEY)
        assert receive_id == "wwemulator"
        return {child.tag: child.text or "" for child in ElementTree.fromstring(xml)}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


def test_events_reach_the_callback_url(receiver: Receiver) -> None:
    emulator = Emulator(callback_url=receiver.url, callback_token=CB_TOKEN,
                        callback_aes_key=CB_KEY)
    with BackgroundServer(emulator) as server, httpx.Client(base_url=server.url) as client:
        api = Api(client)
        cal_id = api.add_calendar()
        sid = api.add_schedule(cal_id, attendees=[{"userid": "lisi"}], reminders=daily())

        def admin(action: str, body: dict[str, Any]) -> None:
            response = client.post(f"/_emulator/{action}", json=body)
            assert response.status_code == 200, response.text

        admin("respond", {"schedule_id": sid, "userid": "lisi", "response_status": 2})
        event = receiver.next_event()
        assert event["Event"] == "respond_schedule" and event["FromUserName"] == "lisi"
        assert (event["CalId"], event["ScheduleId"], event["MsgType"]) == (cal_id, sid, "event")
        assert event["ToUserName"] == "wwemulator" and int(event["CreateTime"]) > 0
        assert api.get(sid)["attendees"] == [{"userid": "lisi", "response_status": 2}]

        admin("admin_edit", {"schedule_id": sid, "changes": {"summary": "edited in WeCom",
                                                             "reminders": {"timezone": 9}}})
        event = receiver.next_event()
        assert (event["Event"], event["ScheduleId"]) == ("modify_schedule", sid)
        got = api.get(sid)
        assert got["summary"] == "edited in WeCom" and got["reminders"]["timezone"] == 9
        assert got["reminders"]["is_repeat"] == 1  # untouched fields stay

        admin("admin_cancel", {"schedule_id": sid, "op_start_time": T0 + 86400})
        assert receiver.next_event()["Event"] == "modify_schedule"
        admin("admin_cancel", {"schedule_id": sid})
        assert receiver.next_event()["Event"] == "delete_schedule"
        assert api.get(sid)["status"] == 1

        admin("admin_edit_calendar", {"cal_id": cal_id, "changes": {"summary": "Renamed"}})
        event = receiver.next_event()
        assert (event["Event"], event["CalId"]) == ("modify_calendar", cal_id)
        assert "ScheduleId" not in event
        admin("admin_delete_calendar", {"cal_id": cal_id})
        assert receiver.next_event()["Event"] == "delete_calendar"


def test_sequence_rises_on_answers(emulator_server: Any) -> None:
    with httpx.Client(base_url=emulator_server.url) as client:
        api = Api(client)
        cal_id = api.add_calendar()
        sid = api.add_schedule(cal_id, attendees=[{"userid": "a"}])
        before = api.listing(cal_id)[0]["sequence"]
        emulator_server.admin("POST", "respond", {"schedule_id": sid, "userid": "a",
                                                   "response_status": 1})
        assert api.listing(cal_id)[0]["sequence"] > before


def test_unreachable_callback_url_does_not_break_the_api() -> None:
    emulator = Emulator(callback_url="http://127.0.0.1:9/none", callback_token=CB_TOKEN,
                        callback_aes_key=CB_KEY)
    token = emulator.issue_token()
    cal = emulator.handle("POST", "/cgi-bin/oa/calendar/add", {"access_token": token},
                          b'{"calendar": {"summary": "c", "color": "#000000"}}').payload["cal_id"]
    emulator.act("admin_delete_calendar", {"cal_id": cal})
    assert emulator.callbacks is not None
    assert emulator.callbacks.wait_idle(10)
    assert emulator.callbacks.failed == 1
    emulator.close()


@pytest.mark.parametrize(("action", "body"), [
    ("respond", {"schedule_id": "nope", "userid": "a", "response_status": 1}),
    ("admin_edit", {"schedule_id": "nope", "changes": {}}),
    ("admin_edit_calendar", {"cal_id": "nope", "changes": {}}),
])
def test_admin_actions_on_unknown_ids_are_400(emulator_server: Any, action: str,
                                              body: dict[str, Any]) -> None:
    response = httpx.post(f"{emulator_server.url}/_emulator/{action}", json=body)
    assert response.status_code == 400


def test_admin_edit_is_validated(emulator_server: Any) -> None:
    with httpx.Client(base_url=emulator_server.url) as client:
        api = Api(client)
        sid = api.add_schedule(api.add_calendar(), attendees=[{"userid": "a"}])
        response = client.post("/_emulator/admin_edit",
                               json={"schedule_id": sid, "changes": {"summary": "x" * 200}})
        assert response.status_code == 400
        response = client.post("/_emulator/respond", json={
            "schedule_id": sid, "userid": "stranger", "response_status": 1})
        assert response.status_code == 400
