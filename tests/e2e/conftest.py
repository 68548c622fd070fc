"""End-to-end harness: a real folder (or .ics file), a real status database, and
the emulator over loopback HTTP."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.sync.helpers import know_sequence, loopback_client, make_calendar, writes
from wesync.config import PairConfig
from wesync.sync.engine import run_pair
from wesync.sync.report import PairReport

TZ = "Asia/Shanghai"


def vevent(
    uid: str,
    summary: str,
    start: str,
    end: str,
    *,
    rrule: str | None = None,
    exdates: tuple[str, ...] = (),
    recurrence_id: str | None = None,
    extra: str = "",
) -> str:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T000000Z",
        f"SUMMARY:{summary}",
        f"DTSTART;TZID={TZ}:{start}",
        f"DTEND;TZID={TZ}:{end}",
    ]
    if recurrence_id:
        lines.append(f"RECURRENCE-ID;TZID={TZ}:{recurrence_id}")
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines.extend(f"EXDATE;TZID={TZ}:{x}" for x in exdates)
    if extra:
        lines.extend(extra.strip().splitlines())
    lines.append("END:VEVENT")
    return "\r\n".join(lines) + "\r\n"


def calendar(*events: str) -> bytes:
    body = "".join(events)
    text = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\n{body}END:VCALENDAR\r\n"
    return text.encode()


class Env:
    def __init__(self, server: Any, tmp_path: Path, *, single_file: bool = False, **pair: Any):
        self.server = server
        self.cal_id = make_calendar(server)
        self.tmp = tmp_path
        if single_file:
            self.local = tmp_path / "calendar.ics"
            self.local.write_bytes(calendar())
        else:
            self.local = tmp_path / "calendar"
            self.local.mkdir()
        self.state = tmp_path / "state"
        self.pair = PairConfig(name="team", local=self.local, cal_id=self.cal_id, **pair)

    async def sync(self, **kw: Any) -> PairReport:
        self.state.mkdir(mode=0o700, exist_ok=True)
        token_cache = self.state / "token.json"
        async with loopback_client(self.server, token_cache=token_cache) as client:
            return await run_pair(self.pair, client=client, state_dir=self.state, **kw)

    async def sync_ok(self, **kw: Any) -> PairReport:
        report = await self.sync(**kw)
        assert report.ok, (report.error, report.problems)
        return report

    def know_sequence(self, answer: str = "per-change") -> None:
        """Tell wesync how WeCom's listing `sequence` moves, as it learns it itself
        (wesync.sync.sequence), so that a test of a first sync's calls does not see
        the one unchanged update with which wesync looks."""
        know_sequence(self.state, self.pair.name, answer)

    def write_config(self, path: Path, *, secret: str | None = None, wecom: str = "") -> Path:
        """A wesync config file for this pair; `wecom`: more lines for [wecom]."""
        path.write_text(
            f"""
[wecom]
corpid = "{self.server.corpid}"
corpsecret = "{secret or self.server.corpsecret}"
base_url = "{self.server.url}"
{wecom}
[state]
dir = "{self.state}"

[[pairs]]
name = "team"
local = "{self.local}"
cal_id = "{self.cal_id}"
""",
            encoding="utf-8",
        )
        path.chmod(0o600)
        return path

    def write(self, name: str, data: bytes) -> None:
        path = self.local / name
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.local.glob("*.ics"))}

    def mtimes(self) -> dict[str, int]:
        if self.local.is_file():
            return {self.local.name: self.local.stat().st_mtime_ns}
        return {p.name: p.stat().st_mtime_ns for p in self.local.iterdir()}

    def schedules(self) -> list[dict[str, Any]]:
        """Every live schedule in the pair's calendar, fully read."""
        return self.server.live_schedules(self.cal_id)

    def summaries(self) -> list[str]:
        return sorted(s.get("summary", "") for s in self.schedules())

    def add_schedule(self, **fields: Any) -> str:
        body = {"cal_id": self.cal_id, **fields}
        answer = self.server.call("/cgi-bin/oa/schedule/add", {"schedule": body})
        assert answer["errcode"] == 0, answer
        sid: str = answer["schedule_id"]
        return sid

    def fault(self, path: str, kind: str, times: int = 1, **extra: Any) -> None:
        self.server.admin("POST", "faults", {"path": path, "times": times, "kind": kind, **extra})

    async def assert_quiet(self) -> None:
        """A sync right after a sync writes nothing, on either side."""
        self.server.admin("DELETE", "requests")
        before = self.mtimes()
        report = await self.sync_ok()
        assert writes(self.server) == []
        assert self.mtimes() == before
        assert report.writes == 0 and report.conflicts == 0, report.to_json()


#: the worst plausible answer to each question WeCom's documentation leaves open
#: (issue 11; wesync.emulator.variants): every e2e test runs under it too
WORST = {
    "sequence": "frozen",
    "listing": "sample",
    "update-exclusions": "clear",
    "get": "partial",
    "order": "start-time",
    "callbacks": "all",
}
#: each other answer on its own as well, with WESYNC_SLOW=1
SINGLE = {
    f"{key}={value}": {key: value}
    for key, value in (
        ("sequence", "frozen"),
        ("sequence", "absent"),
        ("listing", "full"),
        ("update-exclusions", "clear"),
        ("get", "partial"),
        ("order", "start-time"),
        ("callbacks", "all"),
    )
}
VARIANTS: dict[str, dict[str, str]] = {
    "default": {},
    "worst": WORST,
    **(SINGLE if os.environ.get("WESYNC_SLOW") == "1" else {}),
}


@pytest.fixture(params=list(VARIANTS))
def emulator_server(request: pytest.FixtureRequest, emulator_server: Any) -> Any:
    """The session's emulator, under one set of answers to WeCom's open questions.
    A test about the cost under the default answers is marked `default_answers`."""
    if request.param != "default" and request.node.get_closest_marker("default_answers"):
        pytest.skip("about the cost under the default answers")
    emulator_server.emulator.configure(variants=VARIANTS[request.param])
    return emulator_server


@pytest.fixture
def env(emulator_server: Any, tmp_path: Path) -> Env:
    return Env(emulator_server, tmp_path)


@pytest.fixture
def make_env(emulator_server: Any, tmp_path: Path) -> Any:
    def make(**kw: Any) -> Env:
        sub = tmp_path / f"env{len(list(tmp_path.iterdir()))}"
        sub.mkdir()
        return Env(emulator_server, sub, **kw)

    return make
