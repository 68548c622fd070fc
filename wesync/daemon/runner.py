"""How the daemon runs one pair: the sync engine with the shared client, or a test double."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from wesync.config import DEFAULT_DAILY_ADD_QUOTA, PairConfig

if TYPE_CHECKING:
    from wesync.wecom.client import ClientStats

log = logging.getLogger("wesync.daemon")

NO_ANSWER = "none"  #: errcode label of calls that got no JSON answer


@dataclass(frozen=True)
class RunResult:
    ok: bool
    error: str | None = None
    local_writes: int = 0  #: files wesync created, changed or removed in this run
    summary: str = ""
    #: WeCom schedules this run wrote (their callbacks are its own echo)
    written_ids: frozenset[str] = frozenset()
    #: writes per schedule, where a schedule had more than one (each has its callback)
    write_counts: Mapping[str, int] = field(default_factory=dict)


class PairRunner(Protocol):
    async def __call__(
        self, pair: PairConfig, *, schedule_ids: Collection[str] = ()
    ) -> RunResult: ...


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
        written_ids=frozenset(getattr(report, "written_ids", ()) or ()),
        write_counts=dict(getattr(report, "write_counts", {}) or {}),
    )


class EngineRunner:
    """Runs `wesync.sync.engine.run_pair` with one WeCom client shared by all pairs."""

    def __init__(
        self, client: Any, state_dir: Path, daily_add_quota: int = DEFAULT_DAILY_ADD_QUOTA
    ) -> None:
        self.client = client
        self.state_dir = state_dir
        self.daily_add_quota = daily_add_quota
        # imported late so the daemon's machinery (and its tests) load without the engine
        self._run_pair = importlib.import_module("wesync.sync.engine").run_pair

    async def __call__(
        self, pair: PairConfig, *, schedule_ids: Collection[str] = ()
    ) -> RunResult:
        report = await self._run_pair(
            pair,
            client=self.client,
            state_dir=self.state_dir,
            daily_add_quota=self.daily_add_quota,
            fetch_ids=schedule_ids,
        )
        return result_from_report(report)


def api_calls_from_stats(stats: ClientStats | None) -> Mapping[tuple[str, str], int]:
    """wesync_api_calls_total's samples from the client's ClientStats.

    Answered calls come from the joint (endpoint, errcode) counter; calls
    that got no usable answer (timeouts, dropped connections, HTTP errors)
    come from `transport_errors`, labelled errcode "none". Both only ever
    grow, as a Prometheus counter must (`calls` minus the answered would
    dip while a call is in flight).
    """
    if stats is None:
        return {}
    out = {(endpoint, str(errcode)): n
           for (endpoint, errcode), n in stats.by_endpoint_errcode.items()}
    for endpoint, n in stats.transport_errors.items():
        out[(endpoint, NO_ANSWER)] = n
    return out


def errcodes_from_stats(stats: ClientStats | None) -> Mapping[str, int]:
    """wesync_api_responses_total's samples: answers by errcode, all endpoints together."""
    if stats is None:
        return {}
    return {str(c): n for c, n in stats.errcodes.items()}
