"""SIGKILL in the middle of a sync: the next run neither duplicates nor loses an event."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Env, calendar, vevent

ROOT = Path(__file__).resolve().parents[2]


def events(env: Env) -> list[str]:
    expected = []
    for n in range(8):
        day = f"202701{n + 4:02d}"
        summary = f"Event {n}"
        env.write(
            f"e{n}.ics",
            calendar(vevent(f"e{n}@example.com", summary, f"{day}T100000", f"{day}T110000")),
        )
        expected.append(summary)
    env.write(
        "series.ics",
        calendar(
            vevent(
                "series@example.com",
                "Series",
                "20270104T150000",
                "20270104T160000",
                rrule="FREQ=WEEKLY;COUNT=8",
                exdates=("20270111T150000", "20270125T150000"),
            ),
            vevent(
                "series@example.com",
                "Series (moved)",
                "20270119T170000",
                "20270119T180000",
                recurrence_id="20270118T150000",
            ),
        ),
    )
    return sorted([*expected, "Series", "Series (moved)"])


def run_and_kill(env: Env, config: Path, *, after_writes: int) -> None:
    env.server.admin("DELETE", "requests")
    for path in (
        "/cgi-bin/oa/schedule/add",
        "/cgi-bin/oa/schedule/update",
        "/cgi-bin/oa/schedule/del",
    ):
        # slow enough to be killed mid-way; few enough not to slow the runs after
        env.fault(path, kind="delay", seconds=0.15, times=after_writes + 2)
    proc = subprocess.Popen(
        [sys.executable, "-m", "wesync", "-q", "-c", str(config), "sync"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            log = env.server.admin("GET", "requests")["requests"]
            done = [r for r in log if r["path"].endswith(("/add", "/update", "/del"))]
            if len(done) >= after_writes:
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


def kill_after(config: Path, seconds: float) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wesync", "-q", "-c", str(config), "sync"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


async def test_killed_sync_converges(env: Env, tmp_path: Path) -> None:
    expected = events(env)
    config = tmp_path / "wesync.toml"
    env.write_config(config, wecom="max_concurrency = 2\n")
    seen = []
    for after in (1, 4, 7):
        run_and_kill(env, config, after_writes=after)
        seen.append(len(env.schedules()))
    # the runs were really cut short: WeCom held part of the events in between
    assert 0 < seen[0] < len(expected), seen
    report = await env.sync()
    if not report.ok:  # a kill can leave one lost answer to settle
        report = await env.sync()
    assert report.ok, (report.error, report.problems)
    assert env.summaries() == expected
    assert len(env.files()) == 9
    await env.assert_quiet()


async def test_killed_pull_converges(env: Env, tmp_path: Any) -> None:
    for n in range(6):
        env.add_schedule(
            summary=f"WeCom {n}", start_time=1799380800 + n * 86400, end_time=1799384400 + n * 86400
        )
    config = tmp_path / "wesync.toml"
    env.write_config(config, wecom="max_concurrency = 2\n")
    env.fault("/cgi-bin/oa/schedule/get", kind="delay", seconds=0.5, times=1)
    kill_after(config, 0.3)
    await env.sync_ok()
    assert len(env.files()) == 6 and len(env.schedules()) == 6
    await env.assert_quiet()
