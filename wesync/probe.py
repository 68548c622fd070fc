"""`wesync probe`: find out, with a few calls, how a tenant's WeCom answers the
questions its documentation leaves open (the emulator's variants, README
"Where WeCom's documentation is silent").

Everything happens on a scratch calendar, `wesync probe <date>`, which the
probe creates and removes again: its schedules start tomorrow or later (WeCom
refuses to move a one-off's start into the past) and have no attendees, so
nobody is notified. Cleanup runs whatever happens (an experiment that fails,
Ctrl-C, SIGTERM); what it cannot remove is listed with its ids.

The experiments, on three schedules (A: one-off; B: one-off created after A
but starting before it; S: a daily series of three with its second occurrence
excluded):

    listing 1        order (A before B: creation), listing (S's entry holds
                     is_whole_day, remind_time_diffs, exclude_time_list: full),
                     A's sequence before
    update A, S      a real change (the summary), op_mode 0
    listing 2        sequence: A's sequence moved (per-change), did not (frozen),
                     was never listed (absent)
    get [S]          update_exclusions: S still excludes its second occurrence (keep)
    get [A, unknown] get: an error (all-or-nothing) or A alone (partial)
    get [A, B]       after B is cancelled: only reported (WeCom keeps cancelled ones)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wesync.errors import WesyncError
from wesync.sync import sequence as seq
from wesync.wecom import constants as C
from wesync.wecom.client import WeComClient
from wesync.wecom.errors import InvalidParameterError, NotFoundError, WeComAPIError
from wesync.wecom.models import Calendar, Reminders, Schedule

log = logging.getLogger("wesync.probe")

HOUR = 3600
DAY = 86400
#: what the probe needs at most; the README promises this bound
MAX_CALLS = 40
KEYS = ("sequence", "listing", "update_exclusions", "get", "order")


class ProbeError(WesyncError):
    """WeCom answered something the probe cannot read as any of the known answers."""


@dataclass
class ProbeResult:
    """The answers (KEYS), what each was decided from, and the calls spent."""

    answers: dict[str, str] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)
    calls: int = 0

    def to_json(self) -> dict[str, Any]:
        return {**{k: self.answers.get(k) for k in KEYS}, "calls": self.calls}


@dataclass
class Scratch:
    """What the probe created in WeCom, so that cleanup knows what to remove."""

    summary: str
    cal_id: str | None = None
    #: the calendar add was sent but no answer came back: it may exist, id unknown
    cal_unknown: bool = False
    live: list[str] = field(default_factory=list)  #: schedules not yet cancelled
    cleaning: bool = False
    #: what cleanup could not remove, one line each, with ids
    left: list[str] = field(default_factory=list)


def scratch_summary(now: int) -> str:
    return f"wesync probe {datetime.fromtimestamp(now, UTC):%Y-%m-%d %H:%M} UTC"


def made_up_id() -> str:
    """A well-formed schedule id nobody has (WeCom's ids are 32 hex digits), so
    that an error names the id's absence, not its shape."""
    return secrets.token_hex(16)


async def run_probe(client: WeComClient, scratch: Scratch, *, now: int) -> ProbeResult:
    """Run every experiment on a scratch calendar and remove it again.

    Raises what WeCom raised (after cleanup); `scratch.left` then says what is
    left in WeCom (the caller holds `scratch`, so it can say so either way).
    Interrupted (SIGINT, SIGTERM, a cancelled task), it cleans up and raises
    asyncio.CancelledError. A second signal during cleanup is ignored, said so:
    stopping then is what would leave the calendar behind.
    """
    result = ProbeResult()
    before = client.stats.total_calls()
    task = asyncio.current_task()
    with _signals_cancel(task, scratch):
        try:
            await _experiments(client, scratch, result, now=now)
        finally:
            scratch.cleaning = True
            # cleanup must finish even if this task is being cancelled: it runs as
            # its own task, and this one waits for it through a second cancel
            cleanup = asyncio.ensure_future(_cleanup(client, scratch))
            while not cleanup.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(cleanup)
            cleanup.result()
            result.calls = client.stats.total_calls() - before
    return result


@contextlib.contextmanager
def _signals_cancel(task: asyncio.Task[Any] | None, scratch: Scratch) -> Iterator[None]:
    """SIGINT/SIGTERM cancel the experiments (so that cleanup runs) instead of
    killing the process; only possible in the main thread of a Unix process."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        if scratch.cleaning:
            log.warning("%s: removing the probe's calendar first, please wait", sig.name)
        elif task is not None:
            log.warning("%s: stopping the probe; removing what it created", sig.name)
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (ValueError, RuntimeError, NotImplementedError):
            continue  # not the main thread (tests, embedding): no handler
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _one_off(cal_id: str, summary: str, start: int) -> Schedule:
    return Schedule(
        cal_id=cal_id, summary=summary, start_time=start, end_time=start + HOUR,
        is_whole_day=0, attendees=(),
        reminders=Reminders(is_remind=0, is_repeat=0),
    )


def _series(cal_id: str, start: int) -> Schedule:
    # a reminder and an exclusion, so that a full listing has something to show
    return Schedule(
        cal_id=cal_id, summary="wesync probe: series", start_time=start,
        end_time=start + HOUR, is_whole_day=0, attendees=(),
        reminders=Reminders(
            is_remind=1, remind_time_diffs=(-900,), is_repeat=1, repeat_type=0,
            repeat_until=start + 2 * DAY, timezone=8,
        ),
    )


async def _add(client: WeComClient, scratch: Scratch, schedule: Schedule) -> str:
    sid = await client.schedule_add(schedule)
    scratch.live.append(sid)
    return sid


async def _experiments(
    client: WeComClient, scratch: Scratch, result: ProbeResult, *, now: int
) -> None:
    scratch.cal_unknown = True  # until calendar/add answers
    cal_id = await client.calendar_add(Calendar(
        summary=scratch.summary, color="#808080",
        description="Scratch calendar of `wesync probe`; it removes it itself.",
    ))
    scratch.cal_id, scratch.cal_unknown = cal_id, False
    # tomorrow or later, on the hour: every start stays in the future while it runs
    base = (now // HOUR + 25) * HOUR
    a = await _add(client, scratch, _one_off(cal_id, "wesync probe: A", base + 2 * HOUR))
    b = await _add(client, scratch, _one_off(cal_id, "wesync probe: B", base))
    series = _series(cal_id, base + DAY)
    s = await _add(client, scratch, series)
    excluded = base + 2 * DAY  # the second occurrence
    await client.schedule_del(s, op_mode=C.OP_THIS, op_start_time=excluded)

    first = await _listed(client, cal_id, (a, b, s))
    _decide_order(result, first, a, b)
    _decide_listing(result, first[s])

    await client.schedule_update(_one_off(cal_id, "wesync probe: A changed", base + 2 * HOUR)
                                 .with_changes(schedule_id=a, cal_id=None))
    await client.schedule_update(series.with_changes(
        schedule_id=s, cal_id=None, summary="wesync probe: series changed"))
    second = await _listed(client, cal_id, (a,))
    _decide_sequence(result, first[a], second[a])

    got = await client.schedule_get([s])
    if not got:
        raise ProbeError(f"schedule/get did not return the series {s}")
    reminders = got[0].reminders
    kept = reminders is not None and excluded in (reminders.exclude_time_list or ())
    result.answers["update_exclusions"] = "keep" if kept else "clear"
    result.seen["update_exclusions"] = (
        f"after an op_mode=0 update of the series, schedule/get "
        f"{'still lists' if kept else 'no longer lists'} the occurrence excluded before"
    )

    await _decide_get(client, scratch, result, a, b)


async def _listed(
    client: WeComClient, cal_id: str, wanted: tuple[str, ...]
) -> dict[str, tuple[int, Mapping[str, Any]]]:
    """{schedule_id: (position in the listing, raw entry)} for `wanted`."""
    entries = await client.schedule_list_raw(cal_id)
    found = {e["schedule_id"]: (i, e) for i, e in enumerate(entries) if e.get("schedule_id")}
    missing = [sid for sid in wanted if sid not in found]
    if missing:
        raise ProbeError(f"get_by_calendar does not list {', '.join(missing)}, just created")
    return {sid: found[sid] for sid in wanted}


def _decide_order(
    result: ProbeResult, listed: Mapping[str, tuple[int, Mapping[str, Any]]], a: str, b: str
) -> None:
    creation = listed[a][0] < listed[b][0]
    result.answers["order"] = "creation" if creation else "start-time"
    result.seen["order"] = (
        "get_by_calendar lists "
        + ("A (created first, starts later) before B" if creation
           else "B (created second, starts earlier) before A")
    )


def _decide_listing(result: ProbeResult, listed: tuple[int, Mapping[str, Any]]) -> None:
    entry = listed[1]
    reminders = entry.get("reminders")
    rem = reminders if isinstance(reminders, Mapping) else {}
    present = {
        "is_whole_day": "is_whole_day" in entry,
        "reminders.remind_time_diffs": "remind_time_diffs" in rem,
        "reminders.exclude_time_list": "exclude_time_list" in rem,
    }
    # only a listing sync may trust without a get is "full" (wesync.sync.sequence)
    full = seq.entry_is_complete(entry) and all(present.values())
    result.answers["listing"] = "full" if full else "sample"
    shown = [k for k, v in present.items() if v]
    absent = [k for k, v in present.items() if not v]
    if not absent:
        has = f"all of {', '.join(shown)}"
    elif not shown:
        has = f"none of {', '.join(absent)}"
    else:
        has = f"{', '.join(shown)} but not {', '.join(absent)}"
    result.seen["listing"] = f"a series' get_by_calendar entry has {has}"


def _decide_sequence(
    result: ProbeResult,
    before: tuple[int, Mapping[str, Any]],
    after: tuple[int, Mapping[str, Any]],
) -> None:
    old, new = before[1].get("sequence"), after[1].get("sequence")
    if old is None or new is None:
        answer = seq.ABSENT
        seen = "get_by_calendar lists no sequence"
    else:
        answer = seq.FROZEN if new == old else seq.PER_CHANGE
        seen = f"a schedule's sequence was {old} before an update that changed it, {new} after"
    result.answers["sequence"] = answer
    result.seen["sequence"] = seen


async def _decide_get(
    client: WeComClient, scratch: Scratch, result: ProbeResult, a: str, b: str
) -> None:
    unknown = made_up_id()
    try:
        got = await client.schedule_get([a, unknown])
    except (NotFoundError, InvalidParameterError) as exc:
        result.answers["get"] = "all-or-nothing"
        seen = f"schedule/get of a live id and an unknown one failed with errcode {exc.errcode}"
    else:
        if a not in {s.schedule_id for s in got}:
            raise ProbeError("schedule/get left out a live schedule asked for with an unknown one")
        result.answers["get"] = "partial"
        seen = f"schedule/get of a live id and an unknown one answered {len(got)} schedule(s)"
    # what a deleted (cancelled) schedule does: WeCom keeps it readable, status 1
    await client.schedule_del(b)
    scratch.live.remove(b)
    try:
        got = await client.schedule_get([a, b])
    except WeComAPIError as exc:
        seen += f"; with a cancelled one it failed with errcode {exc.errcode}"
    else:
        gone = next((s for s in got if s.schedule_id == b), None)
        seen += (
            "; a cancelled one is left out" if gone is None
            else f"; a cancelled one is returned with status {gone.status}"
        )
    result.seen["get"] = seen


async def _cleanup(client: WeComClient, scratch: Scratch) -> None:
    """Cancel the probe's schedules, then delete its calendar; what fails goes
    into `scratch.left` (never raises a WeCom failure: the experiments' error,
    if any, is the one to report)."""
    for sid in list(scratch.live):
        try:
            await client.schedule_del(sid)
        except WesyncError as exc:
            log.warning("cannot cancel the probe's schedule %s: %s", sid, exc)
        else:
            scratch.live.remove(sid)
    if scratch.cal_id is None:
        if scratch.cal_unknown:
            scratch.left.append(
                f"calendar {scratch.summary!r} may have been created (no answer came back); "
                "its cal_id is unknown"
            )
        return
    try:
        await client.calendar_del(scratch.cal_id)
    except WesyncError as exc:
        log.warning("cannot delete the probe's calendar %s: %s", scratch.cal_id, exc)
        scratch.left.append(f"calendar {scratch.summary!r} cal_id {scratch.cal_id}")
        scratch.left.extend(f"schedule {sid} in it" for sid in scratch.live)
    else:
        if scratch.live:
            # the calendar is gone, and with it these; said, not counted as left
            log.info("schedules %s went with the probe's calendar", ", ".join(scratch.live))
