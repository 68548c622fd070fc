"""Every error wesync raises on purpose descends from `WesyncError`.

    WesyncError
    ├── ConfigError          the config file, a flag or a pair name is wrong (exit 2)
    ├── WeComError           wesync.wecom.errors: anything the WeCom API said or failed to say
    ├── StorageError         a local file or folder (carries the path)
    │   ├── ItemParseError       a file that is not valid iCalendar; left alone, reported
    │   ├── DuplicateUidError    two files (or two events in one file) share a UID
    │   ├── PreconditionFailed   the file changed since it was read (etag mismatch)
    │   └── ItemNotFound         the file is gone
    ├── StatusError          the status database is unusable
    └── SyncError            a pair could not complete
        └── SafetyStop           refused for safety (mass deletion, emptied side); --force overrides

The CLI turns these into one-line messages and exit codes in one place
(wesync.cli.errors); nothing else prints tracebacks at users.
"""

from __future__ import annotations

from pathlib import Path


class WesyncError(Exception):
    """Root of wesync's own errors."""


class ConfigError(WesyncError):
    """Invalid configuration or usage. `where` names the file, table or key."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class StorageError(WesyncError):
    """A problem with one local file or folder."""

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)


class ItemParseError(StorageError):
    """A file that does not parse as iCalendar (it is reported and left alone)."""


class DuplicateUidError(StorageError):
    """The same UID appears in more than one place on one side."""

    def __init__(self, uid: str, paths: list[str]) -> None:
        self.uid = uid
        self.paths = paths
        super().__init__(f"UID {uid!r} appears more than once: {', '.join(paths)}")


class PreconditionFailed(StorageError):
    """The item changed on disk since it was listed; the write was refused."""


class ItemNotFound(StorageError):
    """The item is no longer there."""


class StatusError(WesyncError):
    """The status database cannot be opened or is inconsistent."""


class SyncError(WesyncError):
    """A pair could not complete its sync."""

    def __init__(self, message: str, *, pair: str | None = None) -> None:
        self.pair = pair
        super().__init__(f"pair {pair!r}: {message}" if pair else message)


class SafetyStop(SyncError):
    """The sync was refused because it looked destructive; `--force` overrides."""
