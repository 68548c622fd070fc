"""Pieces of the end-to-end benchmark: an emulator process, an admin client that
acts as "another WeCom client", and one measured `wesync sync` child process.

Every figure comes from the operating system (wait4) or from the emulator's
request log; nothing here estimates.
"""

from __future__ import annotations

import collections
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

GETTOKEN = "/cgi-bin/gettoken"
ADD = "/cgi-bin/oa/schedule/add"
UPDATE = "/cgi-bin/oa/schedule/update"
GET = "/cgi-bin/oa/schedule/get"
LIST = "/cgi-bin/oa/schedule/get_by_calendar"
CORPID = "wwemulator"
CORPSECRET = "emulator-secret"
#: a quota no benchmark reaches, for the phases that measure wesync rather than the quota
UNBOUNDED_RATE = 100_000_000
ERR_RATE_LIMITED = 45009


def compile_wesync() -> int:
    """Byte-compile the wesync package being measured; returns how many files failed.

    A `pip install` compiles a package; an editable install run with
    PYTHONDONTWRITEBYTECODE=1 (as here) never writes .pyc files, so every
    measured run would compile wesync's hundred modules from source: a fixed
    cost no user pays, which hid what a run itself costs."""
    import compileall

    import wesync

    folder = Path(wesync.__file__).parent
    return 0 if compileall.compile_dir(str(folder), quiet=1) else 1


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def short(path: str) -> str:
    """'/cgi-bin/oa/schedule/add' -> 'schedule/add'."""
    return path.removeprefix("/cgi-bin/oa/").removeprefix("/cgi-bin/")


class EmulatorProcess:
    """`wesync emulator` in its own process on a free loopback port, state in memory."""

    def __init__(self, workdir: Path, *, rate_limit: int = UNBOUNDED_RATE) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.rate_limit = rate_limit
        self._log_path = workdir / f"emulator-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> EmulatorProcess:
        command = [
            sys.executable, "-m", "wesync", "emulator",
            "--port", str(self.port),
            "--listing", "sample",
            "--rate-limit", str(self.rate_limit),
        ]
        with self._log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + 20
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the emulator exited: {self._log_path.read_text()}")
            try:
                httpx.get(f"{self.url}/_emulator/requests", timeout=1).raise_for_status()
                return self
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the emulator did not start within 20 s") from None
                time.sleep(0.05)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


class WeComAdmin:
    """Talks to the emulator as another WeCom app client (API with a token) and
    as its administrator (/_emulator/*)."""

    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=url, timeout=120)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def token(self) -> str:
        if self._token is None:
            answer = self._http.get(
                GETTOKEN, params={"corpid": CORPID, "corpsecret": CORPSECRET}
            ).json()
            if answer.get("errcode"):
                raise RuntimeError(f"gettoken failed: {answer}")
            self._token = str(answer["access_token"])
        return self._token

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self._http.post(
            path, params={"access_token": self.token()}, json=body
        ).json()
        if answer.get("errcode"):
            raise RuntimeError(f"{path} failed: {answer}")
        return answer

    def create_calendar(self, summary: str) -> str:
        answer = self.call(
            "/cgi-bin/oa/calendar/add", {"calendar": {"summary": summary, "color": "#1E90FF"}}
        )
        return str(answer["cal_id"])

    def list_schedules(self, cal_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self.call(LIST, {"cal_id": cal_id, "offset": len(found), "limit": 1000})
            items = page.get("schedule_list") or []
            found.extend(items)
            if len(items) < 1000:
                return found

    def get_schedules(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i in range(0, len(ids), 1000):
            answer = self.call(GET, {"schedule_id_list": list(ids[i : i + 1000])})
            out.extend(answer.get("schedule_list") or [])
        return out

    def requests(self) -> list[dict[str, Any]]:
        answer = self._http.get("/_emulator/requests")
        answer.raise_for_status()
        log: list[dict[str, Any]] = answer.json()["requests"]
        return log

    def clear_requests(self) -> None:
        self._http.delete("/_emulator/requests").raise_for_status()


def update_body(schedule: dict[str, Any], summary: str) -> dict[str, Any]:
    """A schedule/update body that keeps everything `get` returned but the summary,
    as a WeCom client editing the title would send it (update overwrites all)."""
    reminders = {k: v for k, v in schedule.get("reminders", {}).items() if k != "exclude_time_list"}
    body: dict[str, Any] = {
        "schedule_id": schedule["schedule_id"],
        "summary": summary,
        "start_time": schedule["start_time"],
        "end_time": schedule["end_time"],
        "is_whole_day": schedule.get("is_whole_day", 0),
        "reminders": reminders,
        "attendees": [{"userid": a["userid"]} for a in schedule.get("attendees", [])],
    }
    for key in ("admins", "description", "location"):
        if schedule.get(key):
            body[key] = schedule[key]
    return {"schedule": body, "skip_attendees": 0, "op_mode": 0}


def write_config(
    path: Path, *, url: str, cal_id: str, local: Path, state: Path, rate_limit: int
) -> Path:
    path.write_text(
        "[wecom]\n"
        f'corpid = "{CORPID}"\n'
        f'corpsecret = "{CORPSECRET}"\n'
        f'base_url = "{url}"\n'
        f"rate_limit = {rate_limit}\n"
        "\n[state]\n"
        f'dir = "{state}"\n'
        "\n[[pairs]]\n"
        'name = "bench"\n'
        f'local = "{local}"\n'
        f'cal_id = "{cal_id}"\n'
        # the generator's attendees are userN@example.com: map them, so attendees travel
        'user_domain = "example.com"\n',
        encoding="utf-8",
    )
    # wesync warns about a group-readable config holding a secret
    path.chmod(0o600)
    return path


@dataclass
class SyncRun:
    """One `wesync sync --json` process, measured."""

    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    exit_code: int
    api_calls: int  #: every WeCom API call but gettoken
    gettoken: int
    calls: dict[str, int]  #: by endpoint (short path), gettoken excluded
    errcodes: dict[str, int]  #: non-zero errcodes the emulator answered, by code
    report: dict[str, Any] | None  #: wesync's own JSON for the pair
    stderr_lines: int

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "cpu_s": self.cpu_s}


def count_calls(log: list[dict[str, Any]]) -> tuple[dict[str, int], int, dict[str, int]]:
    calls: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    gettoken = 0
    for entry in log:
        if entry["path"] == GETTOKEN:
            gettoken += 1
        else:
            calls[short(entry["path"])] += 1
        if entry.get("errcode"):
            errors[str(entry["errcode"])] += 1
    return dict(sorted(calls.items())), gettoken, dict(errors)


def run_sync(
    config: Path,
    admin: WeComAdmin,
    workdir: Path,
    *,
    extra: Sequence[str] = (),
    timeline: CallTimeline | None = None,
) -> SyncRun:
    """Run `python -m wesync -c CONFIG sync --json` as a child and measure it alone.

    wait4 gives the child's own rusage (CPU and peak RSS), untouched by this
    process or the emulator; the API calls are the emulator's request log,
    cleared right before.
    """
    admin.clear_requests()
    if timeline is not None:
        timeline.start()
    out_path = workdir / "sync.stdout"
    err_path = workdir / "sync.stderr"
    command = [sys.executable, *extra, "-m", "wesync", "-c", str(config), "sync", "--json"]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    if timeline is not None:
        timeline.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)  # wait4 reaped it, not Popen
    calls, gettoken, errors = count_calls(admin.requests())
    report = None
    try:
        pairs = json.loads(out_path.read_text(encoding="utf-8"))["pairs"]
        report = pairs[0] if pairs else None
    except (ValueError, KeyError, IndexError):
        pass
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0 or report is None or not report.get("ok"):
        tail = "\n".join(stderr.splitlines()[-20:])
        raise RuntimeError(
            f"wesync sync failed (exit {proc.returncode}): {out_path.read_text()}\n{tail}"
        )
    return SyncRun(
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        exit_code=proc.returncode,
        api_calls=sum(calls.values()),
        gettoken=gettoken,
        calls=calls,
        errcodes=errors,
        report=report,
        stderr_lines=len(stderr.splitlines()),
    )


@dataclass
class CallTimeline:
    """When each call reached the emulator, sampled by polling its request log.

    The log gives order, not time: entries that appear between two polls are
    spread evenly over that interval, so a time is off by at most one poll
    interval (0.25 s by default).
    """

    admin_url: str
    interval: float = 0.25
    times: dict[str, list[float]] = field(default_factory=dict)
    errcodes: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)
    _seen: int = 0
    _last: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._last = time.perf_counter()
        self._thread = threading.Thread(target=self._poll, name="bench-timeline", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with httpx.Client(base_url=self.admin_url, timeout=60) as http:
            self._sample(http)  # whatever arrived after the last poll

    def _poll(self) -> None:
        with httpx.Client(base_url=self.admin_url, timeout=60) as http:
            while not self._stop.wait(self.interval):
                self._sample(http)

    def _sample(self, http: httpx.Client) -> None:
        log = http.get("/_emulator/requests").json()["requests"]
        now = time.perf_counter()
        fresh = log[self._seen :]
        for k, entry in enumerate(fresh, start=1):
            if entry.get("errcode"):
                self.errcodes[(entry["path"], entry["errcode"])] += 1
                continue  # throughput counts served calls only
            at = self._last + (now - self._last) * k / len(fresh)
            self.times.setdefault(entry["path"], []).append(at)
        self._seen = len(log)
        self._last = now


def windows(times: list[float], size: int) -> Iterator[float]:
    """Time spans of every run of `size` + 1 consecutive calls."""
    for i in range(len(times) - size):
        yield times[i + size] - times[i]


def busiest_minute(times: list[float]) -> int:
    """The most calls in any 60-second span."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 60:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
