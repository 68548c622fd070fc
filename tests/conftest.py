"""Shared fixtures: the WeCom emulator, over real loopback HTTP or as a bare object.

- `emulator_server`: a real uvicorn server (one per test session, reset before
  every test) with `.url`, `.emulator`, `.corpid`, `.corpsecret`,
  `.admin(method, path, json=None) -> dict`, `.token() -> str` and
  `.call(path, body) -> dict` (an API call with a fresh-enough token).
- `emulator`: a fresh in-memory `Emulator`, no server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from wesync.emulator import BackgroundServer, Emulator
from wesync.emulator.emulator import DEFAULT_CORPID, DEFAULT_CORPSECRET
from wesync.emulator.variants import Variants


class EmulatorServer:
    """Handle on the running emulator for tests."""

    def __init__(self, server: BackgroundServer) -> None:
        self.url = server.url
        self.emulator = server.emulator
        self.corpid = DEFAULT_CORPID
        self.corpsecret = DEFAULT_CORPSECRET
        self._http = httpx.Client(base_url=server.url, timeout=30)
        self._token: str | None = None

    def admin(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        """Call an administration endpoint; `path` may be "reset" or "/_emulator/reset"."""
        if not path.startswith("/"):
            path = f"/_emulator/{path}"
        response = self._http.request(method, path, json=json)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def token(self) -> str:
        response = self._http.get(
            "/cgi-bin/gettoken", params={"corpid": self.corpid, "corpsecret": self.corpsecret}
        )
        body = response.json()
        assert body["errcode"] == 0, body
        token: str = body["access_token"]
        return token

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to an API path with a token; returns the JSON answer whatever its errcode."""
        if self._token is None:
            self._token = self.token()
        response = self._http.post(path, params={"access_token": self._token}, json=body)
        result: dict[str, Any] = response.json()
        return result

    def live_schedules(self, cal_id: str) -> list[dict[str, Any]]:
        """Every live schedule in a calendar, fully read."""
        listed = self.call(
            "/cgi-bin/oa/schedule/get_by_calendar", {"cal_id": cal_id, "limit": 1000}
        )
        ids = [s["schedule_id"] for s in listed["schedule_list"] if s.get("status") != 1]
        if not ids:
            return []
        got = self.call("/cgi-bin/oa/schedule/get", {"schedule_id_list": ids})
        return [s for s in got["schedule_list"] if s.get("status") != 1]

    def _reset(self) -> None:
        self._token = None
        self.emulator.reset()
        self.emulator.configure(rate_limit=10_000, token_ttl=7200, listing="sample")
        # reset keeps variants (they are configuration), so each test starts from defaults
        self.emulator.state.variants = Variants()

    def close(self) -> None:
        self._http.close()


@pytest.fixture(scope="session")
def _emulator_background() -> Iterator[EmulatorServer]:
    server = BackgroundServer(Emulator()).start()
    handle = EmulatorServer(server)
    try:
        yield handle
    finally:
        handle.close()
        server.stop()


@pytest.fixture
def emulator_server(_emulator_background: EmulatorServer) -> Iterator[EmulatorServer]:
    _emulator_background._reset()
    yield _emulator_background
    _emulator_background._reset()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator()
    yield emu
    emu.close()
