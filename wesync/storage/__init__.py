"""Storages: a vdir folder, a single .ics file or a CalDAV collection, behind one interface."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wesync.errors import StorageError
from wesync.storage.base import Etag, Href, LocalStorage
from wesync.storage.singlefile import SingleFileStorage
from wesync.storage.vdir import VdirStorage

if TYPE_CHECKING:
    from wesync.config import PairConfig

__all__ = [
    "Etag",
    "Href",
    "LocalStorage",
    "SingleFileStorage",
    "VdirStorage",
    "open_pair_storage",
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


async def open_pair_storage(
    pair: PairConfig, *, state_dir: Path, create_if_missing: bool = False, readonly: bool = False
) -> LocalStorage:
    """The pair's iCalendar side, ready to list.

    A CalDAV collection is listed and its changed items fetched here, awaited
    (its mirror lives in `state_dir`; `readonly`, for a dry run, leaves that
    file as it is), so that list() and get() answer from memory afterwards.
    """
    if pair.caldav is None:
        assert pair.local is not None
        return open_storage(pair.local, create_if_missing=create_if_missing)
    from wesync.caldav.settings import resolve_caldav_password
    from wesync.caldav.storage import mirror_path, open_caldav

    cfg = pair.caldav
    storage = open_caldav(
        cfg.url,
        username=cfg.username,
        password=resolve_caldav_password(pair),
        verify=cfg.verify if isinstance(cfg.verify, bool) else str(cfg.verify),
        timeout=cfg.timeout,
        mirror=mirror_path(state_dir, pair.name),
        readonly=readonly,
    )
    try:
        await storage.aload()
    except BaseException:
        await storage.aclose()
        raise
    return storage
