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
from wesync.emulator.variants import Variants


class EmulatorTransport(httpx.ASGITransport):
    """An ASGITransport that also owns its emulator and saves its state on close."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(app=create_app(emulator), client=("127.0.0.1", 50000))
        self.emulator = emulator

    async def aclose(self) -> None:
        self.emulator.flush()


_shared: dict[Path, Emulator] = {}
_shared_lock = threading.Lock()


def _emulator_for(state_path: Path | None, corpid: str, corpsecret: str, listing: str | None,
                  variants: Variants | None) -> Emulator:
    if state_path is None:
        return Emulator(corpid=corpid, corpsecret=corpsecret, listing=listing, variants=variants)
    key = state_path.resolve()
    with _shared_lock:
        emulator = _shared.get(key)
        if emulator is None:
            emulator = Emulator(corpid=corpid, corpsecret=corpsecret, state_path=key,
                                listing=listing, variants=variants)
            _shared[key] = emulator
        else:
            if corpsecret not in emulator.state.apps:
                emulator.add_app(corpsecret, max(emulator.state.apps.values()) + 1)
            if variants is not None:
                # the latest config wins: one process, one WeCom, one set of behaviours
                emulator.state.variants = variants
        return emulator


def make_transport(
    *,
    state_path: Path | None,
    corpid: str = DEFAULT_CORPID,
    corpsecret: str = DEFAULT_CORPSECRET,
    listing: str | None = None,
    variants: Variants | None = None,
) -> httpx.AsyncBaseTransport:
    """A transport answering like WeCom, keeping its data in `state_path` (None: memory).

    `variants` selects the undocumented behaviours (`[wecom] emulator_variants`);
    `listing`, the older spelling of the listing variant, wins over it when given.
    """
    return EmulatorTransport(_emulator_for(state_path, corpid, corpsecret, listing, variants))
