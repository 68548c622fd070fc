"""Serving the emulator with uvicorn: in the foreground (CLI) or a background thread (tests)."""

from __future__ import annotations

import socket
import threading
import time
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


def serve(emulator: Emulator, *, host: str, port: int, log_level: str = "warning") -> None:
    """Serve until interrupted (SIGINT/SIGTERM), then save the state."""
    sock = _bind(host, port)
    server = uvicorn.Server(_config(emulator, log_level=log_level))
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
