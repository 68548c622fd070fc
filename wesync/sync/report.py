"""What one sync of one pair did (or, with --dry-run, would do)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from wesync.sync.actions import Plan

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
    #: one line per thing the user should know: unparsable files, losses, item errors
    problems: list[str] = field(default_factory=list)
    plan: Plan | None = None
    dry_run: bool = False
    #: True when the pair was refused for safety (--force overrides)
    refused: bool = False
    started: float = field(default_factory=time.time)
    finished: float | None = None
    #: WeCom calls this run, by endpoint path
    api_calls: dict[str, int] = field(default_factory=dict)

    def fail(self, message: str) -> None:
        self.ok = False
        if self.error is None:
            self.error = message

    def item_error(self, message: str) -> None:
        """One item failed; the run goes on, but the pair is not ok."""
        self.problems.append(message)
        self.ok = False
        if self.error is None:
            self.error = message
        elif not self.error.endswith("more item errors)"):
            self.error = f"{self.error} (and more item errors)"

    @property
    def writes(self) -> int:
        return sum(getattr(self, c) for c in COUNTERS[:6])

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "ok": self.ok, "error": self.error}
        for counter in COUNTERS:
            out[counter] = getattr(self, counter)
        return out

    def summary(self) -> str:
        return (
            f"local +{self.created_local} ~{self.updated_local} -{self.deleted_local}, "
            f"WeCom +{self.created_remote} ~{self.updated_remote} -{self.deleted_remote}, "
            f"{self.conflicts} conflicts, {self.skipped} skipped"
        )
