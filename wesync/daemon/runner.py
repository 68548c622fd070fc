"""How the daemon runs one pair: the sync engine with the shared client, or a test double."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from wesync.config import PairConfig

log = logging.getLogger("wesync.daemon")


@dataclass(frozen=True)
class RunResult:
    ok: bool
    error: str | None = None
    local_writes: int = 0  #: files wesync created, changed or removed in this run
    summary: str = ""


class PairRunner(Protocol):
    async def __call__(self, pair: PairConfig) -> RunResult: ...


def _count(report: Any, *names: str) -> int:
    return sum(int(getattr(report, n, 0) or 0) for n in names)


def result_from_report(report: Any) -> RunResult:
    """A RunResult from the engine's PairReport (read by attribute, so the daemon
    depends only on the names CONTRACT.md's `sync --json` uses)."""
    local = _count(report, "created_local", "updated_local", "deleted_local")
    remote = _count(report, "created_remote", "updated_remote", "deleted_remote")
    summary = (
        f"{local} local and {remote} remote changes, "
        f"{_count(report, 'conflicts')} conflicts, {_count(report, 'skipped')} skipped"
    )
    error = getattr(report, "error", None)
    return RunResult(
        ok=bool(getattr(report, "ok", False)),
        error=str(error) if error else None,
        local_writes=local,
        summary=summary,
    )


class EngineRunner:
    """Runs `wesync.sync.engine.run_pair` with one WeCom client shared by all pairs."""

    def __init__(self, client: Any, state_dir: Path) -> None:
        self.client = client
        self.state_dir = state_dir
        # imported late so the daemon's machinery (and its tests) load without the engine
        self._run_pair = importlib.import_module("wesync.sync.engine").run_pair

    async def __call__(self, pair: PairConfig) -> RunResult:
        report = await self._run_pair(pair, client=self.client, state_dir=self.state_dir)
        return result_from_report(report)


def api_calls_from_stats(stats: Any) -> Mapping[tuple[str, str], int]:
    """wesync_api_calls_total's samples from the client's counters.

    A joint (endpoint, errcode) counter is used when the client keeps one;
    otherwise calls are counted per endpoint with errcode "" (the client's
    errcode counter is not broken down by endpoint).
    """
    joint = getattr(stats, "by_endpoint_errcode", None)
    if joint is not None:
        return {(str(e), str(c)): int(n) for (e, c), n in dict(joint).items()}
    calls = getattr(stats, "calls", None) or {}
    return {(str(e), ""): int(n) for e, n in dict(calls).items()}


def errcodes_from_stats(stats: Any) -> Mapping[str, int]:
    codes = getattr(stats, "errcodes", None) or {}
    return {str(c): int(n) for c, n in dict(codes).items()}
