"""A faithful WeCom emulator: the calendar/schedule API on loopback or in-process.

It shares no code with the client except wesync.wecom.constants, so that a
bug in one cannot hide a bug in the other. See app.py for the administration
endpoints and schedules.py for the emulator's choices where WeCom's
behaviour is undocumented.
"""

from __future__ import annotations

from wesync.emulator.app import create_app
from wesync.emulator.emulator import Emulator, Reply
from wesync.emulator.inprocess import EmulatorTransport, make_transport
from wesync.emulator.server import BackgroundServer, serve

__all__ = [
    "BackgroundServer",
    "Emulator",
    "EmulatorTransport",
    "Reply",
    "create_app",
    "make_transport",
    "serve",
]
