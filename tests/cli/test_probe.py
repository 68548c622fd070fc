"""`wesync probe` against the emulator over loopback: it finds every variant,
within its call budget, and leaves nothing behind in WeCom, whatever happens."""

from __future__ import annotations

import json
import os
import signal
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.e2e.conftest import WORST, Env
from wesync.cli import cli
from wesync.emulator.variants import CHOICES
from wesync.probe import KEYS, MAX_CALLS
from wesync.wecom.answers import ANSWERS_NAME, load_answers

PROBED = ("sequence", "listing", "update-exclusions", "get", "order")
DEFAULTS = {key: CHOICES[key][0] for key in PROBED}  # type: ignore[index]
CASES = {
    "default": {},
    "worst": {k: v for k, v in WORST.items() if k in PROBED},
    **{
        f"{key}={value}": {key: value}
        for key in PROBED
        for value in CHOICES[key] or ()
    },
}


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-q", "-c", str(config), *args])


def probe_leftovers(env: Env) -> list[str]:
    """Calendars (other than the pair's) not deleted, and live schedules in them."""
    state = env.server.emulator.state
    left = []
    for cal_id, cal in state.calendars.items():
        if cal_id == env.cal_id:
            continue
        if not cal["deleted"]:
            left.append(f"calendar {cal_id}")
        for rec in state.calendar_schedules(cal_id):
            if rec["data"]["status"] != 1:
                left.append(f"schedule {rec['data']['schedule_id']}")
    return left


def probe_calendars(env: Env) -> list[str]:
    return [c for c in env.server.emulator.state.calendars if c != env.cal_id]


@pytest.fixture
def env(emulator_server: Any, tmp_path: Path) -> Env:
    return Env(emulator_server, tmp_path)


@pytest.mark.parametrize("case", list(CASES))
def test_probe_finds_each_variant(env: Env, tmp_path: Path, case: str) -> None:
    variants = CASES[case]
    env.server.emulator.configure(variants=variants)
    config = env.write_config(tmp_path / "c.toml")
    result = run(config, "probe", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {*KEYS, "calls"}
    expected = {k.replace("-", "_"): v for k, v in {**DEFAULTS, **variants}.items()}
    assert {k: data[k] for k in KEYS} == expected
    assert 0 < data["calls"] <= MAX_CALLS
    assert len(probe_calendars(env)) == 1  # it made one, and removed it
    assert probe_leftovers(env) == []
    assert load_answers(env.state, env.server.corpid) == expected


def test_text_output_says_what_it_saw(env: Env, tmp_path: Path) -> None:
    config = env.write_config(tmp_path / "c.toml")
    result = run(config, "probe")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [*KEYS, "calls"]
    assert lines[0].startswith("sequence: per-change (") and "before an update" in lines[0]
    assert "removed the scratch calendar" in result.stderr
    assert env.server.corpsecret not in result.output


def test_answers_file_is_private_and_keyed_by_corpid(env: Env, tmp_path: Path) -> None:
    config = env.write_config(tmp_path / "c.toml")
    assert run(config, "probe").exit_code == 0
    path = env.state / ANSWERS_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert set(data) == {env.server.corpid}
    assert data[env.server.corpid]["sequence"] == "per-change"


def test_a_failing_experiment_still_cleans_up(env: Env, tmp_path: Path) -> None:
    env.fault("/cgi-bin/oa/schedule/update", "errcode", errcode=40058)
    config = env.write_config(tmp_path / "c.toml")
    result = run(config, "probe", "--json")
    assert result.exit_code == 1, result.output
    assert "40058" in result.stderr
    assert result.stdout == ""
    assert len(probe_calendars(env)) == 1
    assert probe_leftovers(env) == []
    assert not (env.state / ANSWERS_NAME).exists()


def test_a_failed_cleanup_names_what_is_left(env: Env, tmp_path: Path) -> None:
    env.fault("/cgi-bin/oa/calendar/del", "errcode", errcode=40058)
    config = env.write_config(tmp_path / "c.toml")
    result = run(config, "probe")
    assert result.exit_code == 1, result.output
    [cal_id] = probe_calendars(env)
    assert f"cal_id {cal_id}" in result.stderr
    assert f"wesync calendars delete {cal_id}" in result.stderr
    assert probe_leftovers(env) == [f"calendar {cal_id}"]  # its schedules were cancelled


def test_sigterm_stops_the_probe_and_cleans_up(env: Env, tmp_path: Path) -> None:
    # the first update is held long enough for the signal to land while it waits
    env.fault("/cgi-bin/oa/schedule/update", "delay", seconds=3)
    config = env.write_config(tmp_path / "c.toml")
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        result = run(config, "probe")
    finally:
        timer.cancel()
    assert result.exit_code == 130, result.output
    assert "interrupted" in result.stderr
    assert len(probe_calendars(env)) == 1
    assert probe_leftovers(env) == []


def test_bad_config_exits_2(env: Env, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[wecom]\n", encoding="utf-8")
    assert run(config, "probe").exit_code == 2


def test_wrong_secret_exits_1(env: Env, tmp_path: Path) -> None:
    config = env.write_config(tmp_path / "c.toml", secret="wrong")
    result = run(config, "probe")
    assert result.exit_code == 1
    assert "40001" in result.stderr
    assert probe_calendars(env) == []


def test_sync_takes_the_probes_sequence_answer(env: Env, tmp_path: Path) -> None:
    """A schedule someone made in WeCom comes into the folder; wesync itself wrote
    nothing to WeCom, so it has learned nothing about `sequence`. With the probe's
    "per-change" the next (no-op) sync trusts the listing; without it, it would
    `get` the schedule, as a sample listing cannot show every change."""
    config = env.write_config(tmp_path / "c.toml")
    assert run(config, "probe").exit_code == 0
    start = int(time.time()) // 3600 * 3600 + 2 * 86400
    env.add_schedule(summary="Planning", start_time=start, end_time=start + 3600)
    assert run(config, "sync").exit_code == 0
    assert len(env.files()) == 1
    env.server.admin("DELETE", "requests")
    assert run(config, "sync").exit_code == 0
    paths = [r["path"] for r in env.server.admin("GET", "requests")["requests"]]
    assert "/cgi-bin/oa/schedule/get" not in paths, paths
    assert paths and all(p == "/cgi-bin/oa/schedule/get_by_calendar" for p in paths)


def test_a_pairs_own_verdict_wins_over_the_probe(env: Env, tmp_path: Path) -> None:
    """The probe's answer is only a default: what the pair learned stays."""
    from tests.sync.helpers import know_sequence

    config = env.write_config(tmp_path / "c.toml")
    assert run(config, "probe").exit_code == 0
    know_sequence(env.state, "team", "frozen")
    start = int(time.time()) // 3600 * 3600 + 2 * 86400
    env.add_schedule(summary="Planning", start_time=start, end_time=start + 3600)
    assert run(config, "sync").exit_code == 0
    env.server.admin("DELETE", "requests")
    assert run(config, "sync").exit_code == 0
    paths = [r["path"] for r in env.server.admin("GET", "requests")["requests"]]
    assert "/cgi-bin/oa/schedule/get" in paths, paths
