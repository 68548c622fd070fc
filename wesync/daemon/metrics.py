"""What the daemon knows about its own runs, for /healthz, /metrics and sd_notify STATUS."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

ApiCalls = Callable[[], Mapping[tuple[str, str], int]]


@dataclass
class PairStats:
    name: str
    runs_ok: int = 0
    runs_failed: int = 0
    last_run: float | None = None  #: wall time the last run finished
    last_ok: bool | None = None
    last_success: float | None = None
    last_error: str | None = None
    last_duration: float | None = None
    duration_sum: float = 0.0


@dataclass
class Metrics:
    """Mutable counters; only the daemon's event loop writes them."""

    interval: float
    started: float = field(default_factory=time.time)
    pairs: dict[str, PairStats] = field(default_factory=dict)
    api_calls: ApiCalls = field(default=lambda: {})
    api_errcodes: Callable[[], Mapping[str, int]] = field(default=lambda: {})
    clock: Callable[[], float] = time.time

    def set_pairs(self, names: Iterable[str]) -> None:
        """Keep the stats of pairs that stay; drop removed ones; add new ones."""
        names = list(names)
        self.pairs = {n: self.pairs.get(n) or PairStats(n) for n in names}

    def record(self, name: str, *, ok: bool, duration: float, error: str | None) -> None:
        stats = self.pairs.setdefault(name, PairStats(name))
        now = self.clock()
        stats.last_run = now
        stats.last_ok = ok
        stats.last_duration = duration
        stats.duration_sum += duration
        if ok:
            stats.runs_ok += 1
            stats.last_success = now
            stats.last_error = None
        else:
            stats.runs_failed += 1
            stats.last_error = error

    def pair_healthy(self, stats: PairStats) -> bool:
        now = self.clock()
        grace = 2 * self.interval
        if stats.last_ok:
            return True
        # failing (or not run yet): tolerated while the last success, or the
        # daemon's start for a pair that never succeeded, is recent
        since = stats.last_success if stats.last_success is not None else self.started
        return now - since < grace

    def health(self) -> tuple[bool, dict[str, object]]:
        pairs = {}
        for name, s in self.pairs.items():
            pairs[name] = {
                "healthy": self.pair_healthy(s),
                "last_run": _iso(s.last_run),
                "last_ok": s.last_ok,
                "last_success": _iso(s.last_success),
                "error": s.last_error,
                "runs_ok": s.runs_ok,
                "runs_failed": s.runs_failed,
            }
        healthy = all(bool(p["healthy"]) for p in pairs.values())
        body: dict[str, object] = {
            "status": "ok" if healthy else "failing",
            "started": _iso(self.started),
            "interval_seconds": self.interval,
            "pairs": pairs,
        }
        return healthy, body

    def status_line(self) -> str:
        """For sd_notify STATUS: "last sync 12:00:03, 3 pairs ok"."""
        runs = [s for s in self.pairs.values() if s.last_run is not None]
        if not runs:
            return f"waiting for the first sync of {len(self.pairs)} pairs"
        last = max(s.last_run or 0.0 for s in runs)
        ok = sum(1 for s in self.pairs.values() if s.last_ok)
        failed = [s.name for s in self.pairs.values() if s.last_ok is False]
        text = f"last sync {time.strftime('%H:%M:%S', time.localtime(last))}, {ok} pairs ok"
        if failed:
            text += f", failing: {', '.join(sorted(failed))}"
        return text

    def prometheus(self) -> str:
        out: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")

        pairs = sorted(self.pairs.values(), key=lambda s: s.name)
        family("wesync_syncs_total", "counter", "Sync runs per pair by result.")
        for s in pairs:
            out.append(f'wesync_syncs_total{{pair="{_esc(s.name)}",result="ok"}} {s.runs_ok}')
            out.append(
                f'wesync_syncs_total{{pair="{_esc(s.name)}",result="failed"}} {s.runs_failed}'
            )
        family("wesync_sync_failures_total", "counter", "Failed sync runs per pair.")
        for s in pairs:
            out.append(f'wesync_sync_failures_total{{pair="{_esc(s.name)}"}} {s.runs_failed}')
        family(
            "wesync_last_success_timestamp_seconds",
            "gauge",
            "When a pair last synced without error.",
        )
        for s in pairs:
            if s.last_success is not None:
                out.append(
                    f'wesync_last_success_timestamp_seconds{{pair="{_esc(s.name)}"}} '
                    f"{s.last_success:.3f}"
                )
        family("wesync_sync_duration_seconds", "summary", "How long sync runs take.")
        for s in pairs:
            label = f'pair="{_esc(s.name)}"'
            out.append(f"wesync_sync_duration_seconds_sum{{{label}}} {s.duration_sum:.6f}")
            out.append(f"wesync_sync_duration_seconds_count{{{label}}} {s.runs_ok + s.runs_failed}")
        family("wesync_api_calls_total", "counter", "WeCom API calls by endpoint and errcode.")
        for (endpoint, errcode), n in sorted(self.api_calls().items()):
            out.append(
                f'wesync_api_calls_total{{endpoint="{_esc(endpoint)}",errcode="{_esc(errcode)}"}}'
                f" {n}"
            )
        family("wesync_api_responses_total", "counter", "WeCom API answers by errcode.")
        for errcode, n in sorted(self.api_errcodes().items()):
            out.append(f'wesync_api_responses_total{{errcode="{_esc(errcode)}"}} {n}')
        return "\n".join(out) + "\n"


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(ts))
