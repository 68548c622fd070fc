"""The sending side of WeCom's encrypted event callbacks (wecom-api.md §3).

Encryption: AESKey = base64(EncodingAESKey + "="), AES-256-CBC with IV =
AESKey[:16], plaintext = 16 random bytes + 4-byte big-endian length + XML +
receive id (the corpid), PKCS#7-padded to a multiple of 32 bytes.
Signature: sha1 over the sorted concatenation of token, timestamp, nonce and
the ciphertext. Events are posted from one background thread so an API
response never waits for a receiver; delivery failures are logged only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import queue
import secrets
import struct
import threading
from dataclasses import dataclass

import httpx
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wesync.emulator.errors import EmulatorError

log = logging.getLogger("wesync.emulator.callbacks")

BLOCK = 32
AES_KEY_CHARS = 43
SEND_TIMEOUT = 5.0


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey; EmulatorError if malformed."""
    if len(encoding_aes_key) != AES_KEY_CHARS:
        raise EmulatorError("callback EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise EmulatorError("callback EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise EmulatorError("callback EncodingAESKey does not decode to 32 bytes")
    return key


def encrypt(message: bytes, *, key: bytes, receive_id: str, random16: bytes | None = None) -> str:
    """The base64 ciphertext WeCom would put in <Encrypt>."""
    prefix = random16 if random16 is not None else secrets.token_bytes(16)
    if len(prefix) != 16:
        raise ValueError("random prefix must be 16 bytes")
    plain = prefix + struct.pack(">I", len(message)) + message + receive_id.encode("utf-8")
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    joined = "".join(sorted([token, timestamp, nonce, encrypted]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass(frozen=True)
class Event:
    """One calendar event notification. The XML carries ids only, as WeCom's does."""

    event: str
    from_user: str
    create_time: int
    agentid: int
    cal_id: str
    schedule_id: str | None = None

    def to_xml(self, corpid: str) -> str:
        parts = [
            f"<ToUserName>{_cdata(corpid)}</ToUserName>",
            f"<FromUserName>{_cdata(self.from_user)}</FromUserName>",
            f"<CreateTime>{self.create_time}</CreateTime>",
            f"<MsgType>{_cdata('event')}</MsgType>",
            f"<Event>{_cdata(self.event)}</Event>",
            f"<CalId>{_cdata(self.cal_id)}</CalId>",
        ]
        if self.schedule_id is not None:
            parts.append(f"<ScheduleId>{_cdata(self.schedule_id)}</ScheduleId>")
        parts.append(f"<AgentID>{self.agentid}</AgentID>")
        return "<xml>" + "".join(parts) + "</xml>"


@dataclass(frozen=True)
class CallbackConfig:
    url: str
    token: str
    aes_key: bytes
    corpid: str

    def __repr__(self) -> str:
        return f"CallbackConfig(url={self.url!r}, corpid={self.corpid!r})"


@dataclass(frozen=True)
class Envelope:
    """What goes over the wire for one event: query parameters and XML body."""

    params: dict[str, str]
    body: str


def seal(event: Event, config: CallbackConfig, *, timestamp: int) -> Envelope:
    encrypted = encrypt(event.to_xml(config.corpid).encode("utf-8"), key=config.aes_key,
                        receive_id=config.corpid)
    ts = str(timestamp)
    nonce = str(secrets.randbelow(10**10))
    body = (
        f"<xml><ToUserName>{_cdata(config.corpid)}</ToUserName>"
        f"<AgentID>{_cdata(str(event.agentid))}</AgentID>"
        f"<Encrypt>{_cdata(encrypted)}</Encrypt></xml>"
    )
    params = {
        "msg_signature": signature(config.token, ts, nonce, encrypted),
        "timestamp": ts,
        "nonce": nonce,
    }
    return Envelope(params, body)


class CallbackSender:
    """Posts sealed events to the callback URL from a daemon thread, in order."""

    def __init__(self, config: CallbackConfig) -> None:
        self.config = config
        self.delivered = 0
        self.failed = 0
        self._queue: queue.Queue[Envelope | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def send(self, event: Event, *, timestamp: int) -> None:
        self._queue.put(seal(event, self.config, timestamp=timestamp))
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="wesync-emulator-callbacks", daemon=True
                )
                self._thread.start()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every queued event was attempted (tests use this)."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=SEND_TIMEOUT + 1)

    def _run(self) -> None:
        with httpx.Client(timeout=SEND_TIMEOUT) as client:
            while True:
                envelope = self._queue.get()
                try:
                    if envelope is None:
                        return
                    self._post(client, envelope)
                finally:
                    self._queue.task_done()

    def _post(self, client: httpx.Client, envelope: Envelope) -> None:
        try:
            response = client.post(
                self.config.url,
                params=envelope.params,
                content=envelope.body.encode("utf-8"),
                headers={"Content-Type": "text/xml; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            self.failed += 1
            log.warning("callback to %s failed: %s", self.config.url, type(exc).__name__)
            return
        if response.status_code != 200:
            self.failed += 1
            log.warning("callback to %s answered HTTP %d", self.config.url, response.status_code)
            return
        self.delivered += 1
