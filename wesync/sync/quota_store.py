"""The app's count of schedules created per WeCom day, on disk.

One small SQLite file in the state directory, ``add-quota.sqlite`` (0600,
WAL), shared by every pair of every wesync process using that state
directory: WeCom's quota is per app, not per pair, and SQLite's locking makes
the check-and-count of `reserve` atomic across processes.

- ``adds``: (app, day) -> schedules added (or possibly added: an add whose
  answer was lost counts) that WeCom day. Days older than a week are dropped.
- ``refusals``: app -> the day, errcode and time WeCom last refused an add
  for the quota; cleared by the next add that lands.

`app` is the client's app key (corpid and a hash of the secret, as the token
cache is keyed), never the secret.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from wesync.errors import StatusError

QUOTA_FILE = "add-quota.sqlite"
#: the pair's status database's meta key for the last run's quota summary (the app
#: whose count `wesync status` shows, the limit, the events that wait)
QUOTA_META = "add_quota"
#: days of counts kept (for `wesync status` and for a look back when debugging)
KEEP_DAYS = 7

_DDL = """
CREATE TABLE IF NOT EXISTS adds (
    app TEXT NOT NULL,
    day TEXT NOT NULL,
    added INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app, day)
);
CREATE TABLE IF NOT EXISTS refusals (
    app TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    errcode INTEGER NOT NULL,
    at REAL NOT NULL,
    added INTEGER NOT NULL
);
"""


@dataclass(frozen=True, kw_only=True)
class Refusal:
    day: str  #: the WeCom day (UTC+8, ISO date) it happened on, by this machine's clock
    errcode: int
    at: float  #: epoch seconds
    added: int  #: schedules counted that day when WeCom refused


class QuotaStore:
    """The counts of one state directory. One instance per run; not thread-safe."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        try:
            if readonly:
                self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
                return
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # a count lost to a power cut (not a kill) costs at most a refusal by WeCom
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_DDL)
        except sqlite3.Error as exc:
            raise StatusError(f"{path}: cannot open the daily quota count: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, args)
        except sqlite3.Error as exc:
            raise StatusError(f"{self.path}: {exc}") from exc

    def used(self, app: str, day: str) -> int:
        row = self._run("SELECT added FROM adds WHERE app=? AND day=?", (app, day)).fetchone()
        return int(row[0]) if row else 0

    def reserve(self, app: str, day: str, limit: int) -> bool:
        """Count one add about to be sent, unless `limit` (> 0) is reached; 0: no limit."""
        self._run(
            "INSERT INTO adds(app, day, added) VALUES(?, ?, 0) ON CONFLICT(app, day) DO NOTHING",
            (app, day),
        )
        if limit > 0:
            cur = self._run(
                "UPDATE adds SET added = added + 1 WHERE app=? AND day=? AND added < ?",
                (app, day, limit),
            )
        else:
            cur = self._run("UPDATE adds SET added = added + 1 WHERE app=? AND day=?", (app, day))
        return cur.rowcount == 1

    def release(self, app: str, day: str) -> None:
        """Uncount an add that surely did not land."""
        self._run("UPDATE adds SET added = MAX(added - 1, 0) WHERE app=? AND day=?", (app, day))

    def prune(self, today: str) -> None:
        cutoff = (date.fromisoformat(today) - timedelta(days=KEEP_DAYS)).isoformat()
        self._run("DELETE FROM adds WHERE day < ?", (cutoff,))

    def refusal(self, app: str) -> Refusal | None:
        row = self._run(
            "SELECT day, errcode, at, added FROM refusals WHERE app=?", (app,)
        ).fetchone()
        if row is None:
            return None
        return Refusal(day=row[0], errcode=int(row[1]), at=float(row[2]), added=int(row[3]))

    def set_refusal(self, app: str, refusal: Refusal) -> None:
        self._run(
            "INSERT INTO refusals(app, day, errcode, at, added) VALUES(?, ?, ?, ?, ?)"
            " ON CONFLICT(app) DO UPDATE SET day=excluded.day, errcode=excluded.errcode,"
            " at=excluded.at, added=excluded.added",
            (app, refusal.day, refusal.errcode, refusal.at, refusal.added),
        )

    def clear_refusal(self, app: str) -> None:
        self._run("DELETE FROM refusals WHERE app=?", (app,))


def quota_path(state_dir: Path) -> Path:
    return state_dir / QUOTA_FILE
