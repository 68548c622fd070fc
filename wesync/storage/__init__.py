"""Local storages: a vdir folder or a single .ics file, behind one interface."""

from __future__ import annotations

from pathlib import Path

from wesync.errors import StorageError
from wesync.storage.base import Etag, Href, LocalStorage
from wesync.storage.singlefile import SingleFileStorage
from wesync.storage.vdir import VdirStorage

__all__ = [
    "Etag",
    "Href",
    "LocalStorage",
    "SingleFileStorage",
    "VdirStorage",
    "open_storage",
]


def open_storage(path: Path, *, create_if_missing: bool = False) -> LocalStorage:
    """A vdir for a folder, a single-file storage for a path ending in .ics.

    A missing folder is an error, never an empty storage. A missing .ics file
    is allowed only with `create_if_missing` (a from-wecom pair's first run)
    and only inside an existing folder; it is written on the first flush.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        return VdirStorage(path)
    if path.suffix.lower() == ".ics":
        if not path.exists() and not (create_if_missing and path.parent.is_dir()):
            raise StorageError("file does not exist", path=path)
        return SingleFileStorage(path, create_if_missing=create_if_missing)
    if path.exists():
        raise StorageError("neither a folder nor an .ics file", path=path)
    raise StorageError("folder does not exist", path=path)
