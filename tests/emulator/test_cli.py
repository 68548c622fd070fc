"""`wesync emulator` as users run it: a real process, real signals, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from wesync.wecom import constants as C


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "WESYNC_CONFIG": "/nonexistent/config.toml"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wesync", "emulator", "--port", "0", *args],
        stderr=subprocess.PIPE, text=True, env=env,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "WeCom emulator on http://127.0.0.1:" in line, line
    return proc, line.split(" on ", 1)[1].split()[0]


def test_serves_until_sigterm_and_keeps_its_state(tmp_path: Path) -> None:
    state = tmp_path / "wecom.json"
    proc, url = start("--state", str(state), "--rate-limit", "2", "--corpsecret", "s3cret",
                      "--listing", "full")
    try:
        params = {"corpid": "wwemulator", "corpsecret": "s3cret"}
        token = httpx.get(f"{url}{C.GETTOKEN_PATH}", params=params).json()["access_token"]
        cal = httpx.post(f"{url}{C.CALENDAR_ADD}", params={"access_token": token},
                         json={"calendar": {"summary": "a", "color": "#000000"}}).json()
        assert cal["errcode"] == 0
        codes = [httpx.get(f"{url}{C.GETTOKEN_PATH}", params=params).json()["errcode"]
                 for _ in range(2)]
        assert codes == [0, C.ERR_RATE_LIMITED]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    saved = json.loads(state.read_text())
    assert list(saved["calendars"]) == [cal["cal_id"]]


def test_callback_options_go_together() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wesync", "emulator", "--callback-url", "http://127.0.0.1:1/"],
        capture_output=True, text=True, timeout=30,
        env={**os.environ, "WESYNC_CONFIG": "/nonexistent/config.toml"},
    )
    assert result.returncode == 2
    assert "--callback-token" in result.stderr


def test_bad_aes_key_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wesync", "emulator", "--callback-url", "http://127.0.0.1:1/",
         "--callback-token", "t", "--callback-aes-key", "short"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "43 characters" in result.stderr
