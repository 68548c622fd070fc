"""The emulator's HTTP face: a Starlette app over an `Emulator`.

WeCom API paths answer as `https://qyapi.weixin.qq.com` does. Administration
endpoints (no token; loopback clients only, others get HTTP 403):

    POST   /_emulator/reset        forget calendars, schedules, tokens, faults, the
                                   request log, extra apps and clock changes
    GET    /_emulator/requests     {"requests": [{"method", "path", "errcode",
                                   "http_status"}]}; path without query string;
                                   errcode is null when no JSON answer was given
                                   (http_status faults, unknown paths) and
                                   http_status is null for drop_after_commit
    DELETE /_emulator/requests     clear the request log
    POST   /_emulator/faults       {"path", "times", "kind", "errcode"|"status"|"seconds"}
                                   kinds: errcode, http_status, drop_after_commit, delay
    POST   /_emulator/respond      {"schedule_id", "userid", "response_status"}
    POST   /_emulator/clock        {"now": unix} or {"advance": seconds} -> {"now"}
    GET    /_emulator/state        dump of calendars, schedules, apps, clock, faults
    POST   /_emulator/apps         {"corpsecret", "agentid"}: register another app
    POST   /_emulator/config       {"rate_limit"?, "token_ttl"?, "listing"?, "delay_ms"?,
                                   "variants"?: {KEY: VALUE}} (only the keys named change; see
                                   variants.py; a bad key or value: 400, nothing changes)
    GET    /_emulator/config       {"rate_limit", "token_ttl", "listing", "variants", "delay_ms"}
    POST   /_emulator/admin_edit   {"schedule_id", "changes": {...}, "userid"?,
                                   "op_mode"?: 0|1|2, "op_start_time"?}: a member edits
                                   in the WeCom app: the whole series (modify_schedule),
                                   only this occurrence or this and all future (a split:
                                   modify_schedule, then add_schedule for the new one,
                                   whose id comes back as "new_schedule_id")
    POST   /_emulator/admin_cancel {"schedule_id", "op_start_time"?, "userid"?}
                                   (delete_schedule; one occurrence: modify_schedule)
    POST   /_emulator/admin_edit_calendar   {"cal_id", "changes"} (modify_calendar)
    POST   /_emulator/admin_delete_calendar {"cal_id"} (delete_calendar)

Administration calls are not logged in the request log.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from wesync.emulator.emulator import ADMIN_ACTIONS, HANDLERS, Emulator
from wesync.emulator.errors import AdminRequestError, EmulatorError, error_body
from wesync.wecom import constants as C

FLAGS_KEY = "wesync.emulator.flags"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
API_PATHS = frozenset({C.GETTOKEN_PATH, *HANDLERS})


class ConnectionFlags:
    """Set by a handler that wants its connection dropped instead of answered."""

    def __init__(self) -> None:
        self.drop = False


class EmulatorApp(Starlette):
    """Starlette, plus closing the connection without a response after commit.

    This has to happen outside Starlette's middleware stack: its error
    middleware would otherwise turn any exception into an HTTP 500.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        flags = ConnectionFlags()
        scope[FLAGS_KEY] = flags

        async def guarded_send(message: Message) -> None:
            if not flags.drop:
                await send(message)

        await super().__call__(scope, receive, guarded_send)
        if flags.drop:
            await _drop_connection(receive)


async def _drop_connection(receive: Receive) -> None:
    # uvicorn's receive is bound to its per-request cycle, which holds the transport
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if isinstance(transport, asyncio.Transport):
        transport.abort()
        cycle = receive.__self__  # type: ignore[attr-defined]
        # let connection_lost run so that uvicorn sees a disconnect, not a missing response
        for _ in range(100):
            if getattr(cycle, "disconnected", True):
                return
            await asyncio.sleep(0)
        return
    # in-process (httpx.ASGITransport re-raises app exceptions to the caller)
    raise httpx.RemoteProtocolError("the emulator closed the connection without a response")


def create_app(emulator: Emulator) -> Starlette:
    """The ASGI app serving `emulator` (HTTP server and in-process transport alike)."""

    async def api(request: Request) -> Response:
        path = request.url.path
        method = request.method
        if path not in API_PATHS:
            emulator.record(method, path, None, 404)
            return PlainTextResponse("not found", status_code=404)
        fault = emulator.take_fault(path)
        generation = emulator.generation
        # A real server has the whole request before it acts, so a client that gives up
        # while the server is slow may still have its write applied: read first, then wait.
        body = await request.body()
        wait = emulator.delay_ms / 1000 + (fault.seconds if fault and fault.kind == "delay" else 0)
        if wait > 0:
            await anyio.sleep(wait)
            if emulator.generation != generation:
                # reset while this request waited: it belongs to a world that is gone,
                # and must neither change nor appear in the new one's request log
                return PlainTextResponse("the emulator was reset", status_code=503)
        if fault is not None and fault.kind == "errcode":
            emulator.record(method, path, fault.errcode, 200)
            return JSONResponse(error_body(fault.errcode, "injected fault"))
        if fault is not None and fault.kind == "http_status":
            emulator.record(method, path, None, fault.status)
            return PlainTextResponse("emulated failure", status_code=fault.status)
        reply = emulator.handle(method, path, dict(request.query_params), body)
        if fault is not None and fault.kind == "drop_after_commit":
            emulator.record(method, path, reply.errcode, None)
            request.scope[FLAGS_KEY].drop = True
        else:
            emulator.record(method, path, reply.errcode, 200)
        return JSONResponse(reply.payload)

    async def admin(request: Request) -> Response:
        client = request.client
        if client is not None and not _is_loopback(client.host):
            return JSONResponse({"error": "administration is for loopback clients only"}, 403)
        try:
            return JSONResponse(await _admin(emulator, request))
        except AdminRequestError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        except EmulatorError as exc:
            return JSONResponse({"error": str(exc)}, 500)

    routes = [
        Route("/cgi-bin/{rest:path}", api, methods=["GET", "POST"]),
        Route("/_emulator/{action}", admin, methods=["GET", "POST", "DELETE"]),
    ]
    return EmulatorApp(routes=routes)


def _is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


async def _admin(emulator: Emulator, request: Request) -> dict[str, Any]:
    action = request.path_params["action"]
    method = request.method
    if action == "requests" and method == "GET":
        return {"requests": emulator.requests()}
    if action == "requests" and method == "DELETE":
        emulator.clear_requests()
        return {}
    if action == "state" and method == "GET":
        return emulator.dump()
    if action == "config" and method == "GET":
        return emulator.config()
    if method != "POST":
        raise AdminRequestError(f"{method} /_emulator/{action} is not an administration call")
    body = await _json(request)
    if action == "reset":
        emulator.reset()
        return {}
    if action == "faults":
        return emulator.add_fault(body)
    if action == "clock":
        return emulator.set_clock(body)
    if action == "apps":
        secret, agentid = body.get("corpsecret"), body.get("agentid")
        if not isinstance(secret, str) or not isinstance(agentid, int):
            raise AdminRequestError("apps needs a string 'corpsecret' and an integer 'agentid'")
        emulator.add_app(secret, agentid)
        return {}
    if action == "config":
        variants = body.get("variants")
        if variants is not None and not isinstance(variants, dict):
            raise AdminRequestError("'variants' must be an object of KEY: VALUE")
        unknown = set(body) - {"rate_limit", "token_ttl", "listing", "variants", "delay_ms"}
        if unknown:
            raise AdminRequestError(f"unknown config key {sorted(unknown)[0]!r}")
        emulator.configure(rate_limit=_opt_int(body, "rate_limit"),
                           token_ttl=_opt_int(body, "token_ttl"),
                           listing=body.get("listing"), variants=variants,
                           delay_ms=_opt_int(body, "delay_ms", least=0))
        return emulator.config()
    if action in ADMIN_ACTIONS:
        return emulator.act(action, body)
    raise AdminRequestError(f"unknown administration call {action!r}")


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise AdminRequestError("body is not JSON") from None
    if not isinstance(value, dict):
        raise AdminRequestError("body must be a JSON object")
    return value


def _opt_int(body: dict[str, Any], key: str, *, least: int = 1) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        what = "a positive integer" if least == 1 else f"an integer of at least {least}"
        raise AdminRequestError(f"'{key}' must be {what}")
    return value
