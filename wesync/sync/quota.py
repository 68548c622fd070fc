"""The daily creation quota: WeCom lets an app create 20,000 schedules a day.

wesync counts the schedules it adds per app and WeCom day (UTC+8) in the
state directory (`quota_store`) and never sends an add that would go over
`[wecom] daily_add_quota`. When the allowance is smaller than what a run
would add, the schedules nearest to now go first (`candidates`, `allot`,
`arrange`): the next weeks of every event before far-future ones.

WeCom's own refusal is undocumented (its errcode is not known; the emulator
answers 45009, which is also the rate-limit errcode). The rule that tells it
from rate limiting, applied by `AddGate.refused`:

    an add fails with an errcode that is not about the request itself (see
    `could_be_the_quota`: the quota's errcode is undocumented) after the client's
    retries and backoff, no add landed while it was being tried, and a call to another
    endpoint (calendar/get of the pair's calendar) succeeds right after.

The journal asks the gate right where the add failed (`DbJournal.refused`), so
the refused event's other writes go ahead as well. A split (an occurrence
made a schedule of its own by update op_mode=1) is counted as a creation.

Then the gate closes for the run: every other write still goes ahead, the
events whose adds wait keep their status (the refused add surely did not
land: its intent is cleared), and the run fails with one line (`quota_line`).
The refusal is kept; every later run sends one add alone first, which tells
whether WeCom's day has turned (its clock need not be this machine's), and
goes on with the rest only when it lands.

The gate itself is the effect: the decisions are the pure functions here.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from wesync.errors import WesyncError
from wesync.sync.quota_store import QuotaStore, Refusal
from wesync.sync.remote import AddDeferred, OldSlot, planned_adds
from wesync.translate import series
from wesync.translate.canonical import MASTER, ScheduleDraft, SlotKey, slot_start
from wesync.wecom.constants import SCHEDULE_ADD
from wesync.wecom.errors import (
    CredentialsError,
    InvalidParameterError,
    NotFoundError,
    TokenError,
    UnknownUserError,
    WeComAPIError,
)

#: WeCom's day runs on China Standard Time
WECOM_TZ = timezone(timedelta(hours=8), "UTC+8")
#: refusals that are about the request itself (its content, a user, the calendar,
#: the credentials), never the day's quota: one event's bad add must not stop the rest
NOT_THE_QUOTA: tuple[type[WeComAPIError], ...] = (
    InvalidParameterError,
    NotFoundError,
    UnknownUserError,
    TokenError,
    CredentialsError,
)
#: how far ahead a series' next occurrence is looked for (its start stands in beyond)
LOOKAHEAD = 400 * 86400

_A = TypeVar("_A")


def wecom_day(now: float) -> str:
    """The WeCom day (ISO date, UTC+8) holding `now`."""
    return datetime.fromtimestamp(now, WECOM_TZ).date().isoformat()


def next_reset(now: float) -> int:
    """When the WeCom day after `now` begins (00:00 UTC+8), epoch seconds."""
    day = datetime.fromtimestamp(now, WECOM_TZ).date() + timedelta(days=1)
    return int(datetime(day.year, day.month, day.day, tzinfo=WECOM_TZ).timestamp())


def reset_text(now: float) -> str:
    return datetime.fromtimestamp(next_reset(now), WECOM_TZ).strftime("%Y-%m-%d %H:%M UTC+8")


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One schedule a run would add, and when it happens."""

    uid: str
    slot: SlotKey
    at: int  #: the start of its next occurrence (or of its last, for one in the past)


def slot_time(slot: SlotKey, draft: ScheduleDraft, now: int) -> int:
    """When the schedule of `slot` happens next: a series by its next occurrence."""
    start = slot_start(slot)
    if start is not None:
        return start  # an occurrence of its own (an override, an expanded or off-rule one)
    rec = draft.recurrence
    if rec is None or draft.start_time >= now:
        return draft.start_time
    last = draft.start_time
    for t in series.occurrences(draft.start_time, rec, end=now + LOOKAHEAD):
        if t >= now:
            return t
        last = t
    return last


def candidates(
    uid: str, old: Mapping[SlotKey, OldSlot], new: Mapping[SlotKey, ScheduleDraft], now: int
) -> list[Candidate]:
    """The schedules pushing `new` over `old` adds (see remote.planned_adds)."""
    return [
        Candidate(uid=uid, slot=k, at=slot_time(k, new[k], now)) for k in planned_adds(old, new)
    ]


def nearness(c: Candidate, now: int) -> tuple[int, int, str, str]:
    """Sort key: nearest to now first (before or after), then earlier, then by name."""
    return (abs(c.at - now), c.at, c.uid, c.slot)


def allot(cands: Iterable[Candidate], room: int, now: int) -> frozenset[tuple[str, SlotKey]]:
    """The `room` candidates nearest to now: the adds this run may send."""
    ranked = sorted(cands, key=lambda c: nearness(c, now))
    return frozenset((c.uid, c.slot) for c in ranked[: max(room, 0)])


def arrange(
    actions: Sequence[_A],
    uid_of: Callable[[_A], str],
    cands: Mapping[str, Sequence[Candidate]],
    now: int,
) -> list[_A]:
    """The actions with adds by their nearest add, then the others, each in plan order.

    Only the order of events changes: each event's own writes stay in the order
    push_event makes them, with an intent each, so a kill is as safe as before."""

    def key(pair: tuple[int, _A]) -> tuple[int, tuple[int, int, str, str], int]:
        index, action = pair
        mine = cands.get(uid_of(action), ())
        if not mine:
            return (1, (0, 0, "", ""), index)
        return (0, min(nearness(c, now) for c in mine), index)

    return [a for _, a in sorted(enumerate(actions), key=key)]


def most_adds(local_slots: Iterable[SlotKey], remote_slots: Iterable[SlotKey]) -> int:
    """At most how many adds an event's push makes, known without reading its file:
    its slots WeCom lacks, plus its master if the series may be created again."""
    have = set(remote_slots)
    mine = set(local_slots)
    return len(mine - have) + (1 if MASTER in mine and MASTER in have else 0)


def quota_line(
    *, limit: int, used: int, waiting: int, now: float, refused: int | None = None
) -> str:
    """The one line a run that stopped adding fails with."""
    events = f"{waiting} events wait" if waiting != 1 else "1 event waits"
    if refused is None:
        return (
            f"daily creation quota reached: {used} of {limit} schedules created today "
            f"for this WeCom app ([wecom] daily_add_quota); {events}; the quota resets at "
            f"{reset_text(now)} and the next sync after that sends them"
        )
    return (
        f"WeCom refused to create more schedules today (errcode {refused} for add while "
        f"other calls work: the app's daily creation quota) after {used} created today; "
        f"{events}; WeCom's day turns at {reset_text(now)}, and every sync tries one add "
        "until WeCom takes it"
    )


@dataclass(kw_only=True)
class AddGate:
    """One run's say on each add (`reserve`), counting them in the store.

    `probe` is a cheap call to another endpoint, for the refusal rule."""

    store: QuotaStore
    app: str
    limit: int  #: 0: no limit of wesync's own (WeCom may still refuse)
    now: int
    probe: Callable[[], Awaitable[object]]
    #: the adds this run may send when it cannot send all (None: any, while room lasts)
    allotted: frozenset[tuple[str, SlotKey]] | None = None
    #: every add arrange() foresaw (an add it did not foresee goes while room lasts)
    foreseen: frozenset[tuple[str, SlotKey]] = frozenset()
    #: uids whose adds wait (deferred or refused)
    waiting: set[str] = field(default_factory=set)
    closed: bool = False  #: no add is sent for the rest of the run
    refused_errcode: int | None = None  #: WeCom refused an add this run
    _landed: int = 0  #: adds that landed this run
    _last_failure_clean: bool = False  #: no add landed while the last failed add was tried
    _refusal: Refusal | None = None

    def __post_init__(self) -> None:
        self.day = wecom_day(self.now)
        self.store.prune(self.day)
        self._refusal = self.store.refusal(self.app)

    @property
    def used(self) -> int:
        return self.store.used(self.app, self.day)

    @property
    def room(self) -> int | None:
        """Adds left today by wesync's own count (None: no limit)."""
        return None if self.limit == 0 else max(self.limit - self.used, 0)

    @property
    def probing(self) -> bool:
        """WeCom refused an add earlier and none has landed since: one add alone first."""
        return self._refusal is not None and not self.closed and self._landed == 0

    def must_arrange(self, most: int) -> bool:
        """Whether the run must choose and order its adds: it may not send them all."""
        room = self.room
        return self.probing or (room is not None and most > room)

    def plan(self, cands: Mapping[str, Sequence[Candidate]]) -> None:
        flat = list(itertools.chain.from_iterable(cands.values()))
        self.foreseen = frozenset((c.uid, c.slot) for c in flat)
        room = self.room
        self.allotted = None if room is None else allot(flat, room, self.now)

    def reserve(self, uid: str, slot: SlotKey) -> int:
        """Say yes to one add (counted now, before it is sent: a kill never undercounts)
        or raise AddDeferred. Returns a token for `failed`."""
        chosen = (uid, slot) in self.foreseen and self.allotted is not None
        if self.closed or (chosen and (uid, slot) not in (self.allotted or ())):
            raise AddDeferred("waits for the daily creation quota")
        if not self.store.reserve(self.app, self.day, self.limit):
            self.closed = True
            raise AddDeferred("the daily creation quota is reached")
        return self._landed

    def landed(self) -> None:
        self._landed += 1
        if self._refusal is not None:
            # WeCom took an add: its day has turned (or it never was the quota)
            self.store.clear_refusal(self.app)
            self._refusal = None

    def failed(self, token: int) -> None:
        """An add reserved with `token` surely did not land."""
        self.store.release(self.app, self.day)
        self._last_failure_clean = self._landed == token

    async def refused(self, exc: BaseException) -> bool:
        """Whether `exc`, just raised by an event's push, is WeCom refusing the quota
        (the rule in the module's doc); if so the gate closes for the run."""
        if self.refused_errcode is not None:
            return could_be_the_quota(exc)
        if not (could_be_the_quota(exc) and self._last_failure_clean):
            return False
        try:
            await self.probe()
        except WesyncError:
            return False  # another call fails too: WeCom as a whole is unwell, not the quota
        assert isinstance(exc, WeComAPIError)
        self.closed = True
        self.refused_errcode = exc.errcode
        self._refusal = Refusal(day=self.day, errcode=exc.errcode, at=self.now, added=self.used)
        self.store.set_refusal(self.app, self._refusal)
        return True

    def line(self) -> str | None:
        """The run's failure line when adds wait (None: nothing waits)."""
        if not self.waiting:
            return None
        return quota_line(
            limit=self.limit,
            used=self.used,
            waiting=len(self.waiting),
            now=self.now,
            refused=self.refused_errcode,
        )

    def summary(self) -> dict[str, object]:
        """What `wesync status` shows of the run (kept in the pair's status database)."""
        return {
            "app": self.app,
            "limit": self.limit,
            "day": self.day,
            "waiting": len(self.waiting),
            "refused_errcode": self.refused_errcode,
            "resets_at": next_reset(self.now),
        }


def could_be_the_quota(exc: BaseException) -> bool:
    """Whether an add's failure may be WeCom's daily creation quota: any errcode
    (45009, -1, one wesync has never seen) but those about the request itself.
    The gate adds the rest of the rule: it persists while other calls work."""
    return (
        isinstance(exc, WeComAPIError)
        and exc.endpoint == SCHEDULE_ADD
        and not isinstance(exc, NOT_THE_QUOTA)
    )


def status_of(summary: object, store: QuotaStore | None, now: float) -> dict[str, Any] | None:
    """`wesync status`'s quota object: the app's count today and what waits."""
    if not isinstance(summary, dict) or not isinstance(summary.get("app"), str):
        return None
    app = summary["app"]
    day = wecom_day(now)
    refusal = store.refusal(app) if store is not None else None
    waiting = summary.get("waiting", 0)
    return {
        "day": day,
        "used_today": store.used(app, day) if store is not None else 0,
        "limit": summary.get("limit"),
        "waiting": waiting if isinstance(waiting, int) else 0,
        "refused_today": refusal is not None and refusal.day == day,
        "resets_at": datetime.fromtimestamp(next_reset(now), WECOM_TZ).isoformat(),
    }
