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
import gc
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wesync.config import DEFAULT_DAILY_ADD_QUOTA, Config, Direction, PairConfig
from wesync.errors import SafetyStop, WesyncError
from wesync.storage import open_pair_storage
from wesync.sync import sequence
from wesync.sync.actions import Plan, Skip
from wesync.sync.listing import RemoteScan, scan_remote
from wesync.sync.local import LocalScan, scan_local, window_day
from wesync.sync.pairlock import pair_lock
from wesync.sync.plan import (
    PlanOptions,
    deletion_guard,
    plan,
)
from wesync.sync.prepare import (
    LateWrite,
    live_ids,
    name_new_remote,
    pair_up,
    reconcile_intents,
    remember_listing,
    snapshots,
)
from wesync.sync.problems import EVENT_KINDS, SyncKind, SyncProblem
from wesync.sync.quota_store import QUOTA_META, QuotaStore, quota_path
from wesync.sync.report import PairReport
from wesync.sync.status import StatusDB, StatusItem, status_path
from wesync.translate.options import TranslateOptions
from wesync.wecom.answers import probed, probed_sequence

if TYPE_CHECKING:
    from wesync.sync.execute import Executor
    from wesync.sync.quota import AddGate
    from wesync.wecom.client import WeComClient

log = logging.getLogger("wesync.sync")

#: does an update keep a series' exclusions ("keep" | "clear"), as a pair learned it
EXCLUSIONS_KEY = "wecom_update_exclusions"
#: how often every schedule is fetched in full, whatever the listing says
FULL_FETCH_EVERY = 86400
#: meta key: since when the status keeps every file's translation problems
FILE_PROBLEMS_KEPT = "file_problems_since"


async def run_pair(
    pair: PairConfig,
    *,
    client: WeComClient,
    state_dir: Path,
    dry_run: bool = False,
    force: bool = False,
    now: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    fetch_ids: Collection[str] = (),
    daily_add_quota: int = DEFAULT_DAILY_ADD_QUOTA,
) -> PairReport:
    """Sync one pair once. With `dry_run`, plan only: nothing is written anywhere.

    `fetch_ids`: schedules to read in full whatever the listing says (a callback
    named them).

    `progress(done, total)` is called after each write action (for a progress bar).
    `daily_add_quota`: schedules the app may create per WeCom day (0: no limit of
    wesync's own), counted in `state_dir` (see wesync.sync.quota).
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
            fetch_ids=fetch_ids,
            quota=_Quota(state_dir, daily_add_quota),
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
    fetch_ids: Collection[str],
    quota: _Quota,
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
            fetch_ids=fetch_ids,
            quota=quota,
        )
    except SafetyStop as exc:
        report.refused = True
        report.fail(str(exc))
    except WesyncError as exc:
        report.fail(str(exc))
    finally:
        gc.unfreeze()  # what _run set aside is collectable again
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
#: folder can have thousands: `sync --json` and `wesync status` have them all)
LOGGED_PROBLEMS = 20


def _log_problems(name: str, problems: list[SyncProblem]) -> None:
    for problem in problems[:LOGGED_PROBLEMS]:
        log.warning("%s: %s", name, problem)
    if len(problems) > LOGGED_PROBLEMS:
        log.warning(
            "%s: and %d more problems; `wesync status %s` lists them all",
            name,
            len(problems) - LOGGED_PROBLEMS,
            name,
        )


def _save_result(db: StatusDB, report: PairReport) -> None:
    try:
        with db.transaction():
            db.set_meta("last_sync", str(report.finished or time.time()))
            db.set_meta("last_started", str(report.started))
            db.set_meta(
                "last_result", "ok" if report.ok else ("refused" if report.refused else "failed")
            )
            db.set_meta("last_error", report.error or "")
            db.set_json("last_counts", report.to_json(problems=False))
            # the translator's problems are kept per file (StatusDB.set_file_problems),
            # as they stay true after this run; the rest are this run's
            db.set_json(
                "last_problems",
                [p.to_json() for p in report.problems if p.kind not in EVENT_KINDS],
            )
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
    fetch_ids: Collection[str],
    quota: _Quota,
) -> None:
    options = TranslateOptions.from_pair(pair)
    where = pair.where
    storage = await open_pair_storage(
        pair,
        state_dir=db.path.parent,
        create_if_missing=pair.direction is Direction.FROM_WECOM,
        readonly=dry_run,
    )
    status = db.load()
    _set_aside()

    # a status from before files' problems were kept knows none of an unchanged
    # file's: this run reads every file once to learn them
    kept = db.get_meta(FILE_PROBLEMS_KEPT) is not None
    reread = bool(status) and not kept
    local = scan_local(storage, status, options=options, now=now, where=where, reread=reread)
    _set_aside()
    report.problems.extend(local.problems)
    if not dry_run:
        with db.transaction():
            # their stored digests are today's: not translated again until tomorrow
            db.set_expand_day(local.confirmed, window_day(now))
            db.set_file_problems(local.event_problems)
            db.keep_file_problems(local.hrefs)
            if not kept:
                db.set_meta(FILE_PROBLEMS_KEPT, str(now))
    local.event_problems.clear()
    local.hrefs.clear()

    last_full = float(db.get_meta("last_full_fetch") or 0)
    full_fetch = not dry_run and now - last_full >= FULL_FETCH_EVERY and bool(status)
    # what the pair learned from its own writes, else what `wesync probe` found
    corpid = getattr(client, "corpid", None)
    verdict = db.get_meta(sequence.VERDICT_KEY) or probed_sequence(db.path.parent, corpid)
    watch = db.get_json(sequence.WATCH_KEY)
    watched = {str(k): int(v) for k, v in watch.items()} if isinstance(watch, dict) else {}
    remote = await scan_remote(
        client,
        pair.cal_id,
        status,
        now=now,
        full_fetch=full_fetch,
        verdict=verdict,
        watched=watched,
        fetch=frozenset(fetch_ids),
    )
    _set_aside()
    learned = sequence.verdict_from(watched, remote.watched_seen)
    if learned is None and verdict is None and not remote.sequences and any(remote.groups.values()):
        learned = sequence.ABSENT  # schedules it knows are listed, none with a sequence
    if learned is not None and not dry_run:
        with db.transaction():
            db.set_meta(sequence.VERDICT_KEY, learned)
            db.set_json(sequence.WATCH_KEY, {})
        if learned != verdict:
            log.info(
                "%s: WeCom's listing sequence: %s (learned from wesync's writes)",
                pair.name,
                learned,
            )
        watched = {}
    report.problems.extend(remote.problems)
    if (full_fetch or not status) and not dry_run:
        with db.transaction():
            db.set_meta("last_full_fetch", str(now))

    if not dry_run:
        pending = db.intents()
        if pending:
            # a killed run left writes to settle; they change the status
            messages, late = reconcile_intents(db, remote, now=time.time())
            report.problems.extend(messages)
            for write in late:
                await _remove_late_write(client, db, write, report)
            if any(i.op != "watch" for i in pending):
                status = db.load()
        remember_listing(db, status, remote)

    _check_emptied(pair, local, remote, status, force=force)
    pair_up(local, remote, status)
    for item in local.items.values():
        item.matches = None  # pairing was their only use
    new_uids = name_new_remote(remote)

    local_states, remote_states, status_states, held = snapshots(local, remote, status, now)
    the_plan = plan(
        local_states,
        remote_states,
        status_states,
        PlanOptions(direction=pair.direction, conflict=pair.conflict),
    )
    # the executor works from the scans: the snapshots are not held while it runs
    del local_states, remote_states, status_states
    if held:
        the_plan = Plan(
            actions=the_plan.actions + tuple(Skip(uid=u, reason=r) for u, r in sorted(held.items()))
        )
    report.plan = the_plan
    if not force:
        message = deletion_guard(
            the_plan,
            local_items=sum(1 for s in status.values() if s.href),
            remote_items=sum(1 for s in status.values() if live_ids(s, now)),
        )
        if message:
            raise SafetyStop(message, pair=pair.name)
    del new_uids

    if dry_run:
        _count_plan(report, the_plan)
        return
    app = getattr(client, "app_key", None)
    quota.remember(db, app, waiting=0)  # `wesync status` finds the app's count by it
    if not the_plan.actions:
        return  # nothing to do: the executor (and the translator it imports) stay unloaded
    from wesync.sync.execute import Executor

    gate = quota.gate(app, now=now, probe=lambda: client.calendar_get([pair.cal_id]))

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
        quota=gate,
        exclusions_kept=(
            db.get_meta(EXCLUSIONS_KEY) or probed(db.path.parent, corpid, "update_exclusions")
        )
        == "keep",
    )
    try:
        await executor.run(the_plan)
    finally:
        if gate is not None:
            quota.conclude(db, gate, report)

    if executor.exclusions_seen is not None:
        with db.transaction():
            db.set_meta(EXCLUSIONS_KEY, "keep" if executor.exclusions_seen else "clear")
    counts = Counter(sid for r in executor.pushed.values() for sid in (*r.written, *r.deleted))
    if not watched and the_plan.writes():
        counts.update(await _watch_sequence(client, db, pair.cal_id, remote, executor, now=now))
    report.written_ids = set(counts)
    report.write_counts = dict(counts)


async def _watch_sequence(
    client: WeComClient,
    db: StatusDB,
    cal_id: str,
    remote: RemoteScan,
    executor: Executor,
    *,
    now: int,
) -> set[str]:
    """Watch schedules this run changed in place, so that the next listing tells
    whether `sequence` rises on every change (wesync.sync.sequence). While nothing
    is known and this run changed nothing in place (a first sync only adds), one
    schedule it has just written (single, in the future, without attendees) is
    sent again as it is, in this run that writes anyway: wesync writes, so it can
    look. That can only err towards "frozen" (if WeCom ignores an update that
    changes nothing), the answer that costs `get`s but misses nothing. Returns the
    schedule sent again (a write of this run's, with a callback of its own)."""
    changed = executor.changed_existing
    seen = {sid: remote.sequences[sid] for sid in sorted(changed) if sid in remote.sequences}
    resent: set[str] = set()
    if not seen and not db.get_meta(sequence.VERDICT_KEY):
        added = {sid for result in executor.pushed.values() for sid in result.written}
        seen = await _resend_one(client, cal_id, added, now=now)
        resent = set(seen)
    if seen:
        with db.transaction():
            db.set_json(sequence.WATCH_KEY, dict(list(seen.items())[: sequence.WATCH_MAX]))
    return resent


async def _resend_one(
    client: WeComClient, cal_id: str, ours: set[str], *, now: int
) -> dict[str, int]:
    """Send one of the first listing page's schedules again unchanged: {id: the
    sequence listed before}, or {} when none fits (or the listing has no sequence)."""
    async for page in client.schedule_pages_raw(cal_id):
        for entry in page:
            sid, seq = entry.get("schedule_id"), entry.get("sequence")
            if (
                sid in ours
                and isinstance(seq, int)
                and entry.get("status") in (0, None)
                and not entry.get("attendees")
                and isinstance(entry.get("start_time"), int)
                and entry["start_time"] > now
                and not (entry.get("reminders") or {}).get("is_repeat")
            ):
                try:
                    (schedule,) = await client.schedule_get([sid])
                    await client.schedule_update(schedule, skip_attendees=True)
                except (WesyncError, ValueError) as exc:
                    log.info("could not look at how WeCom's sequence moves: %s", exc)
                    return {}
                return {sid: seq}
        break  # the first page is enough, and costs one call
    return {}


class _Quota:
    """The daily creation quota's effects for one run: the app's count in the
    state directory, what `wesync status` shows of it, the run's failure line."""

    def __init__(self, state_dir: Path, limit: int) -> None:
        self.state_dir = state_dir
        self.limit = limit
        self.store: QuotaStore | None = None

    def remember(self, db: StatusDB, app: str | None, *, waiting: int) -> None:
        value = {"app": app, "limit": self.limit, "waiting": waiting}
        if app is not None and db.get_json(QUOTA_META) != value:
            with db.transaction():  # not on every no-op: only when it changes
                db.set_json(QUOTA_META, value)

    def gate(
        self, app: str | None, *, now: int, probe: Callable[[], Awaitable[object]]
    ) -> AddGate | None:
        if app is None:
            return None  # a client that names no app (a test's fake) keeps no count
        from wesync.sync.quota import AddGate  # with the executor: not on a no-op run

        self.store = QuotaStore(quota_path(self.state_dir))
        return AddGate(store=self.store, app=app, limit=self.limit, now=now, probe=probe)

    def conclude(self, db: StatusDB, gate: AddGate, report: PairReport) -> None:
        try:
            line = gate.line()
            if line is not None:
                report.quota_line = line
                report.fail(line)
            with db.transaction():
                db.set_json(QUOTA_META, gate.summary())
        finally:
            if self.store is not None:
                self.store.close()
                self.store = None


def _set_aside() -> None:
    """Keep the garbage collector's full passes off what is alive now: the status
    and the scans live for the whole run and hold no cycles, yet a big calendar's
    objects made every full pass walk them again (a second of a 50,000-event
    no-op). Undone (gc.unfreeze) when the run ends."""
    gc.freeze()


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


async def _remove_late_write(
    client: WeComClient, db: StatusDB, write: LateWrite, report: PairReport
) -> None:
    """Cancel a schedule that a killed run's add created after it had been redone."""
    try:
        await client.schedule_del(write.schedule_id)
    except WesyncError as exc:
        report.problem(
            SyncKind.INTERRUPTED_WRITE,
            f"a late copy of an interrupted write, could not be removed yet: {exc}",
            uid=write.uid,
            schedule_id=write.schedule_id,
        )
        return
    with db.transaction():
        db.clear_intent(write.intent_id)
    report.problem(
        SyncKind.INTERRUPTED_WRITE,
        "removed: a late copy of a write an interrupted run had sent",
        uid=write.uid,
        schedule_id=write.schedule_id,
    )


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
            f"{pair.where} holds no events, but the last sync left {known_local} there; "
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
                    daily_add_quota=config.wecom.daily_add_quota,
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
