"""The small interface every local storage implements (after vdirsyncer's).

ITEM   one event: a VCALENDAR holding one UID's master and its RECURRENCE-ID
       overrides (plus the VTIMEZONEs they use), as iCalendar bytes.
HREF   where the item lives: a file name inside a vdir, or the UID inside a
       single .ics file. Never a path outside the storage.
ETAG   a string that changes whenever the item may have changed. For a vdir
       it comes from the file's stat (mtime_ns, size, inode), so listing reads
       no file.

Writes take the etag the caller last saw and raise PreconditionFailed if the
item changed since; creates never overwrite an existing item.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

Href = str
Etag = str


class LocalStorage(Protocol):
    def list(self) -> Iterator[tuple[Href, Etag]]:
        """Every item's href and etag. Raises StorageError if the folder or file is gone."""
        ...

    def get(self, href: Href) -> tuple[bytes, Etag]:
        """The item's bytes and the etag they were read at."""
        ...

    def create(self, uid: str, data: bytes) -> tuple[Href, Etag]:
        """Store a new item; the href is derived from the UID when that is safe."""
        ...

    def update(self, href: Href, data: bytes, etag: Etag) -> Etag:
        """Replace an item if it still has `etag`."""
        ...

    def delete(self, href: Href, etag: Etag) -> None:
        """Remove an item if it still has `etag`."""
        ...

    def flush(self) -> None:
        """Make every write durable (the single-file storage rewrites its file here)."""
        ...
