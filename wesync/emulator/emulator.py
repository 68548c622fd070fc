"""The `Emulator`: one emulated corp with its apps, tokens, clock, quotas and faults.

Transport-free: `handle()` takes a method, path, query and body and returns
the JSON WeCom would answer. The Starlette app (app.py) and so both the HTTP
server and the in-process transport are thin layers over it. Every public
method takes the one lock, so tests may poke at it from other threads.
"""

from __future__ import annotations

import atexit
import copy
import logging
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wesync.emulator import admin, api_events, calendars, schedules
from wesync.emulator import validate as v
from wesync.emulator.calendars import Call
from wesync.emulator.callbacks import CallbackConfig, CallbackSender, Event, decode_aes_key
from wesync.emulator.errors import AdminRequestError, ApiError, EmulatorError, error_body
from wesync.emulator.faults import Fault, FaultQueue, parse_fault
from wesync.emulator.state import Json, Persister, State, load_state, new_token
from wesync.emulator.variants import Variants
from wesync.wecom import constants as C

log = logging.getLogger("wesync.emulator")

DEFAULT_CORPID = "wwemulator"
DEFAULT_CORPSECRET = "emulator-secret"
DEFAULT_AGENTID = 1000002
DEFAULT_TOKEN_TTL = 7200
LISTING_MODES = ("sample", "full")
#: WeCom's days (for the daily schedule/add quota) are China's: UTC+8
QUOTA_DAY_OFFSET = 8 * 3600
#: expired tokens are forgotten this long after expiry (until then: 42001, after: 40014)
TOKEN_MEMORY = 86400

Handler = Callable[[Call, Json], Json]
HANDLERS: dict[str, Handler] = {
    C.CALENDAR_ADD: calendars.add,
    C.CALENDAR_UPDATE: calendars.update,
    C.CALENDAR_GET: calendars.get,
    C.CALENDAR_DEL: calendars.delete,
    C.SCHEDULE_ADD: schedules.add,
    C.SCHEDULE_UPDATE: schedules.update,
    C.SCHEDULE_GET: schedules.get,
    C.SCHEDULE_DEL: schedules.delete,
    C.SCHEDULE_GET_BY_CALENDAR: schedules.get_by_calendar,
    C.SCHEDULE_ADD_ATTENDEES: schedules.add_attendees,
    C.SCHEDULE_DEL_ATTENDEES: schedules.del_attendees,
}
READ_ONLY = frozenset({C.CALENDAR_GET, C.SCHEDULE_GET, C.SCHEDULE_GET_BY_CALENDAR})
ADMIN_ACTIONS: dict[str, Callable[[State, Mapping[str, Any], int], list[Event]]] = {
    "respond": admin.respond,
    "admin_edit": admin.edit_schedule,
    "admin_cancel": admin.cancel_schedule,
    "admin_edit_calendar": admin.edit_calendar,
    "admin_delete_calendar": admin.delete_calendar,
}


@dataclass(frozen=True)
class Reply:
    """The answer to one API call (always HTTP 200, as WeCom answers errors)."""

    payload: Json

    @property
    def errcode(self) -> int:
        return int(self.payload.get("errcode", 0))


def _ok(payload: Json) -> Reply:
    return Reply({"errcode": 0, "errmsg": "ok", **payload})


def _error(exc: ApiError) -> Reply:
    return Reply(error_body(exc.errcode, exc.detail))


class Emulator:
    """An emulated WeCom corp. Keyword arguments mirror `wesync emulator`'s options."""

    def __init__(
        self,
        *,
        corpid: str = DEFAULT_CORPID,
        corpsecret: str = DEFAULT_CORPSECRET,
        agentid: int = DEFAULT_AGENTID,
        state_path: Path | None = None,
        token_ttl: int = DEFAULT_TOKEN_TTL,
        rate_limit: int = C.CALLS_PER_MINUTE_PER_API,
        listing: str | None = None,
        variants: Variants | None = None,
        callback_url: str | None = None,
        callback_token: str | None = None,
        callback_aes_key: str | None = None,
        delay_ms: int = 0,
    ) -> None:
        # `listing` is the older spelling of the `listing` variant; given, it wins
        chosen = variants if variants is not None else Variants()
        if listing is not None:
            if listing not in LISTING_MODES:
                raise EmulatorError(f"listing must be one of {LISTING_MODES}, not {listing!r}")
            chosen = chosen.with_changes({"listing": listing})
        if token_ttl < 1 or rate_limit < 1:
            raise EmulatorError("token TTL and rate limit must be positive")
        if delay_ms < 0:
            raise EmulatorError("delay_ms must not be negative")
        self.corpid = corpid
        #: every API answer is this late (a network's round trip); requests wait concurrently
        self.delay_ms = delay_ms
        self.token_ttl = token_ttl
        self.rate_limit = rate_limit
        self._base_apps = {corpsecret: agentid}
        self._lock = threading.RLock()
        self._faults = FaultQueue()
        self._requests: list[Json] = []
        self._windows: dict[str, tuple[int, int]] = {}
        #: (UTC+8 day number, successful schedule/add calls that day)
        self._adds: tuple[int, int] = (0, 0)
        #: bumped by reset(); a request delayed across a reset is dropped, not applied
        self.generation = 0
        self.callbacks = self._callback_sender(callback_url, callback_token, callback_aes_key)
        loaded = load_state(state_path) if state_path is not None else None
        self.state = loaded if loaded is not None else State(apps=dict(self._base_apps))
        self.state.apps.update(self._base_apps)
        self.state.variants = chosen
        self._persister = (
            Persister(state_path, self.state.to_json, self._lock) if state_path else None
        )
        if self._persister is not None:
            self._persister.changed()
            atexit.register(_flush_at_exit, weakref.ref(self))

    def _callback_sender(self, url: str | None, token: str | None,
                         aes_key: str | None) -> CallbackSender | None:
        given = [x is not None for x in (url, token, aes_key)]
        if not any(given):
            return None
        if not all(given):
            raise EmulatorError("callbacks need a URL, a token and an EncodingAESKey together")
        assert url is not None and token is not None and aes_key is not None
        return CallbackSender(CallbackConfig(url=url, token=token, aes_key=decode_aes_key(aes_key),
                                             corpid=self.corpid))

    @property
    def variants(self) -> Variants:
        return self.state.variants

    @property
    def listing(self) -> str:
        return self.state.variants.listing

    # --- clock ---------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.state.clock_offset

    def set_clock(self, body: Mapping[str, Any]) -> Json:
        """{"now": unix} or {"advance": seconds}; answers {"now": ...}."""
        with self._lock:
            if "now" in body and _number(body["now"]):
                self.state.clock_offset = float(body["now"]) - time.time()
            elif "advance" in body and _number(body["advance"]):
                self.state.clock_offset += float(body["advance"])
            else:
                raise AdminRequestError("clock needs a number 'now' or 'advance'")
            self._changed()
            return {"now": int(self.now())}

    # --- the API ---------------------------------------------------------------------

    def handle(self, method: str, path: str, query: Mapping[str, str], body: bytes) -> Reply:
        """Answer one call to a WeCom API path (gettoken or one of the 11 endpoints)."""
        events: list[Event] = []
        with self._lock:
            now = self.now()
            try:
                self._admit(path, now)
                if path == C.GETTOKEN_PATH:
                    return self._gettoken(method, query, now)
                handler = HANDLERS.get(path)
                if handler is None:
                    raise ValueError(f"not a WeCom API path: {path}")
                app = self._authenticate(query, now)
                if method != "POST":
                    raise v.bad("use POST")
                parsed = v.parse_body(body)
                if path == C.SCHEDULE_ADD:
                    self._check_add_quota(now)
                answer = handler(Call(state=self.state, app=app, now=int(now)), parsed)
            except ApiError as exc:
                return _error(exc)
            if path == C.SCHEDULE_ADD:
                self._adds = (self._adds[0], self._adds[1] + 1)
            if path not in READ_ONLY:
                self._changed()
                if self.callbacks is not None and self.variants.callbacks == "all":
                    events = api_events.events_for(self.state, app, path, body=parsed,
                                                   answer=answer, now=int(now))
        # sent outside the lock, as act() does: the sender has its own queue
        for event in events:
            assert self.callbacks is not None
            self.callbacks.send(event, timestamp=int(now))
        return _ok(answer)

    def _check_add_quota(self, now: float) -> None:
        """The daily schedule/add limit (the `daily-add-quota` variant; 0: none)."""
        day = int((now + QUOTA_DAY_OFFSET) // 86400)
        if self._adds[0] != day:
            self._adds = (day, 0)
        quota = self.variants.daily_add_quota
        if quota and self._adds[1] >= quota:
            # no detail: WeCom's own text is just "api freq out of limit, hint: ..."
            raise ApiError(self.variants.quota_errcode)

    def _admit(self, path: str, now: float) -> None:
        minute = int(now // 60)
        window, calls = self._windows.get(path, (minute, 0))
        if window != minute:
            window, calls = minute, 0
        calls += 1
        self._windows[path] = (window, calls)
        if calls > self.rate_limit:
            raise ApiError(C.ERR_RATE_LIMITED, f"more than {self.rate_limit} calls a minute")

    def _gettoken(self, method: str, query: Mapping[str, str], now: float) -> Reply:
        if method != "GET":
            raise v.bad("use GET")
        if query.get("corpid") != self.corpid:
            raise ApiError(C.ERR_INVALID_CORPID)
        secret = query.get("corpsecret")
        if not secret or secret not in self.state.apps:
            raise ApiError(C.ERR_INVALID_SECRET)
        token = self._issue(secret, now)
        self._changed()
        return _ok({"access_token": token, "expires_in": self.token_ttl})

    def _issue(self, secret: str, now: float) -> str:
        tokens = self.state.tokens
        for stale in [t for t, rec in tokens.items() if rec["expires_at"] + TOKEN_MEMORY < now]:
            del tokens[stale]
        token = new_token()
        tokens[token] = {"app": secret, "expires_at": now + self.token_ttl}
        return token

    def _authenticate(self, query: Mapping[str, str], now: float) -> str:
        token = query.get("access_token")
        if not token:
            raise ApiError(C.ERR_MISSING_TOKEN)
        rec = self.state.tokens.get(token)
        if rec is None or rec["app"] not in self.state.apps:
            raise ApiError(C.ERR_INVALID_TOKEN)
        if now >= rec["expires_at"]:
            raise ApiError(C.ERR_TOKEN_EXPIRED)
        app: str = rec["app"]
        return app

    def issue_token(self, corpsecret: str | None = None) -> str:
        """A valid token without an HTTP call (for tests and tools)."""
        with self._lock:
            secret = corpsecret if corpsecret is not None else next(iter(self._base_apps))
            if secret not in self.state.apps:
                raise AdminRequestError("unknown app secret")
            token = self._issue(secret, self.now())
            self._changed()
            return token

    # --- faults and the request log ---------------------------------------------------

    def add_fault(self, body: Mapping[str, Any]) -> Json:
        request = parse_fault(body)
        with self._lock:
            self._faults.add(request)
            return {"faults": self._faults.pending()}

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            return self._faults.take(path)

    def record(self, method: str, path: str, errcode: int | None, http_status: int | None) -> None:
        with self._lock:
            self._requests.append(
                {"method": method, "path": path, "errcode": errcode, "http_status": http_status}
            )

    def requests(self) -> list[Json]:
        with self._lock:
            return [dict(r) for r in self._requests]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # --- administration --------------------------------------------------------------

    def reset(self) -> None:
        """Forget calendars, schedules, tokens, faults, the request log and clock changes
        (and the day's schedule/add count); keep the configuration and variants."""
        with self._lock:
            self.state.calendars.clear()
            self.state.schedules.clear()
            self.state.tokens.clear()
            self.state.apps = dict(self._base_apps)
            self.state.clock_offset = 0.0
            self._faults.clear()
            self._requests.clear()
            self._windows.clear()
            self._adds = (0, 0)
            # variants are configuration, like the rate limit: a reset keeps them
            self.generation += 1
            self._changed()

    def add_app(self, corpsecret: str, agentid: int) -> None:
        """Another app of the same corp, with its own secret and calendars."""
        if not corpsecret or agentid < 1:
            raise AdminRequestError("an app needs a non-empty corpsecret and a positive agentid")
        with self._lock:
            self.state.apps[corpsecret] = agentid
            self._changed()

    def ensure_calendar(self, cal_id: str, summary: str, color: str = "#3366CC") -> None:
        """Make sure a calendar with exactly this cal_id exists, for the default app.

        WeCom's calendar/add cannot choose a cal_id; this is for a sandbox whose
        config names one (wesync.sync.sandbox). An existing record under that id
        is left as it is. The summary is cut to WeCom's limit.
        """
        if not cal_id:
            raise AdminRequestError("a calendar needs a non-empty cal_id")
        try:
            fields = v.calendar_fields(
                {"summary": summary[: C.SUMMARY_MAX], "color": color}, creating=True
            )
        except ApiError as exc:
            raise AdminRequestError(f"calendar {cal_id!r}: {exc.detail or exc.errcode}") from None
        with self._lock:
            if cal_id in self.state.calendars:
                return
            self.state.calendars[cal_id] = {
                "cal_id": cal_id,
                "app": next(iter(self._base_apps)),
                "deleted": False,
                "last_sequence": 0,
                "fields": fields,
            }
            self._changed()

    def act(self, action: str, body: Mapping[str, Any]) -> Json:
        """Someone acts in the WeCom app (respond, admin_edit, ...); sends the callback."""
        perform = ADMIN_ACTIONS.get(action)
        if perform is None:
            raise AdminRequestError(f"unknown action {action!r}")
        with self._lock:
            now = int(self.now())
            events = perform(self.state, body, now)
            self._changed()
        if self.callbacks is not None:
            for event in events:
                self.callbacks.send(event, timestamp=now)
        first = events[0]
        answer: Json = {"event": first.event, "cal_id": first.cal_id,
                        "schedule_id": first.schedule_id,
                        "events": [{"event": e.event, "cal_id": e.cal_id,
                                    "schedule_id": e.schedule_id} for e in events]}
        if len(events) > 1:
            # a member's split made a new schedule: its id, as schedule/update would answer
            answer["new_schedule_id"] = events[-1].schedule_id
        return answer

    def dump(self) -> Json:
        """The state for GET /_emulator/state: apps named by agentid, tokens only counted.

        Records name their app by its corpsecret inside the emulator; the dump
        shows the agentid instead, so that the secret (which for `backend =
        "emulator"` is the one in the user's config) never leaves the process.
        """
        with self._lock:
            data = copy.deepcopy(self.state.to_json())
            agentids = self.state.apps
            data["apps"] = sorted(agentids.values())
            for rec in (*data["calendars"].values(), *data["schedules"].values()):
                rec["app"] = agentids.get(rec["app"])
            data["tokens"] = len(data["tokens"])
            data["now"] = int(self.now())
            data["faults"] = self._faults.pending()
            data["variants"] = self.variants.to_json()
            return data

    def configure(self, *, rate_limit: int | None = None, token_ttl: int | None = None,
                  listing: str | None = None,
                  variants: Mapping[str, Any] | None = None,
                  delay_ms: int | None = None) -> None:
        """Change settings at run time; `variants` names only the keys that change.

        Everything is checked before anything changes, so a refused call leaves
        the emulator as it was.
        """
        with self._lock:
            chosen = self.variants.with_changes(variants or {})
            if listing is not None and listing not in LISTING_MODES:
                raise AdminRequestError(f"listing must be one of {LISTING_MODES}")
            if delay_ms is not None and delay_ms < 0:
                raise AdminRequestError("delay_ms must not be negative")
            if delay_ms is not None:
                self.delay_ms = delay_ms
            self.state.variants = chosen
            if rate_limit is not None:
                self.rate_limit = rate_limit
            if token_ttl is not None:
                self.token_ttl = token_ttl
            if listing is not None:
                self.state.variants = chosen.with_changes({"listing": listing})

    def config(self) -> Json:
        """What GET /_emulator/config shows."""
        with self._lock:
            return {"rate_limit": self.rate_limit, "token_ttl": self.token_ttl,
                    "listing": self.listing, "variants": self.variants.to_json(),
                    "delay_ms": self.delay_ms}

    def _changed(self) -> None:
        if self._persister is not None:
            self._persister.changed()

    def flush(self) -> None:
        if self._persister is not None:
            self._persister.flush()

    def close(self) -> None:
        """Write pending state and stop the callback thread."""
        self.flush()
        if self.callbacks is not None:
            self.callbacks.close()


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _flush_at_exit(ref: weakref.ref[Emulator]) -> None:
    emulator = ref()
    if emulator is not None:
        try:
            emulator.flush()
        except OSError as exc:
            log.error("could not save the emulator state at exit: %s", exc)
