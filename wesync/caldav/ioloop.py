"""One event loop on its own thread, where every CalDAV client lives.

The sync engine calls the storage interface synchronously from its own event
loop (a vdir's writes are plain file writes). A CalDAV storage serves reads
from memory and its mirror, and sends its requests here: async callers await
them without blocking their loop (`arun`); sync callers, the contract suite and
today's executor, wait for the answer (`run`). One thread for the process, a
daemon thread, started on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")
_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def loop() -> asyncio.AbstractEventLoop:
    """The I/O loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            new = asyncio.new_event_loop()
            ready = threading.Event()

            def serve() -> None:
                asyncio.set_event_loop(new)
                new.call_soon(ready.set)
                new.run_forever()

            _thread = threading.Thread(target=serve, name="wesync-caldav-io", daemon=True)
            _thread.start()
            ready.wait()
            _loop = new
        return _loop


def _submit(coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
    target = loop()
    if threading.current_thread() is _thread:
        coro.close()
        raise RuntimeError("a CalDAV request was made from the I/O thread itself")
    return asyncio.run_coroutine_threadsafe(coro, target)


def run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run `coro` on the I/O loop and wait for its result (for sync callers)."""
    return _submit(coro).result()


async def arun(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run `coro` on the I/O loop; the caller's own loop keeps running meanwhile."""
    return await asyncio.wrap_future(_submit(coro))


def post(coro: Coroutine[Any, Any, Any]) -> None:
    """Start `coro` on the I/O loop and do not wait (closing a dropped client)."""
    if _loop is not None and _loop.is_running():
        asyncio.run_coroutine_threadsafe(coro, _loop)
    else:
        coro.close()
