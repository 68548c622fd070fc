"""Serving the emulator with uvicorn: in the foreground (CLI) or a background thread (tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn

from wesync.emulator.app import create_app
from wesync.emulator.emulator import Emulator
from wesync.emulator.errors import EmulatorError

STARTUP_TIMEOUT = 10.0


def _config(emulator: Emulator, *, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(emulator),
        log_level=log_level,
        access_log=False,
        lifespan="off",
        # WeCom keeps connections open; so do we, so that clients can pool them
        timeout_keep_alive=30,
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio only sets TCP_NODELAY on sockets that do, and without
    # it every response waits ~40 ms for a delayed ACK (Nagle)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise EmulatorError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _SavingServer(uvicorn.Server):
    """Saves the emulator's state when uvicorn shuts down.

    uvicorn re-raises SIGTERM after its graceful shutdown, which ends the
    process before any `finally` of ours could run; so save here, inside.
    """

    def __init__(self, config: uvicorn.Config, emulator: Emulator) -> None:
        super().__init__(config)
        self.emulator = emulator

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        self.emulator.close()


def serve(emulator: Emulator, *, host: str, port: int, log_level: str = "warning",
          announce: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (SIGINT/SIGTERM), then save the state.

    `announce` gets the base URL once the port is bound (port 0 picks a free one).
    """
    sock = _bind(host, port)
    if announce is not None:
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        announce(f"http://{shown}:{bound_port}")
    server = _SavingServer(_config(emulator, log_level=log_level), emulator)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        emulator.close()


class BackgroundServer:
    """A real uvicorn server for `emulator` on a free loopback port, in a thread."""

    def __init__(self, emulator: Emulator, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self._sock = _bind(host, port)
        bound_host, bound_port = self._sock.getsockname()[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        self._server = uvicorn.Server(_config(emulator, log_level="warning"))
        # the thread never runs in the main thread, so uvicorn leaves signals alone
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]},
            name="wesync-emulator-server", daemon=True,
        )

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise EmulatorError("the emulator server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT)
        self._sock.close()
        self.emulator.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
