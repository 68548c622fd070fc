"""What wesync last saw of a CalDAV collection, kept in the state directory.

For each item: its name, its etag, and its bytes at that etag (None when they
could not be fetched). Beside them the sync token the listing belongs to, the
collection's URL and the auth scheme the server asked for. With it a no-op run
costs one sync-collection REPORT, and an unchanged item is read from here, never
from the server. It is only ever a cache: bytes are used only when the server
lists the same etag; losing the file costs one full listing and fetch. Bytes
that do not even look like a VCALENDAR are not kept, so such an item is fetched
again each run until the server sends it whole.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from wesync.errors import StorageError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (name TEXT PRIMARY KEY, etag TEXT, data BLOB);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Mirror:
    """A small SQLite file; `path` None keeps it in memory (one run only), and
    `readonly` works on an in-memory copy of the file (a dry run writes nothing)."""

    def __init__(self, path: Path | None, *, url: str, readonly: bool = False) -> None:
        self.path = path
        try:
            if path is not None and not readonly:
                path.parent.mkdir(parents=True, exist_ok=True)
            in_file = path is not None and not readonly
            self._db = sqlite3.connect(
                str(path) if in_file else ":memory:",
                check_same_thread=False,
                isolation_level=None,
            )
            if readonly and path is not None and path.is_file():
                source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                try:
                    source.backup(self._db)
                finally:
                    source.close()
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"cannot open the CalDAV mirror: {exc}", path=path) from None
        self._lock = threading.RLock()
        if self.meta("url") != url:
            # another collection: nothing kept belongs to this one
            with self.transaction():
                self._db.execute("DELETE FROM items")
                self._db.execute("DELETE FROM meta")
                self.set_meta("url", url)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self._lock:
            if value is None:
                self._db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value)
                )

    def etags(self) -> dict[str, tuple[str | None, bool]]:
        """name -> (etag, whether its bytes are kept)."""
        with self._lock:
            rows = self._db.execute("SELECT name, etag, data IS NOT NULL FROM items").fetchall()
        return {name: (etag, bool(has)) for name, etag, has in rows}

    def data(self, name: str, etag: str) -> bytes | None:
        """The bytes kept for `name`, if they are those of `etag`."""
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM items WHERE name = ? AND etag = ?", (name, etag)
            ).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def put(self, name: str, etag: str | None, data: bytes | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO items (name, etag, data) VALUES (?, ?, ?)",
                (name, etag, data),
            )

    def remove(self, names: Iterable[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM items WHERE name = ?", ((n,) for n in names))
