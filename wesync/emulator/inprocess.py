"""The emulator as an httpx transport: `backend = "emulator"`, no network.

Same Starlette app as the HTTP server, driven through httpx.ASGITransport.
Transports made for the same state file within one process share one
`Emulator`, so that two clients (say, one per pair) see one WeCom and do not
overwrite each other's saves. Two processes on one state file are not
supported: the last to save wins.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from wesync.emulator.app import create_app
from wesync.emulator.emulator import DEFAULT_CORPID, DEFAULT_CORPSECRET, Emulator


class EmulatorTransport(httpx.ASGITransport):
    """An ASGITransport that also owns its emulator and saves its state on close."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(app=create_app(emulator), client=("127.0.0.1", 50000))
        self.emulator = emulator

    async def aclose(self) -> None:
        self.emulator.flush()


_shared: dict[Path, Emulator] = {}
_shared_lock = threading.Lock()


def _emulator_for(state_path: Path | None, corpid: str, corpsecret: str, listing: str) -> Emulator:
    if state_path is None:
        return Emulator(corpid=corpid, corpsecret=corpsecret, listing=listing)
    key = state_path.resolve()
    with _shared_lock:
        emulator = _shared.get(key)
        if emulator is None:
            emulator = Emulator(corpid=corpid, corpsecret=corpsecret, state_path=key,
                                listing=listing)
            _shared[key] = emulator
        elif corpsecret not in emulator.state.apps:
            emulator.add_app(corpsecret, max(emulator.state.apps.values()) + 1)
        return emulator


def make_transport(
    *,
    state_path: Path | None,
    corpid: str = DEFAULT_CORPID,
    corpsecret: str = DEFAULT_CORPSECRET,
    listing: str = "sample",
) -> httpx.AsyncBaseTransport:
    """A transport answering like WeCom, keeping its data in `state_path` (None: memory)."""
    return EmulatorTransport(_emulator_for(state_path, corpid, corpsecret, listing))
