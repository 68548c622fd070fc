"""The end-to-end benchmark runs and reports every figure (never checks a time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run
from bench.harness import busiest_minute, count_calls, update_body, windows

NUMBERS = ("wall_s", "user_s", "sys_s", "cpu_s", "peak_rss_mb")


@pytest.mark.timeout(180)
def test_quick_run_writes_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "results.json"
    assert run.main(["--quick", "--json-out", str(out), "--workdir", str(tmp_path / "w")]) == 0
    results = json.loads(out.read_text())

    assert list(results["sizes"]) == ["1000"]
    size = results["sizes"]["1000"]
    assert size["schedules"] >= 1000
    assert list(size["phases"]) == list(run.PHASES)
    for name, phase in size["phases"].items():
        for key in NUMBERS:
            assert isinstance(phase[key], float), (name, key)
        assert phase["exit_code"] == 0
        assert phase["report"]["ok"] is True
        assert phase["api_calls"] == sum(phase["calls"].values())
        assert set(phase["per_1000_events"]) == {"wall_s", "cpu_s", "api_calls"}
        # every sync lists the calendar: the request log was read for this run
        assert phase["calls"].get("schedule/get_by_calendar", 0) >= 1, name
    first = size["phases"]["first"]
    assert first["calls"]["schedule/add"] >= 1000
    assert first["gettoken"] == 1
    # the token is cached in the state directory between runs
    assert size["phases"]["noop"]["gettoken"] == 0
    change = size["phases"]["change"]
    assert change["local_edits"] == 10
    assert change["remote_edits"] >= 10
    assert change["report"]["updated_remote"] >= 1
    assert change["report"]["updated_local"] >= 1

    assert results["vdirsyncer"] == {"skipped": "--quick"}
    assert results["noop_ratio_vs_vdirsyncer"] is None
    assert results["rate_limit"] == {"skipped": "--quick"}
    assert {t["name"] for t in results["targets"]} >= {
        "no-op sync of 10,000 events: API calls",
        "peak RSS at 50,000 events (MB)",
    }
    printed = capsys.readouterr().out
    assert "noop-after" in printed
    assert str(out) in printed


def test_count_calls_keeps_gettoken_and_errors_apart() -> None:
    log = [
        {"path": "/cgi-bin/gettoken", "errcode": 0},
        {"path": "/cgi-bin/oa/schedule/add", "errcode": 0},
        {"path": "/cgi-bin/oa/schedule/add", "errcode": 45009},
        {"path": "/cgi-bin/oa/schedule/get_by_calendar", "errcode": None},
    ]
    calls, gettoken, errors = count_calls(log)
    assert calls == {"schedule/add": 2, "schedule/get_by_calendar": 1}
    assert gettoken == 1
    assert errors == {"45009": 1}


def test_window_arithmetic() -> None:
    # two bursts of three calls a minute apart: every run of 3+1 calls spans 60 s
    times = [0.0, 0.1, 0.2, 60.0, 60.1, 60.2]
    assert list(windows(times, 3)) == pytest.approx([60.0, 60.0, 60.0])
    assert busiest_minute(times) == 3
    assert busiest_minute([0.0, 30.0, 59.9, 60.0]) == 3


def test_update_body_keeps_what_get_returned() -> None:
    schedule = {
        "schedule_id": "s1",
        "summary": "Old",
        "start_time": 1,
        "end_time": 2,
        "is_whole_day": 1,
        "location": "Room",
        "attendees": [{"userid": "u1", "response_status": 1}],
        "reminders": {"is_remind": 1, "remind_time_diffs": [0], "exclude_time_list": []},
    }
    body = update_body(schedule, "New")["schedule"]
    assert body["summary"] == "New"
    assert body["is_whole_day"] == 1
    assert body["location"] == "Room"
    assert body["attendees"] == [{"userid": "u1"}]
    assert body["reminders"] == {"is_remind": 1, "remind_time_diffs": [0]}
