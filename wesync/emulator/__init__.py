"""A faithful WeCom emulator: the calendar/schedule API on loopback or in-process.

It shares no code with the client except wesync.wecom.constants, so that a
bug in one cannot hide a bug in the other. See app.py for the administration
endpoints, schedules.py for the emulator's choices where WeCom's behaviour is
undocumented and variants.py for the other answers one can select.

The names below are loaded on first use: the CLI's help and the config
parser need wesync.emulator.variants, not the HTTP stack (starlette, uvicorn).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wesync.emulator.app import create_app
    from wesync.emulator.emulator import Emulator, Reply
    from wesync.emulator.inprocess import EmulatorTransport, make_transport
    from wesync.emulator.server import BackgroundServer, serve

_WHERE = {
    "create_app": "app",
    "Emulator": "emulator",
    "Reply": "emulator",
    "EmulatorTransport": "inprocess",
    "make_transport": "inprocess",
    "BackgroundServer": "server",
    "serve": "server",
}

__all__ = [
    "BackgroundServer",
    "Emulator",
    "EmulatorTransport",
    "Reply",
    "create_app",
    "make_transport",
    "serve",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'wesync.emulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"wesync.emulator.{module}"), name)
    globals()[name] = value
    return value
