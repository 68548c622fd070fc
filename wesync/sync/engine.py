"""One sync of one pair, start to finish; and `sync_command` for the CLI.

    status ──┐
    files ───┼─> snapshots ─> reconcile intents ─> pair up ─> plan ─> safety ─> execute
    WeCom ───┘

`run_pair` never raises for a pair's own trouble: the `PairReport` says what
happened (ok, error, counts, problems), so one failing pair does not stop
the others. It raises only for programming errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wesync.config import Config, Direction, PairConfig
from wesync.errors import SafetyStop, WesyncError
from wesync.storage import open_storage
from wesync.sync.actions import Plan, Skip
from wesync.sync.execute import Executor
from wesync.sync.listing import RemoteScan, remote_slot, scan_remote
from wesync.sync.local import LocalScan, scan_local
from wesync.sync.pairlock import pair_lock
from wesync.sync.plan import (
    ItemStatus,
    LocalState,
    PlanOptions,
    RemoteState,
    deletion_guard,
    plan,
    slots_digest,
)
from wesync.sync.report import PairReport
from wesync.sync.slots import is_retired, live, match_key
from wesync.sync.status import StatusDB, StatusItem, status_path
from wesync.translate.options import TranslateOptions

if TYPE_CHECKING:
    from wesync.wecom.client import WeComClient

log = logging.getLogger("wesync.sync")

#: how often every schedule is fetched in full, whatever the listing says
FULL_FETCH_EVERY = 86400


async def run_pair(
    pair: PairConfig,
    *,
    client: WeComClient,
    state_dir: Path,
    dry_run: bool = False,
    force: bool = False,
    now: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PairReport:
    """Sync one pair once. With `dry_run`, plan only: nothing is written anywhere.

    `progress(done, total)` is called after each write action (for a progress bar).
    """
    report = PairReport(name=pair.name, dry_run=dry_run)
    with contextlib.ExitStack() as stack:
        try:
            if not dry_run:
                stack.enter_context(pair_lock(state_dir, pair.name))
            db = StatusDB(status_path(state_dir, pair.name), readonly=dry_run)
        except (WesyncError, OSError) as exc:
            report.fail(str(exc))
            report.finished = time.time()
            return report
        await _run_locked(
            pair,
            client=client,
            db=db,
            report=report,
            dry_run=dry_run,
            force=force,
            now=now,
            progress=progress,
        )
    _log_problems(pair.name, report.problems)
    return report


async def _run_locked(
    pair: PairConfig,
    *,
    client: WeComClient,
    db: StatusDB,
    report: PairReport,
    dry_run: bool,
    force: bool,
    now: int | None,
    progress: Callable[[int, int], None] | None,
) -> None:
    calls_before = dict(getattr(getattr(client, "stats", None), "calls", {}) or {})
    try:
        await _run(
            pair,
            client=client,
            db=db,
            report=report,
            dry_run=dry_run,
            force=force,
            now=int(now if now is not None else time.time()),
            progress=progress,
        )
    except SafetyStop as exc:
        report.refused = True
        report.fail(str(exc))
    except WesyncError as exc:
        report.fail(str(exc))
    finally:
        report.finished = time.time()
        calls_after = dict(getattr(getattr(client, "stats", None), "calls", {}) or {})
        report.api_calls = {
            k: v - calls_before.get(k, 0)
            for k, v in calls_after.items()
            if v != calls_before.get(k, 0)
        }
        if not dry_run:
            _save_result(db, report)
        db.close()


#: problems logged one by one per run; the rest are counted (a first sync of a big
#: folder can have thousands, and they are all in the report)
LOGGED_PROBLEMS = 20


def _log_problems(name: str, problems: list[str]) -> None:
    for message in problems[:LOGGED_PROBLEMS]:
        log.warning("%s: %s", name, message)
    if len(problems) > LOGGED_PROBLEMS:
        log.warning("%s: and %d more problems like these", name, len(problems) - LOGGED_PROBLEMS)


def _save_result(db: StatusDB, report: PairReport) -> None:
    try:
        with db.transaction():
            db.set_meta("last_sync", str(report.finished or time.time()))
            db.set_meta("last_started", str(report.started))
            db.set_meta(
                "last_result", "ok" if report.ok else ("refused" if report.refused else "failed")
            )
            db.set_meta("last_error", report.error or "")
            db.set_json("last_counts", report.to_json())
    except WesyncError as exc:
        log.error("%s: cannot record the result: %s", report.name, exc)


async def _run(
    pair: PairConfig,
    *,
    client: WeComClient,
    db: StatusDB,
    report: PairReport,
    dry_run: bool,
    force: bool,
    now: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    options = TranslateOptions.from_pair(pair)
    where = str(pair.local)
    storage = open_storage(pair.local, create_if_missing=pair.direction is Direction.FROM_WECOM)
    status = db.load()

    local = scan_local(storage, status, options=options, now=now, where=where)
    report.problems.extend(local.problems)

    last_full = float(db.get_meta("last_full_fetch") or 0)
    full_fetch = not dry_run and now - last_full >= FULL_FETCH_EVERY and bool(status)
    remote = await scan_remote(client, pair.cal_id, status, now=now, full_fetch=full_fetch)
    if (full_fetch or not status) and not dry_run:
        with db.transaction():
            db.set_meta("last_full_fetch", str(now))

    if not dry_run:
        report.problems.extend(_reconcile_intents(db, remote))
        status = db.load()
        _remember_listing(db, status, remote)

    _check_emptied(pair, local, remote, status, force=force)
    _pair_up(local, remote, status)
    new_uids = _name_new_remote(remote)

    local_states, remote_states, status_states, held = _snapshots(local, remote, status, now)
    the_plan = plan(
        local_states,
        remote_states,
        status_states,
        PlanOptions(direction=pair.direction, conflict=pair.conflict),
    )
    if held:
        the_plan = Plan(
            actions=the_plan.actions + tuple(Skip(uid=u, reason=r) for u, r in sorted(held.items()))
        )
    report.plan = the_plan
    if not force:
        message = deletion_guard(
            the_plan,
            local_items=sum(1 for s in status.values() if s.href),
            remote_items=sum(1 for s in status.values() if _live_ids(s, now)),
        )
        if message:
            raise SafetyStop(message, pair=pair.name)
    del new_uids

    if dry_run:
        _count_plan(report, the_plan)
        return
    executor = Executor(
        cal_id=pair.cal_id,
        where=where,
        client=client,
        storage=storage,
        db=db,
        options=options,
        now=now,
        report=report,
        local=local,
        remote=remote,
        status=status,
        progress=progress,
    )
    await executor.run(the_plan)


def _live_ids(item: StatusItem, now: int) -> dict[str, str]:
    return {k: v for k, v in item.schedule_ids().items() if not is_retired(k, now)}


def _count_plan(report: PairReport, the_plan: Plan) -> None:
    from wesync.sync.actions import Create, Delete, Side, Update

    report.created_local = the_plan.count(Create, Side.LOCAL)
    report.updated_local = the_plan.count(Update, Side.LOCAL)
    report.deleted_local = the_plan.count(Delete, Side.LOCAL)
    report.created_remote = the_plan.count(Create, Side.REMOTE)
    report.updated_remote = the_plan.count(Update, Side.REMOTE)
    report.deleted_remote = the_plan.count(Delete, Side.REMOTE)
    report.conflicts = the_plan.conflicts
    report.skipped = the_plan.skipped


def _check_emptied(
    pair: PairConfig,
    local: LocalScan,
    remote: RemoteScan,
    status: Mapping[str, StatusItem],
    *,
    force: bool,
) -> None:
    """A side that suddenly lists nothing is far likelier a mistake than intent."""
    if force:
        return
    known_local = sum(1 for s in status.values() if s.href)
    if local.listed == 0 and known_local > 0:
        raise SafetyStop(
            f"{pair.local} holds no events, but the last sync left {known_local} there; "
            "if it was emptied on purpose, run again with --force (WeCom's copies are deleted)",
            pair=pair.name,
        )
    known_remote = sum(1 for s in status.values() if s.schedule_ids())
    if not remote.live_ids and known_remote > 0 and local.listed > 0:
        raise SafetyStop(
            f"WeCom calendar {pair.cal_id} lists no schedules, but the last sync left "
            f"{known_remote} events there; check the cal_id, and if the calendar was "
            "emptied on purpose, run again with --force (the local files are deleted)",
            pair=pair.name,
        )


def _reconcile_intents(db: StatusDB, remote: RemoteScan) -> list[str]:
    """Settle the writes a killed run announced but never confirmed."""
    messages: list[str] = []
    intents = db.intents()
    if not intents:
        return messages
    with db.transaction():
        for intent in intents:
            if intent.op in ("add", "split"):
                key = match_key(intent.summary, intent.start_time, intent.end_time)
                for i, (schedule, draft) in enumerate(remote.unmapped):
                    if match_key(draft.summary, draft.start_time, draft.end_time) == key:
                        assert schedule.schedule_id is not None
                        db.map_slot(intent.uid, intent.slot, schedule.schedule_id)
                        del remote.unmapped[i]
                        remote.groups.setdefault(intent.uid, {})[intent.slot] = remote_slot(
                            schedule, ldigest=None
                        )
                        messages.append(
                            f"{intent.uid}: adopted schedule {schedule.schedule_id} "
                            "created by an interrupted run"
                        )
                        break
            elif intent.op == "delete" and intent.schedule_id not in remote.live_ids:
                db.map_slot(intent.uid, intent.slot, None)
            assert intent.id is not None
            db.clear_intent(intent.id)
    return messages


def _remember_listing(db: StatusDB, status: Mapping[str, StatusItem], remote: RemoteScan) -> None:
    """Store listing digests of schedules whose stored digests a `get` just confirmed,
    so the next run needs no `get` for them."""
    confirmed: dict[str, str] = {}
    for uid, group in remote.groups.items():
        item = status.get(uid)
        if item is None:
            continue
        for key, slot in group.items():
            old = item.slots.get(key)
            if (
                old is not None
                and slot.schedule is not None
                and slot.listing_digest
                and old.schedule_id == slot.schedule_id
                and old.remote_digest == slot.digest
                and old.listing_digest != slot.listing_digest
            ):
                confirmed[slot.schedule_id] = slot.listing_digest
    if confirmed:
        with db.transaction():
            db.set_listing_digests(confirmed)


def _pair_up(local: LocalScan, remote: RemoteScan, status: Mapping[str, StatusItem]) -> None:
    """Unmapped WeCom schedules that are the same event as a new local one
    (summary, start, end) become that event's slots instead of duplicates."""
    if not remote.unmapped:
        return
    index: dict[tuple[str, int, int], list[int]] = {}
    for i, (_, draft) in enumerate(remote.unmapped):
        index.setdefault(match_key(draft.summary, draft.start_time, draft.end_time), []).append(i)
    taken: set[int] = set()
    for uid, item in local.items.items():
        if uid in status or uid in remote.groups or item.translation is None:
            continue
        slots = item.translation.slots
        primary = "" if "" in slots else None
        if primary is None:
            continue
        found: dict[str, int] = {}
        for key in ["", *sorted(k for k in slots if k)]:
            d = slots[key]
            free = [
                i
                for i in index.get(match_key(d.summary, d.start_time, d.end_time), [])
                if i not in taken
            ]
            if free:
                found[key] = free[0]
                taken.add(free[0])
            elif key == primary:
                break
        if primary not in found:
            taken.difference_update(found.values())
            continue
        group = remote.groups.setdefault(uid, {})
        for key, i in found.items():
            schedule, _ = remote.unmapped[i]
            group[key] = remote_slot(
                schedule, ldigest=remote.listing.get(schedule.schedule_id or "")
            )
    remote.unmapped = [u for i, u in enumerate(remote.unmapped) if i not in taken]


def _name_new_remote(remote: RemoteScan) -> list[str]:
    """Give each remaining unmapped schedule an event UID of its own."""
    uids: list[str] = []
    for schedule, _ in remote.unmapped:
        sid = schedule.schedule_id
        assert sid is not None
        uid = f"{sid}@wecom"
        remote.groups.setdefault(uid, {})[""] = remote_slot(
            schedule, ldigest=remote.listing.get(sid)
        )
        uids.append(uid)
    remote.unmapped = []
    return uids


def _snapshots(
    local: LocalScan, remote: RemoteScan, status: Mapping[str, StatusItem], now: int
) -> tuple[dict[str, LocalState], dict[str, RemoteState], dict[str, ItemStatus], dict[str, str]]:
    held = dict(local.held)
    local_states = {
        uid: LocalState(
            uid=uid,
            href=item.href,
            etag=item.etag,
            digest=slots_digest(item.digests),
            summary=item.summary,
            skipped=item.skipped,
            expanded=item.expanded,
        )
        for uid, item in local.items.items()
        if uid not in held
    }
    remote_states = {
        uid: RemoteState(
            uid=uid,
            digest=slots_digest({k: s.digest for k, s in group.items()}),
            content_digest=slots_digest({k: s.content_digest for k, s in group.items()}),
            summary=next((s.summary for s in group.values() if s.summary), ""),
        )
        for uid, group in remote.groups.items()
        if group and uid not in held
    }
    status_states: dict[str, ItemStatus] = {}
    for uid, item in status.items():
        if uid in held:
            continue
        if (
            item.href is None
            and not _live_ids(item, now)
            and item.pending is None
            and uid not in local_states
            and uid not in remote_states
        ):
            continue  # a tombstone holding retired occurrences only
        local_digests = {k: s.local_digest for k, s in item.slots.items() if s.local_digest}
        remote_digests = {
            k: s.remote_digest for k, s in item.slots.items() if s.schedule_id is not None
        }
        status_states[uid] = ItemStatus(
            uid=uid,
            href=item.href,
            local_etag=item.local_etag,
            local_digest=slots_digest(live(local_digests, now)),
            remote_digest=slots_digest(live(remote_digests, now)),
            pending=item.pending,
        )
    return local_states, remote_states, status_states, held


#: progress(pair name, done, total)
PairProgress = Callable[[str, int, int], None]


def sync_command(
    config: Config,
    pair_names: Sequence[str],
    *,
    dry_run: bool,
    force: bool,
    progress: PairProgress | None = None,
) -> list[PairReport]:
    """Sync the named pairs (all when none are named) with one WeCom client."""
    pairs = config.select_pairs(list(pair_names))
    return asyncio.run(_sync_all(config, pairs, dry_run=dry_run, force=force, progress=progress))


async def _sync_all(
    config: Config,
    pairs: list[PairConfig],
    *,
    dry_run: bool,
    force: bool,
    progress: PairProgress | None,
) -> list[PairReport]:
    from wesync.wecom.connect import open_client

    if not dry_run:
        seed_emulator(config, pairs)
    reports: list[PairReport] = []
    async with open_client(config) as client:
        for pair in pairs:
            reports.append(
                await run_pair(
                    pair,
                    client=client,
                    state_dir=config.state_dir,
                    dry_run=dry_run,
                    force=force,
                    progress=_bind(progress, pair.name),
                )
            )
    return reports


def _bind(progress: PairProgress | None, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def seed_emulator(config: Config, pairs: list[PairConfig]) -> None:
    """With the in-process emulator, make sure each pair's calendar exists there
    (see wesync.sync.sandbox); a no-op for a real WeCom or an emulator over HTTP."""
    from wesync.config import Backend, resolve_secret

    if config.wecom.backend is not Backend.EMULATOR:
        return
    from wesync.sync.sandbox import ensure_calendars

    ensure_calendars(
        state_path=config.wecom.emulator_state or config.state_dir / "wecom-emulator.json",
        corpid=config.wecom.corpid,
        corpsecret=resolve_secret(config.wecom).reveal(),
        calendars={p.cal_id: p.name for p in pairs},
    )
