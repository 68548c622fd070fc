"""An async client for WeCom's calendar and schedule API (server side).

Knows HTTP and the API, nothing about iCalendar. Each call:

- takes a token from the TokenManager (one gettoken however many callers);
- waits for room under the per-endpoint rate limit and the concurrency cap;
- sends, and reads `errcode`; a refused token is replaced once and the call
  sent again; busy/rate-limited answers, HTTP 5xx, timeouts and dropped
  connections are retried with backoff, except a write that cannot safely be
  sent twice (schedule/add, calendar/add, op_mode 1/2 edits): if its answer
  was lost, `WeComTransportError(maybe_applied=True)` tells the caller to look
  before writing again, because a blind retry could create a duplicate.

Neither the secret nor the token ever reaches a message: exceptions name the
endpoint's path only, both values are registered with wesync.logs for
scrubbing, and httpx's own request log line is passed through the scrubber.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from wesync import __version__
from wesync.config import DEFAULT_BASE_URL, Secret
from wesync.logs import RedactingFilter, redact, register_secret
from wesync.wecom import constants as C
from wesync.wecom.errors import (
    NotFoundError,
    TokenError,
    WeComAPIError,
    WeComError,
    WeComTransportError,
    error_for,
)
from wesync.wecom.models import BrokenSchedule, Calendar, Schedule, ScheduleList
from wesync.wecom.ratelimit import RateLimiter, Throttle
from wesync.wecom.retry import RetryPolicy, RetryState
from wesync.wecom.token import TokenCache, TokenManager, cache_key

log = logging.getLogger(__name__)

JSON = dict[str, Any]
_T = TypeVar("_T")

# Failures after which the request certainly never reached WeCom.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class ClientStats:
    """Counters for metrics and benchmarks (the Counters themselves change)."""

    calls: Counter[str] = field(default_factory=Counter)  #: HTTP requests sent, by path
    errcodes: Counter[int] = field(default_factory=Counter)  #: answers by errcode (0 included)
    #: answers by (path, errcode): which endpoint is failing, not just that something is
    by_endpoint_errcode: Counter[tuple[str, int]] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)  #: requests sent again, by path
    transport_errors: Counter[str] = field(default_factory=Counter)  #: no usable answer, by path

    def total_calls(self) -> int:
        return sum(self.calls.values())


class _Failed(Exception):
    """One exchange gave no usable answer (internal to the retry loop)."""

    def __init__(self, error: WeComTransportError, *, sent: bool) -> None:
        super().__init__(error.cause)
        self.error = error
        self.sent = sent  #: the request may have reached WeCom


def _install_httpx_log_scrubber() -> None:
    # httpx logs every request URL at INFO, and the token travels in the query
    # string; a filter on its logger scrubs the record before any handler,
    # including ones that do not carry wesync's own filter, sees it.
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


class WeComClient:
    """The calendar and schedule endpoints, typed with wesync.wecom.models."""

    def __init__(
        self,
        *,
        corpid: str,
        corpsecret: Secret,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limit: int = 6000,
        max_concurrency: int = 8,
        timeout: float = 30.0,
        token_cache: Path | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        limiter: RateLimiter | None = None,
    ) -> None:
        if not corpid:
            raise ValueError("corpid must not be empty")
        register_secret(corpsecret.reveal())
        _install_httpx_log_scrubber()
        self.corpid = corpid
        self.base_url = base_url.rstrip("/")
        self._secret = corpsecret
        self._retry = retry or RetryPolicy()
        self._throttle = Throttle(limiter or RateLimiter(rate_limit), max_concurrency)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_concurrency, max_keepalive_connections=max_concurrency
            ),
            headers={"User-Agent": f"wesync/{__version__}"},
        )
        cache = TokenCache(token_cache, clock=clock) if token_cache is not None else None
        #: who WeCom counts calls and quotas for (the app): the token cache's key,
        #: which names the corpid and a hash of the secret, never the secret
        self.app_key = cache_key(self.base_url, corpid, corpsecret)
        self._tokens = TokenManager(
            key=self.app_key,
            fetch=self._fetch_token,
            cache=cache,
            clock=clock,
        )
        self.stats = ClientStats()

    def __repr__(self) -> str:
        return f"WeComClient(corpid={self.corpid!r}, base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def throttle(self) -> Throttle:
        return self._throttle

    @property
    def token_fetches(self) -> int:
        """gettoken calls that returned a token, since this client was made."""
        return self._tokens.fetches

    # --- credentials ------------------------------------------------------------

    async def check_credentials(self) -> None:
        """Call gettoken now, whatever is cached; raises CredentialsError if refused."""
        await self._tokens.get(force=True)

    async def _fetch_token(self) -> tuple[str, float]:
        params = {"corpid": self.corpid, "corpsecret": self._secret.reveal()}
        data = await self._request("GET", C.GETTOKEN_PATH, params=params)
        token = data.get("access_token")
        expires_in = data.get("expires_in", 7200)
        if not isinstance(token, str) or not token:
            raise WeComTransportError(C.GETTOKEN_PATH, "gettoken answered without an access_token")
        if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
            raise WeComTransportError(C.GETTOKEN_PATH, "gettoken answered a bad expires_in")
        register_secret(token)
        return token, float(expires_in)

    # --- calendars --------------------------------------------------------------

    async def calendar_add(self, calendar: Calendar) -> str:
        """Create an app calendar; returns its cal_id."""
        data = await self._call(C.CALENDAR_ADD, {"calendar": calendar.to_api()}, idempotent=False)
        _log_failed_shares(C.CALENDAR_ADD, data)
        cal_id = data.get("cal_id")
        if not isinstance(cal_id, str) or not cal_id:
            raise WeComTransportError(C.CALENDAR_ADD, "answer without cal_id", maybe_applied=True)
        return cal_id

    async def calendar_update(self, calendar: Calendar, *, skip_public_range: bool = False) -> None:
        """Overwrite a calendar (WeCom's update is not incremental)."""
        if not calendar.cal_id:
            raise ValueError("calendar_update needs a calendar with cal_id")
        body = {
            "calendar": calendar.to_api(for_update=True),
            "skip_public_range": 1 if skip_public_range else 0,
        }
        data = await self._call(C.CALENDAR_UPDATE, body, idempotent=True)
        _log_failed_shares(C.CALENDAR_UPDATE, data)

    async def calendar_get(self, cal_ids: Sequence[str]) -> list[Calendar]:
        """The calendars, in batches of 1000 ids, in the order WeCom returns them."""
        pages = await self._batched(C.CALENDAR_GET, "cal_id_list", "calendar_list", cal_ids)
        return [_parse(C.CALENDAR_GET, Calendar.from_api, item) for item in pages]

    async def calendar_del(self, cal_id: str) -> None:
        await self._call(C.CALENDAR_DEL, {"cal_id": cal_id}, idempotent=True, gone_ok=True)

    # --- schedules --------------------------------------------------------------

    async def schedule_add(self, schedule: Schedule, *, with_exclusions: bool = False) -> str:
        """Create a schedule; returns its schedule_id.

        Never retried once it may have reached WeCom: a lost answer raises
        WeComTransportError(maybe_applied=True). `with_exclusions` sends
        reminders.exclude_time_list, which only the emulator accepts (WeCom
        documents it as read-only; remove occurrences with schedule_del op_mode 1).
        """
        body = {"schedule": schedule.to_api(with_exclusions=with_exclusions)}
        data = await self._call(C.SCHEDULE_ADD, body, idempotent=False)
        schedule_id = data.get("schedule_id")
        if not isinstance(schedule_id, str) or not schedule_id:
            raise WeComTransportError(
                C.SCHEDULE_ADD, "answer without schedule_id", maybe_applied=True
            )
        return schedule_id

    async def schedule_update(
        self,
        schedule: Schedule,
        *,
        skip_attendees: bool = False,
        op_mode: int = C.OP_ALL,
        op_start_time: int | None = None,
        with_exclusions: bool = False,
    ) -> str:
        """Overwrite a schedule (or one occurrence, op_mode 1, or the rest, op_mode 2).

        Returns the schedule_id WeCom answers with: for op_mode 1/2 that is the
        new schedule split off the series; otherwise (or when absent) the given id.
        """
        if not schedule.schedule_id:
            raise ValueError("schedule_update needs a schedule with schedule_id")
        body: JSON = {
            "schedule": schedule.to_api(for_update=True, with_exclusions=with_exclusions),
            "skip_attendees": 1 if skip_attendees else 0,
            "op_mode": op_mode,
        }
        if op_start_time is not None:
            body["op_start_time"] = op_start_time
        data = await self._call(C.SCHEDULE_UPDATE, body, idempotent=op_mode == C.OP_ALL)
        new_id = data.get("schedule_id")
        return new_id if isinstance(new_id, str) and new_id else schedule.schedule_id

    async def schedule_get(self, schedule_ids: Sequence[str]) -> ScheduleList:
        """Full schedules, 1000 ids a call, the calls running concurrently.

        A schedule that cannot be read is in the answer's `broken`, not its list.
        """
        items = await self._batched(
            C.SCHEDULE_GET, "schedule_id_list", "schedule_list", schedule_ids
        )
        out = ScheduleList()
        for item in items:
            parsed = _parse_schedule(C.SCHEDULE_GET, item)
            if isinstance(parsed, BrokenSchedule):
                out.broken.append(parsed)
            else:
                out.append(parsed)
        return out

    async def schedule_del(
        self, schedule_id: str, *, op_mode: int = C.OP_ALL, op_start_time: int | None = None
    ) -> None:
        """Cancel a schedule (it stays readable with status=1), or some occurrences."""
        body: JSON = {"schedule_id": schedule_id, "op_mode": op_mode}
        if op_start_time is not None:
            body["op_start_time"] = op_start_time
        idempotent = op_mode == C.OP_ALL
        await self._call(C.SCHEDULE_DEL, body, idempotent=idempotent, gone_ok=idempotent)

    async def schedule_list(self, cal_id: str, *, limit: int = C.PAGE_LIMIT_MAX) -> ScheduleList:
        """Every schedule of an app calendar (cancelled ones included).

        Pages with get_by_calendar until an empty page. Any failure raises:
        a partial listing would look like deletions to the sync engine. A
        schedule with a field of the wrong type is in the answer's `broken`
        (by schedule_id), so the rest can sync; one without a readable
        schedule_id cannot be told apart, and raises.
        """
        if not 1 <= limit <= C.PAGE_LIMIT_MAX:
            raise ValueError(f"limit must be 1..{C.PAGE_LIMIT_MAX}, not {limit}")
        path = C.SCHEDULE_GET_BY_CALENDAR
        seen: dict[str, Schedule | BrokenSchedule] = {}
        offset = 0
        while True:
            body = {"cal_id": cal_id, "offset": offset, "limit": limit}
            page = _page_of(path, await self._call(path, body, idempotent=True), limit)
            if not page:
                return ScheduleList(
                    [s for s in seen.values() if isinstance(s, Schedule)],
                    [s for s in seen.values() if isinstance(s, BrokenSchedule)],
                )
            fresh = 0
            for item in page:
                schedule = _parse_schedule(path, item)
                key = schedule.schedule_id or f"#{offset + fresh}"
                if key not in seen:
                    seen[key] = schedule
                    fresh += 1
            if fresh == 0:
                # The same page again: the server ignores offset, and paging
                # on would never end.
                raise WeComTransportError(path, f"offset {offset} repeated an earlier page")
            offset += len(page)

    async def schedule_pages_raw(
        self, cal_id: str, *, limit: int = C.PAGE_LIMIT_MAX
    ) -> AsyncIterator[list[JSON]]:
        """The get_by_calendar pages as WeCom sent them (dicts, not parsed), one
        page at a time, for a caller that digests entries and parses only the
        few it needs. The same paging and checks as `schedule_list`: a failure
        raises (after the pages already yielded, so take nothing as complete
        before the iteration ends); an entry that is not an object, or whose
        schedule_id is neither missing nor a string, raises; an entry seen on an
        earlier page is left out.
        """
        if not 1 <= limit <= C.PAGE_LIMIT_MAX:
            raise ValueError(f"limit must be 1..{C.PAGE_LIMIT_MAX}, not {limit}")
        path = C.SCHEDULE_GET_BY_CALENDAR
        seen: set[str] = set()
        offset = 0
        ahead: asyncio.Task[JSON] | None = None
        try:
            while True:
                if ahead is None:
                    body = {"cal_id": cal_id, "offset": offset, "limit": limit}
                    ahead = asyncio.ensure_future(self._call(path, body, idempotent=True))
                data = await ahead
                ahead = None
                page = _page_of(path, data, limit)
                if not page:
                    return
                out = self._page_entries(path, page, offset, seen)
                offset += len(page)
                # the next page is asked for now, so WeCom prepares it while the
                # caller digests this one (the order of the calls is unchanged)
                body = {"cal_id": cal_id, "offset": offset, "limit": limit}
                ahead = asyncio.ensure_future(self._call(path, body, idempotent=True))
                await _let_run(ahead)
                yield out
        finally:
            if ahead is not None:
                # the caller stopped early, or this page failed: the page asked for
                # ahead goes unread (a failure of it is not worth a warning)
                if not ahead.done():
                    ahead.cancel()
                elif not ahead.cancelled():
                    ahead.exception()

    @staticmethod
    def _page_entries(path: str, page: list[Any], offset: int, seen: set[str]) -> list[JSON]:
        """A page's entries, checked, without those an earlier page had."""
        out: list[JSON] = []
        for item in page:
            if not isinstance(item, dict):
                raise WeComTransportError(
                    path, f"expected an object in the answer, got {type(item).__name__}"
                )
            sid = item.get("schedule_id")
            if sid is not None and not isinstance(sid, str):
                raise WeComTransportError(path, f"unexpected answer: schedule_id {sid!r}")
            key = sid or f"#{offset + len(out)}"
            if key not in seen:
                seen.add(key)
                out.append(item)
        if not out:
            # The same page again: the server ignores offset, and paging
            # on would never end.
            raise WeComTransportError(path, f"offset {offset} repeated an earlier page")
        return out

    async def schedule_list_raw(
        self, cal_id: str, *, limit: int = C.PAGE_LIMIT_MAX
    ) -> list[JSON]:
        """Every schedule of an app calendar as WeCom sent it (see schedule_pages_raw)."""
        pages = self.schedule_pages_raw(cal_id, limit=limit)
        return [item async for page in pages for item in page]

    async def schedule_add_attendees(self, schedule_id: str, userids: Sequence[str]) -> None:
        """Add attendees without rewriting the schedule."""
        await self._attendees(C.SCHEDULE_ADD_ATTENDEES, schedule_id, userids)

    async def schedule_del_attendees(self, schedule_id: str, userids: Sequence[str]) -> None:
        """Remove attendees without rewriting the schedule."""
        await self._attendees(C.SCHEDULE_DEL_ATTENDEES, schedule_id, userids)

    async def _attendees(self, path: str, schedule_id: str, userids: Sequence[str]) -> None:
        if isinstance(userids, str):
            raise TypeError("userids must be a sequence of userids, not one string")
        if not userids:
            return
        body = {"schedule_id": schedule_id, "attendees": [{"userid": u} for u in userids]}
        await self._call(path, body, idempotent=True)

    # --- the machinery --------------------------------------------------------------

    async def _batched(
        self, path: str, ids_key: str, list_key: str, ids: Sequence[str]
    ) -> list[JSON]:
        if isinstance(ids, str):
            raise TypeError(f"{ids_key} must be a sequence of ids, not one string")
        chunks = [list(ids[i : i + C.GET_IDS_MAX]) for i in range(0, len(ids), C.GET_IDS_MAX)]
        if not chunks:
            return []

        async def one(chunk: list[str]) -> list[JSON]:
            data = await self._call(path, {ids_key: chunk}, idempotent=True)
            items = data.get(list_key)
            # missing is not empty: the ids asked for would read as unknown
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise WeComTransportError(path, f"{list_key} is missing or not a list of objects")
            return items

        if len(chunks) == 1:
            return await one(chunks[0])
        # A TaskGroup cancels the other batches as soon as one fails; the
        # caller gets that failure itself, not an ExceptionGroup around it.
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(chunk)) for chunk in chunks]
        except ExceptionGroup as failures:
            first = next(
                (e for e in failures.exceptions if isinstance(e, WeComError)),
                failures.exceptions[0],
            )
            raise first from None
        return [item for task in tasks for item in task.result()]

    async def _call(
        self, path: str, body: JSON, *, idempotent: bool, gone_ok: bool = False
    ) -> JSON:
        """POST `body` to an OA endpoint with a token; the answer, or an exception.

        `gone_ok`: for deletes, a "not found" after an attempt that may have
        been applied means that attempt did it.
        """
        token = await self._tokens.get()
        return await self._request(
            "POST", path, body=body, token=token, idempotent=idempotent, gone_ok=gone_ok
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: JSON | None = None,
        token: str | None = None,
        idempotent: bool = True,
        gone_ok: bool = False,
    ) -> JSON:
        """A call with its retries: with `token` (refreshed once if refused),
        or without one (gettoken, with `params`)."""
        refreshed = False
        maybe_done = False
        state = self._retry.start()
        while True:
            query = {"access_token": token} if token is not None else params or {}
            try:
                data = await self._exchange(
                    method, path, params=query, body=body, idempotent=idempotent
                )
            except _Failed as failed:
                maybe_done = maybe_done or failed.sent
                if await self._again(state, path, failed.error.cause):
                    continue
                raise failed.error from None
            errcode = _errcode(data)
            if errcode == C.ERR_OK:
                return data
            error = error_for(errcode, _errmsg(data), path)
            if isinstance(error, TokenError) and token is not None and not refreshed:
                refreshed = True
                log.info("%s: access token refused (%d); fetching a new one", path, errcode)
                token = await self._tokens.refresh(token)
                continue
            if gone_ok and maybe_done and isinstance(error, NotFoundError):
                return data
            if error.retryable and await self._again(state, path, f"errcode {errcode}"):
                continue
            raise error

    async def _again(self, state: RetryState, path: str, why: str) -> bool:
        if not await state.wait():
            return False
        self.stats.retries[path] += 1
        log.warning(
            "%s: %s; trying again (attempt %d of %d)",
            path,
            why,
            state.failures + 1,
            self._retry.attempts,
        )
        return True

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str],
        body: JSON | None,
        idempotent: bool,
    ) -> JSON:
        """One HTTP request and its JSON answer; `_Failed` when there is none.

        A non-idempotent request whose answer was lost after it may have been
        sent fails at once with maybe_applied=True instead of being retried.
        """
        started = time.monotonic()
        try:
            async with self._throttle.slot(path):
                self.stats.calls[path] += 1
                response = await self._http.request(method, path, params=params, json=body)
        except httpx.UnsupportedProtocol as exc:
            # a base_url that is not http(s): no retry will change that
            raise WeComTransportError(path, _describe(exc)) from None
        except _NOT_SENT as exc:
            self.stats.transport_errors[path] += 1
            raise _Failed(WeComTransportError(path, _describe(exc)), sent=False) from None
        except httpx.HTTPError as exc:
            self.stats.transport_errors[path] += 1
            cause = _describe(exc)
            if not idempotent:
                raise WeComTransportError(path, cause, maybe_applied=True) from None
            raise _Failed(WeComTransportError(path, cause), sent=True) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        status = response.status_code
        if status >= 500:
            self.stats.transport_errors[path] += 1
            cause = f"HTTP {status}"
            if not idempotent:
                # A gateway error does not tell whether WeCom behind it acted.
                raise WeComTransportError(path, cause, maybe_applied=True)
            raise _Failed(WeComTransportError(path, cause), sent=True)
        if status != 200:
            self.stats.transport_errors[path] += 1
            raise WeComTransportError(path, f"HTTP {status}")
        data = loads_lenient(response.content)
        # httpx's response and its stream refer to each other: only a full garbage
        # collection would free the answer's bytes (a listing page is a megabyte)
        response.stream = httpx.ByteStream(b"")
        if not isinstance(data, dict):
            self.stats.transport_errors[path] += 1
            cause = "the answer is not a JSON object"
            if not idempotent:
                raise WeComTransportError(path, cause, maybe_applied=True)
            raise _Failed(WeComTransportError(path, cause), sent=True)
        errcode = _errcode(data)
        self.stats.errcodes[errcode] += 1
        self.stats.by_endpoint_errcode[(path, errcode)] += 1
        log.debug("%s %s -> errcode %d in %.0f ms", method, path, errcode, elapsed_ms)
        return data


#: event-loop turns given to a request started ahead, so that it is on the wire
#: before the caller's own work holds the loop (a few are enough with httpx)
_SEND_TURNS = 8


async def _let_run(task: asyncio.Future[Any]) -> None:
    for _ in range(_SEND_TURNS):
        if task.done():
            return
        await asyncio.sleep(0)


_STRING_OR_TRAILING_COMMA = re.compile(r'("(?:[^"\\]|\\.)*")|,(\s*[\]}])')


def loads_lenient(raw: bytes | str) -> Any:
    """JSON, forgiving a comma before `]` or `}` (WeCom's own calendar/get sample
    has one); None when the text is not JSON even then."""
    try:
        return json.loads(raw)
    except ValueError:
        pass
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        # strings are matched first and kept whole, so a comma inside one stays
        return json.loads(_STRING_OR_TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), text))
    except ValueError:
        return None


def _errcode(data: JSON) -> int:
    value = data.get("errcode", 0)
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            return -1
    return value


def _errmsg(data: JSON) -> str:
    value = data.get("errmsg", "")
    return redact(value) if isinstance(value, str) else str(value)


def _describe(exc: httpx.HTTPError) -> str:
    text = redact(str(exc)).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text and text != name else name


def _parse(path: str, parse: Callable[[JSON], _T], item: Any) -> _T:
    if not isinstance(item, dict):
        raise WeComTransportError(
            path, f"expected an object in the answer, got {type(item).__name__}"
        )
    try:
        return parse(item)
    except (ValueError, TypeError) as exc:
        raise WeComTransportError(path, f"unexpected answer: {exc}") from None


def _page_of(path: str, data: JSON, limit: int) -> list[Any]:
    """The schedule_list of a get_by_calendar answer, checked; empty at the end.

    An answer without the list is not an empty page: taken as one, it would
    end the listing early, and the rest would look deleted.
    """
    page = data.get("schedule_list")
    if not isinstance(page, list):
        raise WeComTransportError(path, "schedule_list is missing or not a list")
    if len(page) > limit:
        raise WeComTransportError(path, f"a page of {len(page)} for limit {limit}")
    return page


def _parse_schedule(path: str, item: Any) -> Schedule | BrokenSchedule:
    """One schedule of an answer; a broken one with a schedule_id is set apart."""
    if not isinstance(item, dict):
        return _parse(path, Schedule.from_api, item)  # raises, as for any answer
    try:
        return Schedule.from_api(item)
    except (ValueError, TypeError) as exc:
        sid = item.get("schedule_id")
        if not isinstance(sid, str) or not sid:
            raise WeComTransportError(path, f"unexpected answer: {exc}") from None
        return BrokenSchedule(schedule_id=sid, error=str(exc))


def _log_failed_shares(path: str, data: JSON) -> None:
    fail = data.get("fail_result")
    shares = fail.get("shares") if isinstance(fail, dict) else None
    if not isinstance(shares, list):
        return
    for share in shares:
        if isinstance(share, dict):
            log.warning(
                "%s: WeCom did not share the calendar with %r: errcode %s %s",
                path,
                share.get("userid"),
                share.get("errcode"),
                _errmsg(share),
            )


__all__ = ["ClientStats", "WeComAPIError", "WeComClient", "WeComTransportError"]
