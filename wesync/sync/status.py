"""The status database: what both sides held after the last sync, per pair.

One SQLite file per pair, ``<state_dir>/<pair>.sqlite`` (directory 0700, file
0600, WAL). All of a pair's SQL lives in this module (the app's count of
schedules created per day is wesync.sync.quota_store's).

- ``items``: one row per event UID: its file (href, etag), whether a write
  was in flight (``pending``), whether its slots come from the expand fallback,
  and for those the day (``expand_day``, epoch days, UTC) of the rolling window
  the stored local digests were computed in: an unchanged file is translated
  again only when that day has passed.
- ``slots``: one row per (UID, slot): the WeCom schedule_id it maps to
  (UNIQUE: one schedule belongs to one slot), the content digest of the local
  translation, the digests of WeCom's version, and a digest of the fields the
  get_by_calendar listing returned (so an unchanged listing needs no `get`).
- ``intents``: a remote write about to happen, committed before the call, so a
  run killed mid-call can tell on restart whether the write landed.
- ``conflicts``: a log of conflicts and how the policy resolved them.
- ``problems``: what the translator said about each file (by href), kept until
  the file is read again (changed) or goes, so ``wesync status`` shows it on
  every run after the one that said it.
- ``meta``: schema version, last sync time/result/error/counts, the last run's
  other problems (``last_problems``), last full fetch.

The DDL is idempotent, so opening an existing file is safe.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wesync.errors import StatusError
from wesync.sync.actions import Side
from wesync.sync.problems import SyncProblem

SCHEMA_VERSION = 2

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    uid TEXT PRIMARY KEY,
    href TEXT,
    local_etag TEXT,
    pending TEXT,
    pending_digest TEXT,
    expanded INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '',
    expand_day INTEGER
);
CREATE TABLE IF NOT EXISTS slots (
    uid TEXT NOT NULL REFERENCES items(uid) ON DELETE CASCADE,
    slot TEXT NOT NULL,
    schedule_id TEXT UNIQUE,
    local_digest TEXT,
    remote_digest TEXT,
    remote_content TEXT,
    listing_digest TEXT,
    PRIMARY KEY (uid, slot)
);
CREATE TABLE IF NOT EXISTS intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL,
    slot TEXT NOT NULL,
    op TEXT NOT NULL,
    schedule_id TEXT,
    summary TEXT NOT NULL DEFAULT '',
    start_time INTEGER,
    end_time INTEGER,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS problems (
    href TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    path TEXT,
    uid TEXT,
    recurrence_id TEXT,
    schedule_id TEXT
);
CREATE INDEX IF NOT EXISTS problems_href ON problems(href);
CREATE TABLE IF NOT EXISTS conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL,
    resolution TEXT NOT NULL,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class SlotStatus:
    slot: str
    schedule_id: str | None = None
    local_digest: str | None = None  #: content digest of the local draft
    remote_digest: str | None = None  #: digest of WeCom's draft, with responses
    remote_content: str | None = None  #: the same without responses
    listing_digest: str | None = None  #: what get_by_calendar showed; None = unknown


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusItem:
    uid: str
    href: str | None = None
    local_etag: str | None = None
    pending: Side | None = None
    #: with pending=LOCAL: the content digest the file has once the write landed
    pending_digest: str | None = None
    expanded: bool = False
    summary: str = ""
    slots: Mapping[str, SlotStatus] = field(default_factory=dict)
    #: for an expanded item: the window day its local digests belong to (None: unknown)
    expand_day: int | None = None

    def schedule_ids(self) -> dict[str, str]:
        """slot -> schedule_id for the slots mapped to WeCom."""
        return {k: s.schedule_id for k, s in self.slots.items() if s.schedule_id}


@dataclass(frozen=True, kw_only=True)
class Intent:
    """A remote write about to be made (recorded before the call)."""

    uid: str
    slot: str
    #: "add", "update", "split", "delete", "exclude"; "watch" is an add or split that
    #: was not in WeCom's listing when settled, kept because it may still land late
    op: str
    schedule_id: str | None = None
    summary: str = ""
    start_time: int | None = None
    end_time: int | None = None
    id: int | None = None
    created: float = 0.0


def status_path(state_dir: Path, pair: str) -> Path:
    return state_dir / f"{pair}.sqlite"


class StatusDB:
    """The status of one pair. Not thread-safe; one run uses one instance."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        try:
            if readonly:
                if path.exists():
                    uri = f"file:{path}?mode=ro"
                    self._db = sqlite3.connect(uri, uri=True, isolation_level=None)
                else:
                    # a dry run before the first sync: an empty status, nothing created
                    self._db = sqlite3.connect(":memory:", isolation_level=None)
                    self._db.executescript(_DDL)
            else:
                _make_private_dir(path.parent)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                os.close(fd)
                self._db = sqlite3.connect(path, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("PRAGMA foreign_keys=ON")
                self._db.execute("PRAGMA busy_timeout=10000")
                self._db.executescript(_DDL)
                self._check_version()
        except sqlite3.Error as exc:
            raise StatusError(f"{path}: cannot open the status database: {exc}") from exc

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is not None and int(row[0]) > SCHEMA_VERSION:
            raise StatusError(
                f"{self.path}: written by a newer wesync (schema {row[0]}, "
                f"this one knows {SCHEMA_VERSION})"
            )
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(items)")}
        if "pending_digest" not in columns:  # schema 1
            self._db.execute("ALTER TABLE items ADD COLUMN pending_digest TEXT")
        if "expand_day" not in columns:  # schema 2 before the column (additive, no bump)
            self._db.execute("ALTER TABLE items ADD COLUMN expand_day INTEGER")
        self._db.execute(
            "INSERT INTO meta(key, value) VALUES('schema_version', ?)"
            " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (str(SCHEMA_VERSION),),
        )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StatusDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic change; a failure rolls back everything inside."""
        if self.readonly:
            yield
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StatusError(f"{self.path}: {exc}") from exc
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    def _write(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        if self.readonly:
            raise StatusError("internal: write to a read-only status (dry run)")
        try:
            return self._db.execute(sql, args)
        except sqlite3.Error as exc:
            raise StatusError(f"{self.path}: {exc}") from exc

    # -- items ------------------------------------------------------------

    def load(self) -> dict[str, StatusItem]:
        slots: dict[str, dict[str, SlotStatus]] = {}
        for row in self._db.execute(
            "SELECT uid, slot, schedule_id, local_digest, remote_digest, remote_content,"
            " listing_digest FROM slots"
        ):
            local, content = row[3], row[5]
            slots.setdefault(row[0], {})[row[1]] = SlotStatus(
                slot=row[1],
                schedule_id=row[2],
                local_digest=local,
                remote_digest=row[4],
                # in step, both sides hold the same content: one string for both
                remote_content=local if content == local else content,
                listing_digest=row[6],
            )
        items: dict[str, StatusItem] = {}
        for uid, href, etag, pending, pending_digest, expanded, summary, day in self._db.execute(
            "SELECT uid, href, local_etag, pending, pending_digest, expanded, summary, expand_day"
            " FROM items"
        ):
            items[uid] = StatusItem(
                uid=uid,
                href=href,
                local_etag=etag,
                pending=Side(pending) if pending else None,
                pending_digest=pending_digest,
                expanded=bool(expanded),
                summary=summary,
                slots=slots.get(uid, {}),
                expand_day=day,
            )
        return items

    def put(self, item: StatusItem) -> None:
        """Replace everything known about one UID."""
        self._write(
            "INSERT INTO items(uid, href, local_etag, pending, pending_digest, expanded, summary,"
            " expand_day) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(uid) DO UPDATE SET"
            " href=excluded.href, local_etag=excluded.local_etag, pending=excluded.pending,"
            " pending_digest=excluded.pending_digest, expanded=excluded.expanded,"
            " summary=excluded.summary, expand_day=excluded.expand_day",
            (
                item.uid,
                item.href,
                item.local_etag,
                item.pending.value if item.pending else None,
                item.pending_digest,
                int(item.expanded),
                item.summary,
                item.expand_day,
            ),
        )
        self._write("DELETE FROM slots WHERE uid=?", (item.uid,))
        for s in item.slots.values():
            if s.schedule_id:
                # a schedule belongs to one slot only: adoption moves it
                self._write("DELETE FROM slots WHERE schedule_id=?", (s.schedule_id,))
            self._write(
                "INSERT INTO slots(uid, slot, schedule_id, local_digest, remote_digest,"
                " remote_content, listing_digest) VALUES(?,?,?,?,?,?,?)",
                (
                    item.uid,
                    s.slot,
                    s.schedule_id,
                    s.local_digest,
                    s.remote_digest,
                    s.remote_content,
                    s.listing_digest,
                ),
            )

    def delete(self, uid: str) -> None:
        self._write("DELETE FROM slots WHERE uid=?", (uid,))
        self._write("DELETE FROM items WHERE uid=?", (uid,))

    def set_pending(self, uid: str, side: Side | None, *, digest: str | None = None) -> None:
        """Mark a write to `side` in flight for `uid` (creating the row if needed);
        `digest`: what the file's content digest will be once a local write landed."""
        self._write(
            "INSERT INTO items(uid, pending, pending_digest) VALUES(?, ?, ?)"
            " ON CONFLICT(uid) DO UPDATE SET pending=excluded.pending,"
            " pending_digest=excluded.pending_digest",
            (uid, side.value if side else None, digest),
        )

    def map_slot(self, uid: str, slot: str, schedule_id: str | None) -> None:
        """Record at once which schedule a slot now has (None: it has none)."""
        self._write("INSERT OR IGNORE INTO items(uid) VALUES(?)", (uid,))
        if schedule_id:
            self._write(
                "DELETE FROM slots WHERE schedule_id=? AND NOT (uid=? AND slot=?)",
                (schedule_id, uid, slot),
            )
        self._write(
            "INSERT INTO slots(uid, slot, schedule_id) VALUES(?,?,?)"
            " ON CONFLICT(uid, slot) DO UPDATE SET schedule_id=excluded.schedule_id,"
            " remote_digest=NULL, remote_content=NULL, listing_digest=NULL",
            (uid, slot, schedule_id),
        )

    def set_expand_day(self, uids: Iterable[str], day: int) -> None:
        """The stored local digests of these expanded items are those of `day`'s window."""
        for uid in uids:
            self._write("UPDATE items SET expand_day=? WHERE uid=?", (day, uid))

    def set_listing_digests(self, digests: Mapping[str, str]) -> None:
        """schedule_id -> listing digest, after a `get` confirmed the stored digests."""
        for sid, digest in digests.items():
            self._write("UPDATE slots SET listing_digest=? WHERE schedule_id=?", (digest, sid))

    # -- intents ----------------------------------------------------------

    def add_intent(self, intent: Intent) -> int:
        cur = self._write(
            "INSERT INTO intents(uid, slot, op, schedule_id, summary, start_time, end_time,"
            " created) VALUES(?,?,?,?,?,?,?,?)",
            (
                intent.uid,
                intent.slot,
                intent.op,
                intent.schedule_id,
                intent.summary,
                intent.start_time,
                intent.end_time,
                time.time(),
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def clear_intent(self, intent_id: int) -> None:
        self._write("DELETE FROM intents WHERE id=?", (intent_id,))

    def watch_intent(self, intent_id: int) -> None:
        """Keep an unconfirmed add as a watch: its request may still be applied late."""
        self._write("UPDATE intents SET op='watch' WHERE id=?", (intent_id,))

    def intents(self) -> list[Intent]:
        return [
            Intent(
                id=row[0],
                uid=row[1],
                slot=row[2],
                op=row[3],
                schedule_id=row[4],
                summary=row[5],
                start_time=row[6],
                end_time=row[7],
                created=row[8],
            )
            for row in self._db.execute(
                "SELECT id, uid, slot, op, schedule_id, summary, start_time, end_time, created"
                " FROM intents ORDER BY id"
            )
        ]

    # -- problems -----------------------------------------------------------

    def set_file_problems(self, problems: Mapping[str, Iterable[SyncProblem]]) -> None:
        """href -> what the translator said about that file now (replacing the old)."""
        for href, found in problems.items():
            self._write("DELETE FROM problems WHERE href=?", (href,))
            for p in found:
                self._write(
                    "INSERT INTO problems(href, kind, message, path, uid, recurrence_id,"
                    " schedule_id) VALUES(?,?,?,?,?,?,?)",
                    (href, p.kind, p.message, p.path, p.uid, p.recurrence_id, p.schedule_id),
                )

    def keep_file_problems(self, hrefs: set[str]) -> None:
        """Forget the problems of files that are no longer there."""
        held = [r[0] for r in self._db.execute("SELECT DISTINCT href FROM problems")]
        for href in held:
            if href not in hrefs:
                self._write("DELETE FROM problems WHERE href=?", (href,))

    def file_problems(self) -> list[SyncProblem]:
        if not self._has_table("problems"):
            return []  # a read-only look at a database from before the table
        return [
            SyncProblem(
                kind=r[0], message=r[1], path=r[2], uid=r[3], recurrence_id=r[4], schedule_id=r[5]
            )
            for r in self._db.execute(
                "SELECT kind, message, path, uid, recurrence_id, schedule_id FROM problems"
                " ORDER BY rowid"
            )
        ]

    def _has_table(self, name: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
        ).fetchone()
        return row is not None

    # -- conflicts and meta -------------------------------------------------

    def log_conflict(self, uid: str, resolution: str) -> None:
        self._write(
            "INSERT INTO conflicts(uid, resolution, at) VALUES(?,?,?)",
            (uid, resolution, time.time()),
        )

    def conflicts_since(self, since: float) -> list[tuple[str, str, float]]:
        return [
            (r[0], r[1], r[2])
            for r in self._db.execute(
                "SELECT uid, resolution, at FROM conflicts WHERE at >= ? ORDER BY id", (since,)
            )
        ]

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._write(
            "INSERT INTO meta(key, value) VALUES(?,?)"
            " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def get_json(self, key: str) -> object:
        raw = self.get_meta(key)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: object) -> None:
        self.set_meta(key, json.dumps(value, sort_keys=True))


def _make_private_dir(path: Path) -> None:
    # a state dir holds mappings and the token cache: nobody else's business;
    # an existing directory is the user's choice and keeps its mode
    if not path.is_dir():
        path.mkdir(parents=True, mode=0o700)
