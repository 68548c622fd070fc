"""One daemon per state directory: an flock on `<state_dir>/daemon.lock` holding our pid.

The kernel drops an flock when its holder dies, however it dies, so a stale
lock file from a crash never blocks the next start; the pid inside is only
for the message the second daemon prints.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from wesync.errors import WesyncError

LOCK_NAME = "daemon.lock"


class AlreadyRunning(WesyncError):
    def __init__(self, pid: int | None, state_dir: Path) -> None:
        self.pid = pid
        self.state_dir = state_dir
        who = f"pid {pid}" if pid is not None else "unknown pid"
        super().__init__(f"another wesync daemon ({who}) is running for {state_dir}")


class DaemonLock:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise AlreadyRunning(pid, self.state_dir) from None
        except OSError as exc:
            os.close(fd)
            raise WesyncError(f"cannot lock {self.path}: {exc.strerror}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        # empty the file before unlocking so a reader never sees our stale pid
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
