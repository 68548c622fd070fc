"""`wesync emulator --delay-ms N` and `POST /_emulator/config {"delay_ms": N}`: every
API answer N ms late, as a network's round trip, without holding other requests."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx

from tests.emulator.test_cli import start
from wesync.wecom import constants as C

PARAMS = {"corpid": "wwemulator", "corpsecret": "emulator-secret"}


async def _timed_gettokens(url: str, n: int) -> tuple[list[float], float]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def one() -> float:
            begun = time.monotonic()
            answer = await client.get(C.GETTOKEN_PATH, params=PARAMS)
            assert answer.json()["errcode"] == 0
            return time.monotonic() - begun

        begun = time.monotonic()
        each = await asyncio.gather(*(one() for _ in range(n)))
        return list(each), time.monotonic() - begun


def test_every_answer_is_late_and_requests_wait_side_by_side() -> None:
    proc, url = start("--delay-ms", "1000")
    try:
        assert httpx.get(f"{url}/_emulator/config").json()["delay_ms"] == 1000
        each, together = asyncio.run(_timed_gettokens(url, 6))
        assert min(each) >= 1.0
        # one after another they would take at least 6 s: they were held side by side
        assert together < 5.0
        # administration is never delayed, and the delay changes at run time
        shown = httpx.post(f"{url}/_emulator/config", json={"delay_ms": 0}).json()
        assert shown["delay_ms"] == 0
        bad = httpx.post(f"{url}/_emulator/config", json={"delay_ms": -1})
        assert bad.status_code == 400 and "delay_ms" in bad.json()["error"]
        assert httpx.get(f"{url}/_emulator/config").json()["delay_ms"] == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_a_negative_delay_is_refused_on_the_command_line() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "wesync", "emulator", "--delay-ms", "-5"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--delay-ms" in done.stderr
