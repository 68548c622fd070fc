"""Crash-safe file writes: temp file in the target's directory, fsync, then link or rename.

A reader (or a crash) only ever sees the old file or the complete new one.
Temp files are hidden and end in ``.tmp`` so that vdir listings skip them if
a crash leaves one behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from pathlib import Path

# Filesystems without hard links (some FUSE and SMB mounts) answer link() with
# one of these; we then fall back to claiming the name with O_EXCL.
_NO_LINK_ERRNOS = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}
)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def temp_path(directory: Path) -> Path:
    return directory / f".wesync-{uuid.uuid4().hex}.tmp"


def fsync_dir(directory: Path) -> None:
    """Make a rename, link or unlink in `directory` durable."""
    try:
        fd = os.open(directory, os.O_RDONLY | _CLOEXEC)
    except OSError:
        # Some platforms cannot open a directory; the data itself is already synced.
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def write_temp(
    directory: Path, data: bytes, *, mode: int | None = None
) -> tuple[Path, os.stat_result]:
    """Write `data` to a fresh temp file in `directory`, fsync it, return its path and stat.

    The file is created with 0o666 minus the umask (like any new file), or
    given `mode` when replacing a file whose permissions must be kept.
    """
    tmp = temp_path(directory)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o666)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
        st = os.fstat(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    return tmp, st


def create_new(final: Path, data: bytes) -> os.stat_result:
    """Write `data` to `final`, which must not exist yet (FileExistsError otherwise).

    link() fails with EEXIST instead of replacing, so a file that appeared
    meanwhile is never overwritten.
    """
    tmp, st = write_temp(final.parent, data)
    try:
        try:
            os.link(tmp, final)
        except OSError as exc:
            if exc.errno not in _NO_LINK_ERRNOS:
                raise
            _claim_then_replace(tmp, final)
            tmp = final  # renamed away: nothing left to clean up
    finally:
        if tmp != final:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    fsync_dir(final.parent)
    return st


def _claim_then_replace(tmp: Path, final: Path) -> None:
    # Claiming the name with O_EXCL keeps the never-overwrite promise; the
    # empty placeholder is visible only until the rename right after it.
    fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o666)
    os.close(fd)
    os.replace(tmp, final)


def replace(final: Path, data: bytes, *, mode: int | None = None) -> os.stat_result:
    """Atomically replace (or create) `final` with `data`; returns the new file's stat."""
    tmp, st = write_temp(final.parent, data, mode=mode)
    try:
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(final.parent)
    return st
