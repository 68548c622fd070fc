"""The WeCom change-callback receiver: GET /wecom/callback (URL check), POST (events).

Every request must carry a valid msg_signature and a timestamp within five
minutes of now; POSTed events must decrypt to our corpid and must not repeat
a (msg_signature, nonce) or an (author, time, event, schedule) seen within
that window. Anything else gets 403 and a log line naming the reason, never
the token, key or message. A good event is answered at once with an empty
200; the sync it asks for runs in the background.
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from wesync.daemon.wecom_crypto import CallbackCryptoError, WeComCrypto

log = logging.getLogger("wesync.daemon.callback")

PATH = "/wecom/callback"
WINDOW = 300.0  #: seconds a timestamp may be off, and how long replays are remembered
MAX_BODY = 64 * 1024
SYNC_EVENTS = frozenset(
    {
        "add_schedule",
        "modify_schedule",
        "delete_schedule",
        "respond_schedule",
        "modify_calendar",
        "delete_calendar",
    }
)


@dataclass(frozen=True)
class CallbackEvent:
    event: str
    cal_id: str | None
    schedule_id: str | None
    from_user: str
    create_time: int


class Rejected(Exception):
    def __init__(self, reason: str, status: int = 403) -> None:
        self.reason = reason
        self.status = status
        super().__init__(reason)


class ReplayGuard:
    """Remembers keys for `window` seconds; `check_and_add` refuses one seen before."""

    def __init__(self, window: float, clock: Callable[[], float]) -> None:
        self.window = window
        self.clock = clock
        self._seen: dict[Hashable, float] = {}

    def _expire(self, now: float) -> None:
        for key in [k for k, t in self._seen.items() if now - t > self.window]:
            del self._seen[key]

    def seen(self, key: Hashable) -> bool:
        self._expire(self.clock())
        return key in self._seen

    def add(self, key: Hashable) -> None:
        self._seen[key] = self.clock()

    def __len__(self) -> int:
        return len(self._seen)


def _text(root: ET.Element, tag: str) -> str | None:
    node = root.find(tag)
    if node is None or node.text is None:
        return None
    return node.text.strip()


def _parse_xml(data: bytes) -> ET.Element:
    try:
        root: ET.Element = safe_fromstring(data, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, ValueError):
        raise Rejected("bad_xml", 400) from None
    return root


def parse_event(xml: bytes) -> CallbackEvent:
    root = _parse_xml(xml)
    create = _text(root, "CreateTime") or ""
    return CallbackEvent(
        event=(_text(root, "Event") or "").lower(),
        cal_id=_text(root, "CalId"),
        schedule_id=_text(root, "ScheduleId"),
        from_user=_text(root, "FromUserName") or "",
        create_time=int(create) if create.isdigit() else 0,
    )


class CallbackReceiver:
    """The checks, separate from HTTP so they read in one place."""

    def __init__(
        self,
        crypto: WeComCrypto,
        on_event: Callable[[CallbackEvent], None],
        *,
        clock: Callable[[], float] = time.time,
        window: float = WINDOW,
    ) -> None:
        self.crypto = crypto
        self.on_event = on_event
        self.clock = clock
        self.window = window
        self.replays = ReplayGuard(window, clock)
        self.rejected: dict[str, int] = {}
        self.accepted = 0

    def _query(self, request: Request, *names: str) -> list[str]:
        values = []
        for name in names:
            value = request.query_params.get(name)
            if not value:
                raise Rejected(f"missing_{name}", 400)
            # base64 '+' arrives as a space when a sender forgot to escape it;
            # no legitimate value here contains a space
            values.append(value.replace(" ", "+"))
        return values

    def _check_time(self, timestamp: str) -> None:
        if not timestamp.isdigit():
            raise Rejected("bad_timestamp")
        if abs(self.clock() - int(timestamp)) > self.window:
            raise Rejected("stale_timestamp")

    def _verify(self, sig: str, timestamp: str, nonce: str, encrypted: str) -> None:
        try:
            self.crypto.verify(sig, timestamp, nonce, encrypted)
        except CallbackCryptoError as exc:
            raise Rejected(exc.reason) from None

    def _decrypt(self, encrypted: str) -> bytes:
        try:
            return self.crypto.decrypt(encrypted)
        except CallbackCryptoError as exc:
            raise Rejected(exc.reason) from None

    def verify_url(self, request: Request) -> bytes:
        sig, timestamp, nonce, echostr = self._query(
            request, "msg_signature", "timestamp", "nonce", "echostr"
        )
        self._verify(sig, timestamp, nonce, echostr)
        self._check_time(timestamp)
        return self._decrypt(echostr)

    def receive(self, request: Request, body: bytes) -> CallbackEvent:
        sig, timestamp, nonce = self._query(request, "msg_signature", "timestamp", "nonce")
        encrypted = _text(_parse_xml(body), "Encrypt")
        if not encrypted:
            raise Rejected("no_encrypt", 400)
        self._verify(sig, timestamp, nonce, encrypted)
        self._check_time(timestamp)
        if self.replays.seen(("sig", sig, nonce)):
            raise Rejected("replayed")
        event = parse_event(self._decrypt(encrypted))
        content_key = ("event", event.from_user, event.create_time, event.event, event.schedule_id)
        if self.replays.seen(content_key):
            raise Rejected("replayed")
        self.replays.add(("sig", sig, nonce))
        self.replays.add(content_key)
        return event

    def reject(self, request: Request, exc: Rejected) -> Response:
        self.rejected[exc.reason] = self.rejected.get(exc.reason, 0) + 1
        peer = request.client.host if request.client else "?"
        log.warning(
            "callback %s from %s rejected: %s",
            request.method,
            peer,
            exc.reason,
            extra={"reason": exc.reason},
        )
        return PlainTextResponse("", status_code=exc.status)

    async def handle_get(self, request: Request) -> Response:
        try:
            plain = self.verify_url(request)
        except Rejected as exc:
            return self.reject(request, exc)
        log.info("callback URL verified")
        # WeCom compares the body byte for byte: no quotes, BOM or newline
        return Response(plain, media_type="text/plain")

    async def handle_post(self, request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return self.reject(request, Rejected("too_large", 413))
        try:
            event = self.receive(request, body)
        except Rejected as exc:
            return self.reject(request, exc)
        self.accepted += 1
        if event.event in SYNC_EVENTS:
            log.info(
                "callback %s for calendar %s schedule %s",
                event.event,
                event.cal_id,
                event.schedule_id or "-",
            )
            try:
                self.on_event(event)
            except Exception:
                log.exception("callback handler failed")
        else:
            log.debug("callback event %r ignored", event.event)
        return Response(b"", status_code=200)


def create_callback_app(receiver: CallbackReceiver) -> Starlette:
    return Starlette(
        routes=[
            Route(PATH, receiver.handle_get, methods=["GET"]),
            Route(PATH, receiver.handle_post, methods=["POST"]),
        ]
    )
