"""The daemon's scheduling machinery with an injected runner (no engine, no WeCom)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from wesync.config import Config, PairConfig, Secret, parse_config
from wesync.daemon.callback import CallbackEvent
from wesync.daemon.metrics import Metrics
from wesync.daemon.runner import RunResult, api_calls_from_stats
from wesync.daemon.service import Daemon, RunnerHandle
from wesync.emulator import make_transport
from wesync.errors import ConfigError
from wesync.wecom import constants as C
from wesync.wecom.client import ClientStats, WeComClient
from wesync.wecom.errors import NotFoundError

from .test_callback import free_port


def make_config(tmp_path: Path, pairs: list[str], *, interval: float = 60, **daemon: Any) -> Config:
    for name in pairs:
        (tmp_path / name).mkdir(exist_ok=True)
    return parse_config(
        {
            "wecom": {"backend": "emulator"},
            "state": {"dir": str(tmp_path / "state")},
            "daemon": {"interval": interval, **daemon},
            "pairs": [{"name": n, "local": n, "cal_id": f"cal-{n}"} for n in pairs],
        },
        path=tmp_path / "config.toml",
    )


@dataclass
class FakeRunner:
    """Records runs; each run waits on `gate` when set, and may fail or write files."""

    calls: list[str] = field(default_factory=list)
    active: int = 0
    max_active: dict[str, int] = field(default_factory=dict)
    running: dict[str, int] = field(default_factory=dict)
    gate: asyncio.Event | None = None
    fail: set[str] = field(default_factory=set)
    #: schedule_ids each run was asked to fetch, and the ids each run "wrote"
    hints: list[list[str]] = field(default_factory=list)
    wrote: frozenset[str] = frozenset()
    write_counts: dict[str, int] = field(default_factory=dict)
    write: Callable[[PairConfig], int] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, pair: PairConfig, *, schedule_ids: Collection[str] = ()) -> RunResult:
        self.calls.append(pair.name)
        self.hints.append(sorted(schedule_ids))
        self.running[pair.name] = self.running.get(pair.name, 0) + 1
        self.max_active[pair.name] = max(self.max_active.get(pair.name, 0), self.running[pair.name])
        try:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(0.01)
            writes = self.write(pair) if self.write else 0
        finally:
            self.running[pair.name] -= 1
            self.changed.set()
        if pair.name in self.fail:
            return RunResult(ok=False, error="boom")
        return RunResult(
            ok=True, local_writes=writes, written_ids=self.wrote, write_counts=self.write_counts
        )

    def count(self, name: str) -> int:
        return self.calls.count(name)


async def until(cond: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


@dataclass
class Running:
    daemon: Daemon
    runner: FakeRunner
    task: asyncio.Task[int]


@pytest.fixture
def start(tmp_path: Path) -> Callable[..., Awaitable[Running]]:
    started: list[Running] = []

    async def go(
        config: Config,
        runner: FakeRunner | None = None,
        load: Callable[[], Config] | None = None,
        **kw: Any,
    ) -> Running:
        runner = runner or FakeRunner()
        closed: list[bool] = []

        async def factory(cfg: Config) -> RunnerHandle:
            async def close() -> None:
                closed.append(True)

            return RunnerHandle(run=runner, close=close)

        daemon = Daemon(config, load_config=load, runner_factory=factory, debounce=0.2, **kw)
        task = asyncio.create_task(daemon.run())
        await asyncio.wait_for(daemon.ready.wait(), 5)
        r = Running(daemon, runner, task)
        started.append(r)
        return r

    return go


@pytest.fixture(autouse=True)
async def _stop_all(start: Any) -> AsyncIterator[None]:
    yield


async def stop(r: Running) -> int:
    r.daemon.request_stop()
    return await asyncio.wait_for(r.task, 10)


async def test_first_sync_of_every_pair_at_start(tmp_path: Path, start: Any) -> None:
    r = await start(make_config(tmp_path, ["a", "b"]))
    await until(lambda: r.runner.count("a") == 1 and r.runner.count("b") == 1)
    assert await stop(r) == 0


async def test_triggers_during_a_run_coalesce_into_one_more_run(tmp_path: Path, start: Any) -> None:
    runner = FakeRunner(gate=asyncio.Event())
    r = await start(make_config(tmp_path, ["a"]), runner)
    await until(lambda: runner.running.get("a") == 1)
    for reason in ("interval", "callback", "local change"):
        r.daemon.trigger("a", reason)
    runner.gate.set()  # type: ignore[union-attr]
    await until(lambda: runner.count("a") == 2)
    await asyncio.sleep(0.2)
    assert runner.count("a") == 2
    assert runner.max_active["a"] == 1
    await stop(r)


async def test_interval_job_runs_the_pair(tmp_path: Path, start: Any) -> None:
    r = await start(make_config(tmp_path, ["a"], interval=0.3))
    await until(lambda: r.runner.count("a") >= 3, within=5)
    assert r.runner.max_active["a"] == 1
    job = r.daemon.scheduler.get_job("a")  # type: ignore[union-attr]
    assert job.max_instances == 1 and job.coalesce
    await stop(r)


async def test_failing_pair_backs_off_without_holding_up_others(tmp_path: Path, start: Any) -> None:
    runner = FakeRunner(fail={"bad"})
    r = await start(make_config(tmp_path, ["bad", "good"], interval=1.6), runner)
    d = r.daemon
    assert [d.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.2, 0.4, 0.8, 1.6, 1.6]
    # retries at +0.2, +0.6, +1.4 s: three more runs well before the interval
    stats = d.metrics.pairs["bad"]
    await until(lambda: stats.runs_failed >= 4, within=3)
    assert runner.count("good") >= 1
    assert stats.last_error == "boom"
    assert d.slots["bad"].failures >= 4 and d.slots["good"].failures == 0
    runner.fail.clear()
    await until(lambda: d.slots["bad"].failures == 0, within=4)
    await stop(r)


async def test_local_change_triggers_and_own_writes_do_not(tmp_path: Path, start: Any) -> None:
    def write(pair: PairConfig) -> int:
        (pair.local / "from-wecom.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
        return 1

    runner = FakeRunner(write=write)
    r = await start(make_config(tmp_path, ["a"]), runner)
    await until(lambda: runner.count("a") == 1)
    # the run's own write must not cause another run
    await asyncio.sleep(1.0)
    assert runner.count("a") == 1
    runner.write = None
    (tmp_path / "a" / "mine.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    (tmp_path / "a" / "ignored.ics.tmp").write_text("x")
    await until(lambda: runner.count("a") == 2, within=4)
    # temp files and other extensions do not trigger
    (tmp_path / "a" / "other.ics.tmp").write_text("x")
    (tmp_path / "a" / ".hidden.ics").write_text("x")
    (tmp_path / "a" / "notes.txt").write_text("x")
    await asyncio.sleep(1.0)
    assert runner.count("a") == 2
    await stop(r)


async def test_callback_triggers_the_owning_pair_only(
    tmp_path: Path, start: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wesync")
    r = await start(make_config(tmp_path, ["a", "b"]))
    await until(lambda: len(r.runner.calls) == 2)
    r.daemon.on_callback(CallbackEvent("respond_schedule", "cal-b", "s1", "u", 1))
    await until(lambda: r.runner.count("b") == 2)
    r.daemon.on_callback(CallbackEvent("modify_calendar", "cal-unknown", None, "u", 1))
    await asyncio.sleep(0.2)
    assert r.runner.count("a") == 1 and r.runner.count("b") == 2
    assert "cal-unknown" in caplog.text
    await stop(r)


async def test_reload_adds_and_removes_pairs_and_keeps_old_on_error(
    tmp_path: Path, start: Any
) -> None:
    configs: list[Config | Exception] = []

    def load() -> Config:
        item = configs.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    r = await start(make_config(tmp_path, ["a"]), load=load)
    await until(lambda: r.runner.count("a") == 1)
    configs.append(make_config(tmp_path, ["b"]))
    r.daemon.request_reload()
    await until(lambda: r.runner.count("b") == 1)
    assert set(r.daemon.slots) == {"b"}
    assert r.daemon.scheduler.get_job("a") is None  # type: ignore[union-attr]
    configs.append(ConfigError("unknown key 'oops'", where="config.toml"))
    r.daemon.request_reload()
    await asyncio.sleep(0.2)
    assert set(r.daemon.slots) == {"b"}
    assert r.daemon.config.pair_names == ["b"]
    await stop(r)


async def test_stop_waits_for_the_run_in_flight(tmp_path: Path, start: Any) -> None:
    runner = FakeRunner(gate=asyncio.Event())
    r = await start(make_config(tmp_path, ["a"]), runner)
    await until(lambda: runner.running.get("a") == 1)
    r.daemon.request_stop()
    await asyncio.sleep(0.3)
    assert not r.task.done()  # still waiting for the run
    runner.gate.set()  # type: ignore[union-attr]
    assert await asyncio.wait_for(r.task, 5) == 0
    assert r.daemon.metrics.pairs["a"].runs_ok == 1


async def test_stop_cancels_a_run_that_overstays(tmp_path: Path, start: Any) -> None:
    runner = FakeRunner(gate=asyncio.Event())
    r = await start(make_config(tmp_path, ["a"]), runner, stop_deadline=0.3)
    await until(lambda: runner.running.get("a") == 1)
    t0 = time.monotonic()
    assert await stop(r) == 0
    assert time.monotonic() - t0 < 3
    assert runner.running["a"] == 0
    assert r.daemon.metrics.pairs["a"].last_error == "cancelled"


async def test_health_and_metrics_over_http(tmp_path: Path, start: Any) -> None:
    port = free_port()
    runner = FakeRunner(fail={"b"})
    r = await start(
        make_config(tmp_path, ["a", "b"], interval=60, health_listen=f"127.0.0.1:{port}"), runner
    )
    await until(lambda: r.daemon.metrics.pairs["b"].runs_failed >= 1)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        health = await http.get("/healthz")
        # b has never succeeded, but the daemon is younger than two intervals
        assert health.status_code == 200
        body = health.json()
        assert body["pairs"]["b"]["error"] == "boom"
        r.daemon.metrics.started -= 1000
        assert (await http.get("/healthz")).status_code == 503
        metrics = await http.get("/metrics")
        assert metrics.status_code == 200
        assert 'wesync_syncs_total{pair="a",result="ok"} 1' in metrics.text
        assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    await stop(r)


def test_api_calls_from_the_client_counters() -> None:
    stats = ClientStats()
    stats.by_endpoint_errcode.update(
        {
            ("/cgi-bin/gettoken", 0): 1,
            ("/cgi-bin/oa/schedule/add", 0): 3,
            ("/cgi-bin/oa/schedule/add", 45009): 2,
        }
    )
    stats.transport_errors["/cgi-bin/oa/schedule/add"] = 1
    assert api_calls_from_stats(stats) == {
        ("/cgi-bin/gettoken", "0"): 1,
        ("/cgi-bin/oa/schedule/add", "0"): 3,
        ("/cgi-bin/oa/schedule/add", "45009"): 2,
        ("/cgi-bin/oa/schedule/add", "none"): 1,
    }
    assert api_calls_from_stats(None) == {}


async def test_metrics_label_api_calls_with_their_errcode() -> None:
    # a real client against the emulator: the errcode label is the answer's, per endpoint
    async with WeComClient(
        corpid="wwemulator",
        corpsecret=Secret("emulator-secret"),
        transport=make_transport(state_path=None),
    ) as client:
        with pytest.raises(NotFoundError):
            await client.schedule_del("no-such-schedule", op_mode=C.OP_THIS)
        metrics = Metrics(interval=60, api_calls=lambda: api_calls_from_stats(client.stats))
        text = metrics.prometheus()
    assert 'wesync_api_calls_total{endpoint="/cgi-bin/gettoken",errcode="0"} 1' in text
    assert (
        f'wesync_api_calls_total{{endpoint="{C.SCHEDULE_DEL}",errcode="{C.ERR_BAD_SCHEDULE_ID}"}} 1'
    ) in text


async def test_single_file_pair_watches_only_its_file(tmp_path: Path, start: Any) -> None:
    (tmp_path / "cals").mkdir()
    cfg = parse_config(
        {
            "wecom": {"backend": "emulator"},
            "state": {"dir": str(tmp_path / "state")},
            "pairs": [{"name": "one", "local": "cals/all.ics", "cal_id": "c"}],
        },
        path=tmp_path / "config.toml",
    )
    (tmp_path / "cals" / "all.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    r = await start(cfg)
    await until(lambda: r.runner.count("one") == 1)
    (tmp_path / "cals" / "other.ics").write_text("x")
    await asyncio.sleep(0.8)
    assert r.runner.count("one") == 1
    (tmp_path / "cals" / "all.ics").write_text("BEGIN:VCALENDAR\nX-A:1\nEND:VCALENDAR\n")
    await until(lambda: r.runner.count("one") == 2, within=4)
    await stop(r)


async def test_reload_reconnects_on_new_wecom_settings_and_reschedules_intervals(
    tmp_path: Path,
) -> None:
    runner = FakeRunner()
    opened: list[Config] = []
    closed: list[Config] = []

    async def factory(cfg: Config) -> RunnerHandle:
        opened.append(cfg)

        async def close() -> None:
            closed.append(cfg)

        return RunnerHandle(run=runner, close=close)

    first = make_config(tmp_path, ["a"], interval=60)
    second = parse_config(
        {
            "wecom": {"backend": "emulator", "rate_limit": 100},
            "state": {"dir": str(tmp_path / "state")},
            "daemon": {"interval": 120},
            "pairs": [{"name": "a", "local": "a", "cal_id": "cal-a"}],
        },
        path=tmp_path / "config.toml",
    )
    daemon = Daemon(first, load_config=lambda: second, runner_factory=factory, debounce=0.2)
    task = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.ready.wait(), 5)
    await until(lambda: runner.count("a") == 1)
    await daemon.reload()
    assert [c.wecom.rate_limit for c in opened] == [6000, 100]
    job = daemon.scheduler.get_job("a")  # type: ignore[union-attr]
    assert job.trigger.interval.total_seconds() == 120
    assert daemon.metrics.interval == 120
    assert runner.count("a") == 1  # the pair itself did not change
    daemon.request_stop()
    assert await asyncio.wait_for(task, 10) == 0
    assert sorted(c.wecom.rate_limit for c in closed) == [100, 6000]


async def test_a_callback_names_the_schedule_the_next_run_fetches(
    tmp_path: Path, start: Any
) -> None:
    r = await start(make_config(tmp_path, ["a"]))
    await until(lambda: r.runner.count("a") == 1)
    r.daemon.on_callback(CallbackEvent("modify_schedule", "cal-a", "s9", "u", 1))
    await until(lambda: r.runner.count("a") == 2)
    assert r.runner.hints == [[], ["s9"]]
    await stop(r)


async def test_the_echo_of_our_own_write_sets_off_no_run(tmp_path: Path, start: Any) -> None:
    runner = FakeRunner(wrote=frozenset({"mine"}))
    r = await start(make_config(tmp_path, ["a"]), runner)
    slot = r.daemon.slots["a"]
    await until(lambda: runner.count("a") == 1 and slot.task is not None and slot.task.done())
    # WeCom calls back for the app's own write (callbacks = all): taken as its echo
    r.daemon.on_callback(CallbackEvent("modify_schedule", "cal-a", "mine", "", 1))
    await asyncio.sleep(0.3)
    assert runner.count("a") == 1
    # a second change of it, and an answer to it, are somebody's
    r.daemon.on_callback(CallbackEvent("modify_schedule", "cal-a", "mine", "u", 2))
    await until(lambda: runner.count("a") == 2 and slot.task is not None and slot.task.done())
    r.daemon.on_callback(CallbackEvent("respond_schedule", "cal-a", "mine", "u", 3))
    await until(lambda: runner.count("a") == 3)
    await stop(r)


async def test_each_write_of_a_schedule_has_its_own_echo(tmp_path: Path, start: Any) -> None:
    # a first sync adds "mine" and sends it again to watch its sequence: two echoes
    runner = FakeRunner(wrote=frozenset({"mine"}), write_counts={"mine": 2})
    r = await start(make_config(tmp_path, ["a"]), runner)
    slot = r.daemon.slots["a"]
    await until(lambda: runner.count("a") == 1 and slot.task is not None and slot.task.done())
    r.daemon.on_callback(CallbackEvent("add_schedule", "cal-a", "mine", "", 1))
    r.daemon.on_callback(CallbackEvent("modify_schedule", "cal-a", "mine", "", 2))
    await asyncio.sleep(0.3)
    assert runner.count("a") == 1
    # a third callback is more than the run wrote: somebody's edit
    r.daemon.on_callback(CallbackEvent("modify_schedule", "cal-a", "mine", "u", 3))
    await until(lambda: runner.count("a") == 2)
    await stop(r)


async def test_echoes_during_a_run_need_no_run_after_it(tmp_path: Path, start: Any) -> None:
    runner = FakeRunner(gate=asyncio.Event(), wrote=frozenset({"mine"}))
    r = await start(make_config(tmp_path, ["a"]), runner)
    await until(lambda: runner.running.get("a") == 1)
    r.daemon.on_callback(CallbackEvent("add_schedule", "cal-a", "mine", "", 1))
    assert runner.gate is not None
    runner.gate.set()
    await until(lambda: runner.running.get("a") == 0)
    await asyncio.sleep(0.3)
    assert runner.count("a") == 1
    # an answer during a run is somebody's: one more run
    runner.gate.clear()
    r.daemon.trigger("a", "test")
    await until(lambda: runner.running.get("a") == 1)
    r.daemon.on_callback(CallbackEvent("respond_schedule", "cal-a", "mine", "u", 2))
    runner.gate.set()
    await until(lambda: runner.count("a") == 3)
    await stop(r)
