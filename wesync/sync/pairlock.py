"""One run per pair at a time, across processes (a daemon and a manual `wesync sync`).

Two runs of one pair at once could both add the same new event to WeCom. The
lock is an advisory flock on ``<state_dir>/<pair>.sync.lock``; the kernel drops it
when the process dies, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from wesync.errors import SyncError


@contextlib.contextmanager
def pair_lock(state_dir: Path, pair: str) -> Iterator[None]:
    if not state_dir.is_dir():
        state_dir.mkdir(parents=True, mode=0o700)
    path = state_dir / f"{pair}.sync.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncError(
                "another wesync process is syncing this pair right now; try again later",
                pair=pair,
            ) from None
        yield
    finally:
        os.close(fd)
