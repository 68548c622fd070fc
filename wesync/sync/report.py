"""What one sync of one pair did (or, with --dry-run, would do)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from wesync.sync.actions import Plan
from wesync.sync.problems import Kind, SyncKind, SyncProblem

#: the counters `wesync sync --json` prints, in CONTRACT.md's order
COUNTERS = (
    "created_local",
    "updated_local",
    "deleted_local",
    "created_remote",
    "updated_remote",
    "deleted_remote",
    "conflicts",
    "skipped",
)


@dataclass(kw_only=True)
class PairReport:
    name: str
    ok: bool = True
    error: str | None = None
    created_local: int = 0
    updated_local: int = 0
    deleted_local: int = 0
    created_remote: int = 0
    updated_remote: int = 0
    deleted_remote: int = 0
    conflicts: int = 0
    skipped: int = 0
    #: everything the user should know: unparsable files, losses, item errors
    problems: list[SyncProblem] = field(default_factory=list)
    plan: Plan | None = None
    dry_run: bool = False
    #: True when the pair was refused for safety (--force overrides)
    refused: bool = False
    started: float = field(default_factory=time.time)
    finished: float | None = None
    #: WeCom calls this run, by endpoint path
    api_calls: dict[str, int] = field(default_factory=dict)
    #: WeCom schedules this run added, changed or deleted (the daemon takes the
    #: callbacks WeCom may send for them as their echo)
    written_ids: set[str] = field(default_factory=set)
    #: how many writes each of them had (an add and a later update are two callbacks)
    write_counts: dict[str, int] = field(default_factory=dict)
    #: the daily creation quota stopped the adds: what waits and until when
    quota_line: str | None = None

    def fail(self, message: str) -> None:
        self.ok = False
        if self.error is None:
            self.error = message

    def problem(
        self,
        kind: Kind,
        message: str,
        *,
        path: str | None = None,
        uid: str | None = None,
        recurrence_id: int | None = None,
        schedule_id: str | None = None,
    ) -> SyncProblem:
        """Add one problem (see SyncProblem.of); returned for the caller's own use."""
        record = SyncProblem.of(
            kind,
            message,
            path=path,
            uid=uid,
            recurrence_id=recurrence_id,
            schedule_id=schedule_id,
        )
        self.problems.append(record)
        return record

    def item_error(self, message: str, *, path: str | None = None, uid: str | None = None) -> None:
        """One item failed; the run goes on, but the pair is not ok."""
        record = self.problem(SyncKind.ITEM_ERROR, message, path=path, uid=uid)
        self.ok = False
        if self.error is None:
            self.error = str(record)
        elif not self.error.endswith("more item errors)"):
            self.error = f"{self.error} (and more item errors)"

    @property
    def writes(self) -> int:
        return sum(getattr(self, c) for c in COUNTERS[:6])

    def to_json(self, *, problems: bool = True) -> dict[str, Any]:
        """CONTRACT.md's keys, then `problems` (all of them, in the order they arose)."""
        out: dict[str, Any] = {"name": self.name, "ok": self.ok, "error": self.error}
        for counter in COUNTERS:
            out[counter] = getattr(self, counter)
        if problems:
            out["problems"] = [p.to_json() for p in self.problems]
        return out

    def summary(self) -> str:
        return (
            f"local +{self.created_local} ~{self.updated_local} -{self.deleted_local}, "
            f"WeCom +{self.created_remote} ~{self.updated_remote} -{self.deleted_remote}, "
            f"{self.conflicts} conflicts, {self.skipped} skipped"
        )
