"""What `wesync status` shows for a pair, read from its status database only."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wesync.config import PairConfig
from wesync.errors import StatusError
from wesync.sync.problems import SyncProblem, group_by_kind
from wesync.sync.quota_store import QUOTA_META, QuotaStore, quota_path
from wesync.sync.status import StatusDB, status_path


def pair_status(pair: PairConfig, state_dir: Path) -> dict[str, Any]:
    """name, last_sync (ISO 8601 or None), result, error, events, schedules,
    conflicts (in the last sync), pending (writes a killed run left to finish),
    quota (the app's schedules created today against daily_add_quota, and the
    events that wait for it: see wesync.sync.quota.status_of; None before a sync),
    problems (kind -> problem objects: see `known_problems`)."""
    row: dict[str, Any] = {
        "name": pair.name,
        "last_sync": None,
        "result": None,
        "error": None,
        "events": 0,
        "schedules": 0,
        "conflicts": 0,
        "pending": 0,
        "quota": None,
        "note": None,
        "problems": {},
    }
    path = status_path(state_dir, pair.name)
    if not path.exists():
        row["note"] = "never synced"
        return row
    try:
        with StatusDB(path, readonly=True) as db:
            items = db.load()
            last = db.get_meta("last_sync")
            row["last_sync"] = (
                datetime.fromtimestamp(float(last), UTC).astimezone().isoformat() if last else None
            )
            row["result"] = db.get_meta("last_result")
            row["error"] = db.get_meta("last_error") or None
            counts = db.get_json("last_counts")
            if isinstance(counts, dict):
                row["conflicts"] = int(counts.get("conflicts", 0))
            row["events"] = sum(1 for i in items.values() if i.href)
            row["schedules"] = sum(len(i.schedule_ids()) for i in items.values())
            row["pending"] = sum(1 for i in items.values() if i.pending) + len(db.intents())
            row["quota"] = _quota(db.get_json(QUOTA_META), state_dir)
            row["problems"] = {
                kind: [p.to_json() for p in found]
                for kind, found in group_by_kind(known_problems(db)).items()
            }
    except StatusError as exc:
        row["error"] = str(exc)
    quota = row["quota"]
    if quota is not None and quota["waiting"]:
        row["note"] = (
            f"{quota['waiting']} events wait for the daily creation quota "
            f"(until {quota['resets_at']})"
        )
    if row["pending"]:
        row["note"] = f"{row['pending']} interrupted writes; the next sync finishes them"
    return row


def _quota(summary: object, state_dir: Path) -> dict[str, Any] | None:
    from wesync.sync.quota import status_of

    path = quota_path(state_dir)
    if not path.exists():
        return status_of(summary, None, time.time())
    store = QuotaStore(path, readonly=True)
    try:
        return status_of(summary, store, time.time())
    finally:
        store.close()


def known_problems(db: StatusDB) -> list[SyncProblem]:
    """What is true now: each file's translation problems, whichever run found
    them (a file is translated again only when it changes), and the last run's
    other problems (files that do not parse, unreadable schedules, failed writes)."""
    last = db.get_json("last_problems")
    run = (
        [SyncProblem.from_json(p) for p in last if isinstance(p, dict)]
        if isinstance(last, list)
        else []
    )
    return db.file_problems() + run
