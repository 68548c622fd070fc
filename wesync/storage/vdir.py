"""A vdir folder: one VCALENDAR per .ics file, the file name is the href.

Listing stats files and never opens them, so an unchanged folder of 10,000
events costs 10,000 stat calls and nothing more. The etag is
``"{mtime_ns};{size};{inode}"``: the inode catches an atomic replace that
kept size and mtime, the size catches an in-place edit within one mtime tick.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

from wesync.errors import ItemNotFound, PreconditionFailed, StorageError
from wesync.storage import atomic
from wesync.storage.base import Etag, Href

_SAFE_UID = re.compile(r"[A-Za-z0-9_.@+-]+")
MAX_UID_NAME = 200
_GET_ATTEMPTS = 5
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def etag_of(st: os.stat_result) -> Etag:
    return f"{st.st_mtime_ns};{st.st_size};{st.st_ino}"


def _same_file_state(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_dev, a.st_mtime_ns, a.st_size) == (
        b.st_ino,
        b.st_dev,
        b.st_mtime_ns,
        b.st_size,
    )


class VdirStorage:
    """Items as files in one folder (no subfolders); see wesync.storage.base."""

    def __init__(self, path: Path, *, fileext: str = ".ics") -> None:
        if not fileext.startswith(".") or "/" in fileext or fileext.lower() == ".tmp":
            raise StorageError(f"invalid file extension {fileext!r}", path=path)
        self.path = Path(path)
        self.fileext = fileext
        self._ext_lower = fileext.lower()
        self._root = self.path.resolve()
        # Lower-cased names, built on the first create: keeps names unique on
        # case-insensitive filesystems without a directory scan per create.
        self._names_lower: set[str] | None = None

    def __repr__(self) -> str:
        return f"VdirStorage({str(self.path)!r})"

    # -- reading ---------------------------------------------------------

    def _is_item_name(self, name: str) -> bool:
        return (
            not name.startswith(".")
            and not name.lower().endswith(".tmp")
            and name.lower().endswith(self._ext_lower)
            and len(name) > len(self._ext_lower)
        )

    def _check_folder(self) -> None:
        if not self.path.exists():
            raise StorageError("folder does not exist", path=self.path)
        if not self.path.is_dir():
            raise StorageError("not a folder", path=self.path)

    def list(self) -> Iterator[tuple[Href, Etag]]:
        """Every item file's name and etag; reads no file contents.

        Built eagerly so that a missing or unreadable folder raises here,
        never as a short or empty listing.
        """
        try:
            scan = os.scandir(self.path)
        except FileNotFoundError:
            raise StorageError("folder does not exist", path=self.path) from None
        except NotADirectoryError:
            raise StorageError("not a folder", path=self.path) from None
        except OSError as exc:
            raise StorageError(f"cannot list folder: {exc.strerror}", path=self.path) from exc
        items: list[tuple[Href, Etag]] = []
        with scan:
            for entry in scan:
                name = entry.name
                if not self._is_item_name(name):
                    continue
                try:
                    if not entry.is_file():
                        continue
                    st = entry.stat()
                except FileNotFoundError:
                    continue  # removed while we listed: simply not there
                except OSError as exc:
                    raise StorageError(f"cannot stat: {exc.strerror}", path=entry.path) from exc
                items.append((name, etag_of(st)))
        return iter(items)

    def _item_path(self, href: Href) -> Path:
        """The file for `href`, refusing anything that could leave the folder."""
        if (
            not href
            or "/" in href
            or "\\" in href
            or ".." in href
            or "\x00" in href
            or not self._is_item_name(href)
        ):
            raise StorageError(f"refusing unsafe href {href!r}", path=self.path)
        candidate = self.path / href
        if candidate.parent.resolve() != self._root or candidate.name != href:
            raise StorageError(f"href {href!r} resolves outside the folder", path=self.path)
        return candidate

    def get(self, href: Href) -> tuple[bytes, Etag]:
        """The file's bytes and the etag of exactly what was read.

        A file replaced or edited while we read it is read again, so the etag
        returned never belongs to other bytes than those returned.
        """
        path = self._item_path(href)
        for _ in range(_GET_ATTEMPTS):
            try:
                fd = os.open(path, os.O_RDONLY | _CLOEXEC)
            except FileNotFoundError:
                raise ItemNotFound("no such item", path=path) from None
            except OSError as exc:
                raise StorageError(f"cannot open: {exc.strerror}", path=path) from exc
            try:
                with os.fdopen(fd, "rb") as handle:
                    before = os.fstat(handle.fileno())
                    data = handle.read()
                    after = os.fstat(handle.fileno())
            except OSError as exc:
                raise StorageError(f"cannot read: {exc.strerror}", path=path) from exc
            try:
                now = os.stat(path)
            except FileNotFoundError:
                raise ItemNotFound("removed while being read", path=path) from None
            if _same_file_state(before, after) and _same_file_state(after, now):
                return data, etag_of(after)
        raise StorageError("file kept changing while being read", path=path)

    # -- writing ---------------------------------------------------------

    def _current_stat(self, path: Path) -> os.stat_result:
        try:
            return os.stat(path)
        except FileNotFoundError:
            raise ItemNotFound("no such item", path=path) from None
        except OSError as exc:
            raise StorageError(f"cannot stat: {exc.strerror}", path=path) from exc

    def _check_etag(self, path: Path, etag: Etag) -> os.stat_result:
        st = self._current_stat(path)
        if etag_of(st) != etag:
            raise PreconditionFailed(
                f"changed since it was read (etag {etag_of(st)}, expected {etag})", path=path
            )
        return st

    def _known_names(self) -> set[str]:
        if self._names_lower is None:
            self._check_folder()
            with os.scandir(self.path) as scan:
                self._names_lower = {entry.name.lower() for entry in scan}
        return self._names_lower

    def _name_for_uid(self, uid: str) -> str | None:
        """The UID as a file name when it is safe and free, else None."""
        if (
            len(uid) > MAX_UID_NAME
            or uid.startswith(".")
            or ".." in uid
            or _SAFE_UID.fullmatch(uid) is None
        ):
            return None
        name = uid + self.fileext
        if name.lower() in self._known_names():
            return None
        return name

    def create(self, uid: str, data: bytes) -> tuple[Href, Etag]:
        """Write a new file, named after the UID when safe, never replacing one."""
        self._check_folder()
        name = self._name_for_uid(uid)
        for _ in range(10):
            if name is None:
                name = uuid.uuid4().hex + self.fileext
            path = self._item_path(name)
            try:
                st = atomic.create_new(path, data)
            except FileExistsError:
                self._known_names().add(name.lower())
                name = None
                continue
            except OSError as exc:
                raise StorageError(f"cannot create: {exc.strerror}", path=path) from exc
            self._known_names().add(name.lower())
            return name, etag_of(st)
        raise StorageError("could not find a free file name", path=self.path)

    def update(self, href: Href, data: bytes, etag: Etag) -> Etag:
        """Replace the file atomically if it still has `etag`; keeps its permissions."""
        path = self._item_path(href)
        st = self._check_etag(path, etag)
        try:
            new = atomic.replace(path, data, mode=st.st_mode & 0o7777)
        except OSError as exc:
            raise StorageError(f"cannot write: {exc.strerror}", path=path) from exc
        return etag_of(new)

    def delete(self, href: Href, etag: Etag) -> None:
        """Remove the file if it still has `etag`."""
        path = self._item_path(href)
        self._check_etag(path, etag)
        try:
            os.unlink(path)
        except FileNotFoundError:
            raise ItemNotFound("no such item", path=path) from None
        except OSError as exc:
            raise StorageError(f"cannot delete: {exc.strerror}", path=path) from exc
        atomic.fsync_dir(self.path)
        if self._names_lower is not None:
            self._names_lower.discard(href.lower())

    def flush(self) -> None:
        """Every write is already durable when it returns."""
