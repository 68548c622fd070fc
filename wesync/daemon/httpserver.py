"""Run a Starlette app on uvicorn inside the daemon's own event loop.

The daemon owns SIGTERM/SIGINT/SIGHUP, so uvicorn must not install its
handlers; and the socket is bound before serving so that "address in use"
fails the start at once instead of inside a background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

from wesync.config import parse_listen
from wesync.errors import WesyncError

log = logging.getLogger("wesync.daemon")


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind(listen: str) -> socket.socket:
    host, port = parse_listen(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise WesyncError(f"cannot listen on {listen}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


class HttpServer:
    """One listening app; `start()` binds and serves, `stop()` closes."""

    def __init__(self, app: ASGIApp, listen: str, *, name: str) -> None:
        self.app = app
        self.listen = listen
        self.name = name
        self._sock: socket.socket | None = None
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError("not started")
        return int(self._sock.getsockname()[1])

    async def start(self) -> None:
        self._sock = bind(self.listen)
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._sock]), name=f"http-{self.name}"
        )
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise WesyncError(f"{self.name} server on {self.listen} did not start")
            await asyncio.sleep(0.01)
        log.info("%s listening on %s", self.name, self.listen)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
        if self._sock is not None:
            self._sock.close()
        self._task = None
        self._server = None
