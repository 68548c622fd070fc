"""Everything the emulated WeCom remembers, and how it is kept on disk.

Calendars and schedules are stored as the JSON dicts the API returns, plus a
few bookkeeping keys, so that persistence is a plain JSON dump. Dicts keep
insertion order, which is the creation order `get_by_calendar` lists in.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wesync.emulator.errors import EmulatorError
from wesync.emulator.variants import Variants

Json = dict[str, Any]
FORMAT_VERSION = 1
_ALNUM = string.ascii_letters + string.digits


@dataclass
class State:
    """The mutable world of one emulated corp.

    calendars: cal_id -> {"cal_id", "app", "deleted", "last_sequence", "fields": {...}}
    schedules: schedule_id -> {"app", "sequence", "data": <the get form>}
    tokens: access_token -> {"app": corpsecret, "expires_at": emulator time}
    apps: corpsecret -> agentid
    """

    # apps are keyed by corpsecret and tokens are live credentials: never in a repr
    apps: dict[str, int] = field(repr=False)
    calendars: dict[str, Json] = field(default_factory=dict, repr=False)
    schedules: dict[str, Json] = field(default_factory=dict, repr=False)
    tokens: dict[str, Json] = field(default_factory=dict, repr=False)
    clock_offset: float = 0.0
    #: the emulator's variants, kept here because every handler has the state at hand;
    #: configuration, not data: never persisted
    variants: Variants = field(default_factory=Variants, repr=False, compare=False)
    #: cal_id -> its schedule records in creation order (see calendar_schedules);
    #: a cache, never persisted
    _by_cal: dict[str, list[Json]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    #: (number of schedules, last schedule_id) when _by_cal was built
    _indexed: tuple[int, str | None] = field(
        default=(-1, None), init=False, repr=False, compare=False
    )

    def calendar_schedules(self, cal_id: str) -> list[Json]:
        """The schedules of one calendar in creation order (the order
        get_by_calendar lists in), without scanning every schedule on each page.

        Schedules are only ever added (at the end: dicts keep insertion order)
        or all cleared, and never change calendar, so the count and the last
        id tell whether the index still holds; records are shared, so edits
        show at once.
        """
        mark = (len(self.schedules), next(reversed(self.schedules), None))
        if mark != self._indexed:
            index: dict[str, list[Json]] = {}
            for rec in self.schedules.values():
                index.setdefault(rec["data"]["cal_id"], []).append(rec)
            self._by_cal = index
            self._indexed = mark
        return self._by_cal.get(cal_id, [])

    def to_json(self) -> Json:
        return {
            "version": FORMAT_VERSION,
            "apps": self.apps,
            "calendars": self.calendars,
            "schedules": self.schedules,
            "tokens": self.tokens,
            "clock_offset": self.clock_offset,
        }

    @classmethod
    def from_json(cls, data: Json) -> State:
        if data.get("version") != FORMAT_VERSION:
            raise EmulatorError(f"unsupported emulator state version {data.get('version')!r}")
        return cls(
            apps={str(k): int(v) for k, v in data["apps"].items()},
            calendars=dict(data["calendars"]),
            schedules=dict(data["schedules"]),
            tokens=dict(data["tokens"]),
            clock_offset=float(data.get("clock_offset", 0.0)),
        )


def new_cal_id() -> str:
    # shaped like the documented samples: "wc" + 30 letters and digits
    return "wc" + "".join(secrets.choice(_ALNUM) for _ in range(30))


def new_schedule_id() -> str:
    return secrets.token_hex(16)


def new_token() -> str:
    return "".join(secrets.choice(_ALNUM + "-_") for _ in range(96))


def load_state(path: Path) -> State | None:
    """The state saved at `path`, or None when there is no file yet."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EmulatorError(f"cannot read emulator state {path}: {exc.strerror}") from exc
    try:
        return State.from_json(json.loads(raw))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EmulatorError(f"emulator state {path} is not valid: {exc}") from exc


def save_state(path: Path, data: Json) -> None:
    write_atomic(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def write_atomic(path: Path, text: str) -> None:
    """Temp file in the same directory, fsync, rename, fsync the directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        # access tokens live in this file
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class Persister:
    """Saves after every change, unless the state has grown big enough to make that slow.

    The cost that grows with the state is serialising it; while that takes
    under `FAST` seconds (about a thousand schedules), every mutating call is
    on disk before its answer. Beyond, changes are coalesced so that saving
    takes about a tenth of the time: a pending save is written at most ten
    serialisation times later by a timer, and `flush()` (on close and at
    exit) writes whatever is still pending. Only a hard kill can lose that
    last moment of changes, which is acceptable for an emulator.
    """

    FAST = 0.002

    def __init__(self, path: Path, snapshot: Callable[[], Json], lock: threading.RLock) -> None:
        self.path = path
        self._snapshot = snapshot
        self._lock = lock
        self._dirty = False
        self._last_end = 0.0
        self._last_cost = 0.0
        self._timer: threading.Timer | None = None

    def changed(self) -> None:
        with self._lock:
            self._dirty = True
            wait = self._last_end + 10 * self._last_cost - time.monotonic()
            if self._last_cost < self.FAST or wait <= 0:
                self._save_locked()
            elif self._timer is None:
                self._timer = threading.Timer(wait, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._dirty:
                self._save_locked()

    def _save_locked(self) -> None:
        began = time.monotonic()
        text = json.dumps(self._snapshot(), ensure_ascii=False, separators=(",", ":"))
        self._last_cost = time.monotonic() - began
        write_atomic(self.path, text)
        self._dirty = False
        self._last_end = time.monotonic()
