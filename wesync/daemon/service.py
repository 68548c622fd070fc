"""`wesync daemon`: sync every pair on its interval, on local change and on WeCom callbacks.

Per pair there is at most one run at a time, whatever asks for it (the
interval, the file watcher, a callback, a retry): a trigger that arrives
while the pair runs sets an "again" flag and the pair runs once more right
after. A failing pair retries with exponential backoff (interval/8 doubling
up to the interval) without holding up the others. One WeCom client serves
all pairs.

Signals: SIGTERM/SIGINT stop scheduling, let runs in flight finish within a
deadline (then cancel them: the engine records its intent before every
remote write, so the next run reconciles), and exit 0. SIGHUP reloads the
config; an invalid one is logged and the old one kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from wesync.config import Config, PairConfig, warn_if_secret_exposed
from wesync.daemon.callback import CallbackEvent, CallbackReceiver, create_callback_app
from wesync.daemon.health import create_health_app
from wesync.daemon.httpserver import HttpServer
from wesync.daemon.metrics import Metrics
from wesync.daemon.runner import (
    EngineRunner,
    PairRunner,
    RunResult,
    api_calls_from_stats,
    errcodes_from_stats,
)
from wesync.daemon.sdnotify import Notifier
from wesync.daemon.watch import watch_pair, watch_target
from wesync.daemon.wecom_crypto import WeComCrypto
from wesync.errors import ConfigError
from wesync.logs import current_pair

if TYPE_CHECKING:
    from wesync.wecom.client import ClientStats

log = logging.getLogger("wesync.daemon")
#: how long after a run a callback naming a schedule it wrote is taken as its echo
#: (WeCom may send callbacks for the app's own API writes too: issue 11)
OWN_ECHO_SECONDS = 120.0
#: the callbacks an API write of wesync's can echo (an answer is always a person's)
ECHO_EVENTS = frozenset({"add_schedule", "modify_schedule", "delete_schedule"})

JITTER = 0.1  #: fraction of the interval added at random to each scheduled run
STOP_DEADLINE = 7.0  #: seconds runs in flight get to finish after SIGTERM (systemd allows 90)
FileSig = tuple[int, int, int]


@dataclass
class RunnerHandle:
    """What a runner factory returns: the runner, how to close it, its API counters."""

    run: PairRunner
    close: Callable[[], Awaitable[None]]
    stats: ClientStats | None = None


RunnerFactory = Callable[[Config], Awaitable[RunnerHandle]]


async def engine_runner(config: Config) -> RunnerHandle:
    """The real thing: one WeCom client for every pair, and the sync engine."""
    from wesync.config import Backend
    from wesync.wecom.connect import open_client

    if config.wecom.backend is Backend.EMULATOR:
        # the built-in emulator starts empty; `wesync sync` creates the pairs'
        # calendars in it through the engine's seeding hook, and so must we
        engine = importlib.import_module("wesync.sync.engine")
        seed = getattr(engine, "seed_emulator", None)
        if seed is not None:
            seed(config, list(config.pairs))
    client = open_client(config)
    await client.__aenter__()
    return RunnerHandle(
        run=EngineRunner(client, config.state_dir, config.wecom.daily_add_quota),
        close=client.aclose,
        stats=client.stats,
    )


@dataclass
class PairSlot:
    pair: PairConfig
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    again: bool = False
    running: bool = False
    task: asyncio.Task[None] | None = None
    failures: int = 0
    retry: asyncio.TimerHandle | None = None
    debounce: asyncio.TimerHandle | None = None
    watcher: asyncio.Task[None] | None = None
    watch_stop: asyncio.Event = field(default_factory=asyncio.Event)
    changed_during_run: set[str] = field(default_factory=set)
    snapshot: dict[str, FileSig | None] = field(default_factory=dict)
    #: schedules callbacks named since the last run started: that run fetches them
    hinted: set[str] = field(default_factory=set)
    #: the schedules callbacks named during the current run ("": a callback that
    #: cannot be the run's own echo, an answer for instance)
    hinted_during_run: set[str] = field(default_factory=set)
    #: the schedules the last run wrote, and when it ended (monotonic): their echo
    own_writes: Counter[str] = field(default_factory=Counter)
    own_writes_until: float = 0.0

    @property
    def name(self) -> str:
        return self.pair.name


def _sig(path: str) -> FileSig | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def snapshot_files(pair: PairConfig) -> dict[str, FileSig | None]:
    """(mtime_ns, size, inode) of every file the watcher reports, as they are now."""
    if pair.local is None:
        return {}  # a CalDAV collection: no files
    if pair.is_single_file:
        return {os.path.abspath(pair.local): _sig(str(pair.local))}
    out: dict[str, FileSig | None] = {}
    try:
        with os.scandir(pair.local) as entries:
            for e in entries:
                if e.name.lower().endswith(".ics") and e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    out[os.path.abspath(e.path)] = (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        pass
    return out


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        load_config: Callable[[], Config] | None = None,
        runner_factory: RunnerFactory = engine_runner,
        notifier: Notifier | None = None,
        debounce: float = 1.0,
        stop_deadline: float = STOP_DEADLINE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.load_config = load_config
        self.runner_factory = runner_factory
        self.notifier = notifier or Notifier()
        self.debounce = debounce
        self.stop_deadline = stop_deadline
        self.slots: dict[str, PairSlot] = {}
        self.metrics = Metrics(interval=config.daemon.interval, clock=clock)
        self.handle: RunnerHandle | None = None
        self._old_handles: list[RunnerHandle] = []
        self.scheduler: AsyncIOScheduler | None = None
        self.callback_server: HttpServer | None = None
        self.health_server: HttpServer | None = None
        self.stopping = False
        self._stop = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self.ready = asyncio.Event()

    # ---------------------------------------------------------------- lifecycle

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, sig)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        try:
            await self._start()
            await self._stop.wait()
        finally:
            await self._shutdown()
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
        return 0

    async def _start(self) -> None:
        self.handle = await self.runner_factory(self.config)
        self._wire_metrics()
        await self._start_servers(self.config)
        self.scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        self.scheduler.start()
        self.metrics.set_pairs(self.config.pair_names)
        for pair in self.config.pairs:
            self._add_pair(pair)
        log.info(
            "daemon started: %d pairs, every %gs",
            len(self.config.pairs),
            self.config.daemon.interval,
        )
        self.notifier.ready(self.metrics.status_line())
        self.ready.set()
        if self.notifier.watchdog_interval:
            self._spawn(self._watchdog(self.notifier.watchdog_interval), "watchdog")

    def request_stop(self, sig: int | None = None) -> None:
        if not self.stopping:
            name = signal.Signals(sig).name if sig else "request"
            log.info("stopping (%s)", name)
        self.stopping = True
        self._stop.set()

    def request_reload(self) -> None:
        if not self.stopping:
            self._spawn(self.reload(), "reload")

    async def _shutdown(self) -> None:
        self.stopping = True
        self.notifier.stopping()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.callback_server is not None:
            await self.callback_server.stop()
        for slot in self.slots.values():
            self._cancel_timers(slot)
            slot.watch_stop.set()
        running = [s.task for s in self.slots.values() if s.task is not None and not s.task.done()]
        if running:
            log.info("waiting up to %gs for %d syncs in flight", self.stop_deadline, len(running))
            _, pending = await asyncio.wait(running, timeout=self.stop_deadline)
            if pending:
                # a cancelled run is like a lost answer: the engine recorded its
                # intent before the write, and the next run reconciles it
                log.warning("cancelling %d syncs still running", len(pending))
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending, timeout=2)
        watchers = [s.watcher for s in self.slots.values() if s.watcher is not None]
        if watchers:
            _, slow = await asyncio.wait(watchers, timeout=2)
            for task in slow:
                task.cancel()
        for task in list(self._background):
            task.cancel()
        if self.health_server is not None:
            await self.health_server.stop()
        for handle in [*self._old_handles, *([self.handle] if self.handle else [])]:
            try:
                await handle.close()
            except Exception as exc:
                log.warning("closing the WeCom client failed: %s", exc)
        log.info("daemon stopped")

    async def _watchdog(self, every: float) -> None:
        while not self.stopping:
            self.notifier.watchdog()
            await asyncio.sleep(every)

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        task.set_name(name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def _wire_metrics(self) -> None:
        def calls() -> dict[tuple[str, str], int]:
            out: dict[tuple[str, str], int] = {}
            for h in [*self._old_handles, *([self.handle] if self.handle else [])]:
                for key, n in api_calls_from_stats(h.stats).items():
                    out[key] = out.get(key, 0) + n
            return out

        def codes() -> dict[str, int]:
            out: dict[str, int] = {}
            for h in [*self._old_handles, *([self.handle] if self.handle else [])]:
                for key, n in errcodes_from_stats(h.stats).items():
                    out[key] = out.get(key, 0) + n
            return out

        self.metrics.api_calls = calls
        self.metrics.api_errcodes = codes

    # ------------------------------------------------------------------ servers

    async def _start_servers(self, config: Config) -> None:
        cb = config.daemon.callback
        if cb is not None:
            crypto = WeComCrypto.from_settings(
                token=cb.token.reveal(),
                encoding_aes_key=cb.encoding_aes_key.reveal(),
                receive_id=config.wecom.corpid,
            )
            receiver = CallbackReceiver(crypto, self.on_callback)
            self.callback_server = HttpServer(
                create_callback_app(receiver), cb.listen, name="callback receiver"
            )
            await self.callback_server.start()
        if config.daemon.health_listen:
            self.health_server = HttpServer(
                create_health_app(self.metrics), config.daemon.health_listen, name="health"
            )
            await self.health_server.start()

    def on_callback(self, event: CallbackEvent) -> None:
        names = [s.name for s in self.slots.values() if s.pair.cal_id == event.cal_id]
        if not names:
            log.info(
                "callback %s for calendar %s: no pair syncs it, ignored", event.event, event.cal_id
            )
            return
        for name in names:
            slot = self.slots[name]
            sid = event.schedule_id
            if (
                sid
                and slot.own_writes[sid] > 0
                and event.event in ECHO_EVENTS
                and time.monotonic() < slot.own_writes_until
            ):
                # WeCom telling us about our own write (if it calls back for API writes
                # too): taken once per write, so a person's edit after it still counts
                slot.own_writes[sid] -= 1
                log.debug("callback %s for %s: wesync's own write", event.event, sid)
                continue
            if sid:
                slot.hinted.add(sid)
            if slot.running:
                # an echo of a write of the running sync, or somebody's change
                echo = sid is not None and event.event in ECHO_EVENTS
                slot.hinted_during_run.add(sid if echo and sid else "")
            self.trigger(name, f"callback {event.event}")

    # -------------------------------------------------------------------- pairs

    def _add_pair(self, pair: PairConfig) -> None:
        slot = PairSlot(pair)
        self.slots[pair.name] = slot
        self._schedule(slot)
        self._start_watcher(slot)
        self.trigger(pair.name, "start")

    def _schedule(self, slot: PairSlot) -> None:
        assert self.scheduler is not None
        interval = self.config.daemon.interval
        self.scheduler.add_job(
            self._interval_job,
            "interval",
            args=[slot.name],
            id=slot.name,
            seconds=interval,
            jitter=interval * JITTER,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(interval)),
            replace_existing=True,
        )

    async def _interval_job(self, name: str) -> None:
        self.trigger(name, "interval")

    def _start_watcher(self, slot: PairSlot) -> None:
        slot.watch_stop = asyncio.Event()
        slot.snapshot = snapshot_files(slot.pair)
        slot.watcher = asyncio.create_task(
            watch_pair(slot.pair, lambda paths: self._on_files(slot, paths), slot.watch_stop),
            name=f"watch-{slot.name}",
        )

    def _stop_watcher(self, slot: PairSlot) -> None:
        slot.watch_stop.set()

    def _on_files(self, slot: PairSlot, paths: set[str]) -> None:
        if self.stopping or self.slots.get(slot.name) is not slot:
            return
        if slot.running:
            slot.changed_during_run |= paths
            return
        # notifications of files that look exactly as they did when our last run
        # ended are late echoes of our own writes
        changed = {p for p in paths if _sig(p) != slot.snapshot.get(os.path.abspath(p))}
        if not changed:
            log.debug("ignoring echoes of our own writes", extra={"pair": slot.name})
            return
        log.debug("local change: %s", ", ".join(sorted(changed)), extra={"pair": slot.name})
        if slot.debounce is not None:
            slot.debounce.cancel()
        slot.debounce = asyncio.get_running_loop().call_later(
            self.debounce, self.trigger, slot.name, "local change"
        )

    def trigger(self, name: str, reason: str) -> None:
        """Sync a pair soon; if it is running, once more right after."""
        slot = self.slots.get(name)
        if slot is None or self.stopping:
            return
        if slot.task is not None and not slot.task.done():
            slot.again = True
            log.debug("%s: will run again after the current sync", reason, extra={"pair": name})
            return
        slot.task = asyncio.create_task(self._run_slot(slot, reason), name=f"sync-{name}")

    async def _run_slot(self, slot: PairSlot, reason: str) -> None:
        async with slot.lock:
            current_pair.set(slot.name)
            while True:
                slot.again = False
                await self._run_once(slot, reason)
                if not slot.again or self.stopping or self.slots.get(slot.name) is not slot:
                    break
                reason = "change during the last sync"

    async def _run_once(self, slot: PairSlot, reason: str) -> None:
        assert self.handle is not None
        pair = slot.pair
        if slot.debounce is not None:
            slot.debounce.cancel()
            slot.debounce = None
        log.info("sync started (%s)", reason)
        slot.running = True
        slot.changed_during_run = set()
        slot.hinted_during_run = set()
        hinted, slot.hinted = slot.hinted, set()
        started = time.monotonic()
        try:
            result = await self.handle.run(pair, schedule_ids=sorted(hinted))
        except asyncio.CancelledError:
            self.metrics.record(
                slot.name, ok=False, duration=time.monotonic() - started, error="cancelled"
            )
            raise
        except Exception as exc:
            log.exception("sync crashed")
            result = RunResult(ok=False, error=f"{type(exc).__name__}: {exc}")
        finally:
            slot.running = False
        duration = time.monotonic() - started
        self.metrics.record(slot.name, ok=result.ok, duration=duration, error=result.error)
        slot.snapshot = snapshot_files(pair)
        slot.own_writes = Counter(
            {sid: max(1, result.write_counts.get(sid, 1)) for sid in result.written_ids}
        )
        slot.own_writes_until = time.monotonic() + OWN_ECHO_SECONDS
        echo = slot.hinted_during_run
        if echo and echo <= result.written_ids and not slot.changed_during_run:
            # every callback during the run was about a schedule the run wrote itself
            slot.again = False
            slot.hinted -= echo
        during = slot.changed_during_run
        if during and len(during) > result.local_writes:
            # more files changed than we wrote: someone else edited during the run
            slot.again = True
        if result.ok:
            log.info("sync done in %.1fs: %s", duration, result.summary or "ok")
            slot.failures = 0
            if slot.retry is not None:
                slot.retry.cancel()
                slot.retry = None
        else:
            slot.failures += 1
            delay = self.backoff(slot.failures)
            log.error("sync failed: %s; retrying in %.1fs", result.error, delay)
            if slot.retry is not None:
                slot.retry.cancel()
            if not self.stopping:
                slot.retry = asyncio.get_running_loop().call_later(
                    delay, self.trigger, slot.name, "retry after failure"
                )
        self.notifier.status(self.metrics.status_line())

    def backoff(self, failures: int) -> float:
        interval = self.config.daemon.interval
        return float(min(interval, interval / 8 * 2 ** (failures - 1)))

    def _cancel_timers(self, slot: PairSlot) -> None:
        for handle in (slot.retry, slot.debounce):
            if handle is not None:
                handle.cancel()
        slot.retry = slot.debounce = None

    def _remove_pair(self, slot: PairSlot) -> None:
        assert self.scheduler is not None
        with contextlib.suppress(Exception):
            self.scheduler.remove_job(slot.name)
        self._cancel_timers(slot)
        self._stop_watcher(slot)
        del self.slots[slot.name]

    # ------------------------------------------------------------------- reload

    async def reload(self) -> None:
        async with self._reload_lock:
            if self.load_config is None:
                log.warning("reload requested but the config has no file to reload from")
                return
            self.notifier.reloading()
            try:
                new = self.load_config()
            except ConfigError as exc:
                log.error("reload failed, keeping the running config: %s", exc)
                self.notifier.ready(self.metrics.status_line())
                return
            warning = warn_if_secret_exposed(new)
            if warning:
                log.warning("%s", warning)
            await self._apply(new)
            self.notifier.ready(self.metrics.status_line())

    async def _apply(self, new: Config) -> None:
        old = self.config
        if new.state_dir != old.state_dir:
            log.warning("state.dir changed to %s; restart the daemon to use it", new.state_dir)
            new = replace(new, state_dir=old.state_dir)
        if new.wecom != old.wecom:
            try:
                handle = await self.runner_factory(new)
            except Exception as exc:
                log.error("reload failed, keeping the running config: [wecom]: %s", exc)
                return
            if self.handle is not None:
                # runs in flight keep the old client; it is closed at shutdown
                self._old_handles.append(self.handle)
            self.handle = handle
            log.info("reconnected to WeCom with the new [wecom] settings")
        if (new.daemon.callback, new.daemon.health_listen) != (
            old.daemon.callback,
            old.daemon.health_listen,
        ):
            for server in (self.callback_server, self.health_server):
                if server is not None:
                    await server.stop()
            self.callback_server = self.health_server = None
            try:
                await self._start_servers(new)
            except Exception as exc:
                log.error("could not start the new listeners: %s", exc)
        self.config = new
        self.metrics.interval = new.daemon.interval
        old_pairs = {p.name: p for p in old.pairs}
        new_pairs = {p.name: p for p in new.pairs}
        removed = [n for n in old_pairs if n not in new_pairs]
        added = [n for n in new_pairs if n not in old_pairs]
        changed = [n for n in new_pairs if n in old_pairs and new_pairs[n] != old_pairs[n]]
        for name in removed:
            self._remove_pair(self.slots[name])
        self.metrics.set_pairs(new.pair_names)
        if new.daemon.interval != old.daemon.interval:
            for slot in self.slots.values():
                self._schedule(slot)
        for name in changed:
            slot = self.slots[name]
            moved = watch_target(slot.pair) != watch_target(new_pairs[name])
            slot.pair = new_pairs[name]
            slot.failures = 0
            if moved:
                self._stop_watcher(slot)
                self._start_watcher(slot)
            self.trigger(name, "config changed")
        for name in added:
            self._add_pair(new_pairs[name])
        log.info(
            "config reloaded: %d pairs (added: %s; removed: %s; changed: %s)",
            len(new.pairs),
            ", ".join(added) or "none",
            ", ".join(removed) or "none",
            ", ".join(changed) or "none",
        )
