"""The emulator as an httpx transport: `backend = "emulator"`, no network.

Same Starlette app as the HTTP server, driven through httpx.ASGITransport.
"""

from __future__ import annotations

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
        self.emulator.close()


def make_transport(
    *,
    state_path: Path | None,
    corpid: str = DEFAULT_CORPID,
    corpsecret: str = DEFAULT_CORPSECRET,
    listing: str = "sample",
) -> httpx.AsyncBaseTransport:
    """A transport answering like WeCom, keeping its data in `state_path` (None: memory)."""
    return EmulatorTransport(
        Emulator(corpid=corpid, corpsecret=corpsecret, state_path=state_path, listing=listing)
    )
