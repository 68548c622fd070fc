"""Injected failures: the next N calls to a path fail in a chosen way."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wesync.emulator.errors import AdminRequestError

KINDS = frozenset({"errcode", "http_status", "drop_after_commit", "delay"})
MAX_DELAY_SECONDS = 300.0


@dataclass(frozen=True)
class Fault:
    """One way of failing. Only the field that `kind` needs is meaningful."""

    kind: str
    errcode: int = 0
    status: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class FaultRequest:
    path: str
    times: int
    fault: Fault


def parse_fault(body: Mapping[str, Any]) -> FaultRequest:
    """Read a POST /_emulator/faults body; raise AdminRequestError naming what is wrong."""
    path = body.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise AdminRequestError("fault 'path' must be an API path such as /cgi-bin/oa/schedule/add")
    times = body.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise AdminRequestError("fault 'times' must be a positive integer")
    kind = body.get("kind")
    if kind not in KINDS:
        raise AdminRequestError(f"fault 'kind' must be one of {sorted(KINDS)}")
    if kind == "errcode":
        code = body.get("errcode")
        if isinstance(code, bool) or not isinstance(code, int) or code == 0:
            raise AdminRequestError("fault kind 'errcode' needs a non-zero integer 'errcode'")
        return FaultRequest(path, times, Fault(kind, errcode=code))
    if kind == "http_status":
        status = body.get("status")
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise AdminRequestError("fault kind 'http_status' needs an integer 'status'")
        return FaultRequest(path, times, Fault(kind, status=status))
    if kind == "delay":
        seconds = body.get("seconds")
        if (isinstance(seconds, bool) or not isinstance(seconds, int | float)
                or not 0 <= seconds <= MAX_DELAY_SECONDS):
            raise AdminRequestError(f"fault kind 'delay' needs 'seconds' in 0..{MAX_DELAY_SECONDS}")
        return FaultRequest(path, times, Fault(kind, seconds=float(seconds)))
    return FaultRequest(path, times, Fault(kind))


class FaultQueue:
    """Faults per path, used first-in first-out; not thread-safe (the caller locks)."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[list[Any]]] = {}

    def add(self, request: FaultRequest) -> None:
        self._queues.setdefault(request.path, deque()).append([request.fault, request.times])

    def take(self, path: str) -> Fault | None:
        queue = self._queues.get(path)
        if not queue:
            return None
        entry = queue[0]
        entry[1] -= 1
        if entry[1] <= 0:
            queue.popleft()
        fault: Fault = entry[0]
        return fault

    def pending(self) -> list[dict[str, Any]]:
        return [
            {"path": path, "kind": fault.kind, "times": times}
            for path, queue in self._queues.items()
            for fault, times in queue
        ]

    def clear(self) -> None:
        self._queues.clear()
