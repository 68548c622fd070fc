"""`wesync sync / status / check` through the command line (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.e2e.conftest import Env, calendar, vevent
from wesync.cli import cli


def run(config: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["-q", "-c", str(config), *args])


def lunch(env: Env) -> None:
    env.write(
        "lunch.ics",
        calendar(vevent("lunch@example.com", "Lunch", "20270105T120000", "20270105T130000")),
    )


def test_sync_json_and_exit_codes(env: Env, tmp_path: Path) -> None:
    config = env.write_config(tmp_path / "c.toml")
    lunch(env)
    result = run(config, "sync", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {
        "pairs": [
            {
                "name": "team",
                "ok": True,
                "error": None,
                "created_local": 0,
                "updated_local": 0,
                "deleted_local": 0,
                "created_remote": 1,
                "updated_remote": 0,
                "deleted_remote": 0,
                "conflicts": 0,
                "skipped": 0,
                "problems": [],
            }
        ]
    }
    assert run(config, "sync", "nosuchpair").exit_code == 2
    (env.local / "lunch.ics").unlink()
    refused = run(config, "sync", "--json")
    assert refused.exit_code == 1
    assert "--force" in json.loads(refused.stdout)["pairs"][0]["error"]
    assert run(config, "sync", "--force").exit_code == 0


def test_dry_run_prints_the_plan(env: Env, tmp_path: Path) -> None:
    config = env.write_config(tmp_path / "c.toml")
    lunch(env)
    result = run(config, "sync", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "lunch@example.com" in result.stdout and "create" in result.stdout
    assert env.schedules() == []


def test_status(env: Env, tmp_path: Path) -> None:
    config = env.write_config(tmp_path / "c.toml")
    before = json.loads(run(config, "status", "--json").stdout)
    assert before["pairs"][0]["last_sync"] is None
    lunch(env)
    assert run(config, "sync").exit_code == 0
    after = json.loads(run(config, "status", "--json").stdout)["pairs"][0]
    assert after["result"] == "ok" and after["events"] == 1 and after["schedules"] == 1
    table = run(config, "status")
    assert table.exit_code == 0 and "team" in table.stdout


def test_check(env: Env, tmp_path: Path) -> None:
    good = run(env.write_config(tmp_path / "good.toml"), "check")
    assert good.exit_code == 0, good.output
    assert "FAIL" not in good.stdout
    bad = run(env.write_config(tmp_path / "bad.toml", secret="wrong"), "check")
    assert bad.exit_code == 1 and "FAIL" in bad.stdout
    assert "wrong" not in bad.output


def test_example_config_runs_a_real_sync_twice(tmp_path: Path) -> None:
    import shutil

    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "config.example.toml", tmp_path / "config.example.toml")
    shutil.copytree(root / "examples" / "calendar", tmp_path / "examples" / "calendar")
    config = tmp_path / "config.example.toml"
    first = run(config, "sync", "--json")
    assert first.exit_code == 0, first.output
    counts = json.loads(first.stdout)["pairs"][0]
    assert counts["created_remote"] == 12 and counts["ok"]
    files = tmp_path / "examples" / "calendar"
    before = {p.name: p.stat().st_mtime_ns for p in files.iterdir()}
    second = run(config, "sync", "--json")
    assert second.exit_code == 0, second.output
    counts = json.loads(second.stdout)["pairs"][0]
    assert all(counts[k] == 0 for k in counts if k not in ("name", "ok", "error", "problems"))
    # a file's problems are said when it is new or changed: nothing changed
    assert counts["problems"] == []
    assert {p.name: p.stat().st_mtime_ns for p in files.iterdir()} == before
