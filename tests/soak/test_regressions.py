"""Small, exact replays of what the soak found, as regular tests.

A run killed at a chosen point is simulated in-process: the chosen step of
the executor raises a BaseException (nothing in wesync catches those, as
nothing can catch SIGKILL), after the steps before it have committed what
they commit. Tests marked xfail(strict=True) show a bug that is not fixed
yet; whoever fixes it removes the mark.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from wesync.config import ConflictPolicy, PairConfig, Secret
from wesync.sync.engine import run_pair
from wesync.sync.execute import Executor
from wesync.sync.report import PairReport
from wesync.wecom.client import WeComClient
from wesync.wecom.retry import RetryPolicy

FAST = RetryPolicy(attempts=3, base=0.0, cap=0.0, total=5.0)


class Killed(BaseException):
    """Stands for SIGKILL at one exact point of a run."""


def _ics(uid: str, summary: str, start: str = "20270105T100000") -> bytes:
    end = f"{start[:9]}{int(start[9:11]) + 1:02d}{start[11:]}"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//soak regression//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:{summary}\r\n"
        f"DTSTART;TZID=Asia/Shanghai:{start}\r\nDTEND;TZID=Asia/Shanghai:{end}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


class Side:
    """A pair over the loopback emulator, synced in-process with run_pair."""

    def __init__(self, server: Any, tmp: Path, conflict: ConflictPolicy) -> None:
        self.server = server
        answer = server.call(
            "/cgi-bin/oa/calendar/add", {"calendar": {"summary": "r", "color": "#FF3030"}}
        )
        self.local = tmp / "calendar"
        self.local.mkdir()
        self.state = tmp / "state"
        self.pair = PairConfig(
            name="r", local=self.local, cal_id=answer["cal_id"], conflict=conflict
        )

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[WeComClient]:
        async with WeComClient(
            corpid=self.server.corpid,
            corpsecret=Secret(self.server.corpsecret),
            base_url=self.server.url,
            retry=FAST,
        ) as client:
            yield client

    async def sync(self) -> PairReport:
        async with self._client() as client:
            return await run_pair(self.pair, client=client, state_dir=self.state)

    def write(self, name: str, data: bytes) -> None:
        tmp = self.local / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.local / name)

    def schedules(self) -> list[dict[str, Any]]:
        listed = self.server.call(
            "/cgi-bin/oa/schedule/get_by_calendar", {"cal_id": self.pair.cal_id, "limit": 1000}
        )
        ids = [s["schedule_id"] for s in listed["schedule_list"] if s.get("status") != 1]
        if not ids:
            return []
        got = self.server.call("/cgi-bin/oa/schedule/get", {"schedule_id_list": ids})
        return [s for s in got["schedule_list"] if s.get("status") != 1]

    def remote_summaries(self) -> list[str]:
        return sorted(s["summary"] for s in self.schedules())

    def local_summaries(self) -> list[str]:
        out = []
        for path in self.local.glob("*.ics"):
            for line in path.read_bytes().decode().splitlines():
                if line.startswith("SUMMARY:"):
                    out.append(line[len("SUMMARY:") :])
        return sorted(out)

    def edit_remote(self, old: str, new: str) -> None:
        (s,) = [s for s in self.schedules() if s["summary"] == old]
        body = {k: s[k] for k in ("schedule_id", "start_time", "end_time")}
        answer = self.server.call(
            "/cgi-bin/oa/schedule/update", {"schedule": {**body, "summary": new}}
        )
        assert answer["errcode"] == 0, answer


def _kill_at(monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    def killed(*_args: Any, **_kwargs: Any) -> Any:
        raise Killed(method)

    monkeypatch.setattr(Executor, method, killed)


async def test_keep_both_killed_before_the_copy_loses_nothing(
    emulator_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    side = Side(emulator_server, tmp_path, ConflictPolicy.KEEP_BOTH)
    side.write("a.ics", _ics("a@example.com", "Plan"))
    assert (await side.sync()).ok
    side.write("a.ics", _ics("a@example.com", "Plan (mine)"))
    side.edit_remote("Plan", "Plan (theirs)")
    with monkeypatch.context() as m:
        _kill_at(m, "_keep_local_copy")
        with pytest.raises(Killed):
            await side.sync()
    report = await side.sync()
    assert report.ok, report.problems
    assert (await side.sync()).writes == 0
    assert side.remote_summaries() == ["Plan (mine)", "Plan (theirs)"]
    assert side.local_summaries() == ["Plan (mine)", "Plan (theirs)"]


@pytest.mark.parametrize("policy", [ConflictPolicy.LOCAL_WINS, ConflictPolicy.KEEP_BOTH])
async def test_local_edit_after_a_killed_local_phase_is_not_overwritten(
    emulator_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: ConflictPolicy
) -> None:
    side = Side(emulator_server, tmp_path, policy)
    side.write("a.ics", _ics("a@example.com", "Plan"))
    assert (await side.sync()).ok
    side.edit_remote("Plan", "Plan (theirs)")
    with monkeypatch.context() as m:
        _kill_at(m, "_write_local")  # killed before WeCom's change reached the file
        with pytest.raises(Killed):
            await side.sync()
    # the user edits the file before the next run: a conflict like any other
    side.write("a.ics", _ics("a@example.com", "Plan (mine)"))
    report = await side.sync()
    assert report.ok, report.problems
    assert "Plan (mine)" in side.local_summaries()
    assert "Plan (mine)" in side.remote_summaries()
    assert side.remote_summaries() == side.local_summaries()


def _series(until: str) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//soak regression//EN\r\n"
        "BEGIN:VEVENT\r\nUID:weekly@example.com\r\nDTSTAMP:20261101T000000Z\r\n"
        "SUMMARY:Weekly\r\nDTSTART;TZID=Asia/Shanghai:20270104T100000\r\n"
        "DTEND;TZID=Asia/Shanghai:20270104T110000\r\n"
        f"RRULE:FREQ=WEEKLY;UNTIL={until}\r\n"
        "ATTENDEE:mailto:zhangsan@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


async def test_extending_until_keeps_the_schedule_and_its_answers(
    emulator_server: Any, tmp_path: Path
) -> None:
    side = Side(emulator_server, tmp_path, ConflictPolicy.KEEP_BOTH)
    side.pair = PairConfig(**{**side.pair.__dict__, "user_domain": "example.com"})
    side.write("weekly.ics", _series("20270201T020000Z"))
    assert (await side.sync()).ok
    (before,) = side.schedules()
    answer = emulator_server.admin(
        "POST",
        "respond",
        {"schedule_id": before["schedule_id"], "userid": "zhangsan", "response_status": 2},
    )
    assert answer
    assert (await side.sync()).ok
    assert b"PARTSTAT=ACCEPTED" in (side.local / "weekly.ics").read_bytes()
    text = (side.local / "weekly.ics").read_bytes()
    side.write("weekly.ics", text.replace(b"UNTIL=20270201T020000Z", b"UNTIL=20270301T020000Z"))
    report = await side.sync()
    assert report.ok, report.problems
    (after,) = side.schedules()
    assert after["reminders"]["repeat_until"] > before["reminders"]["repeat_until"]
    assert after["schedule_id"] == before["schedule_id"]
    assert after["attendees"] == [{"userid": "zhangsan", "response_status": 2}]


def _with_attendee(summary: str) -> bytes:
    return _ics("rsvp@example.com", summary).replace(
        b"END:VEVENT", b"ATTENDEE:mailto:zhangsan@example.com\r\nEND:VEVENT"
    )


@pytest.mark.parametrize("policy", [ConflictPolicy.WECOM_WINS, ConflictPolicy.KEEP_BOTH])
async def test_an_answer_in_wecom_does_not_undo_a_local_edit(
    emulator_server: Any, tmp_path: Path, policy: ConflictPolicy
) -> None:
    side = Side(emulator_server, tmp_path, policy)
    side.pair = PairConfig(**{**side.pair.__dict__, "user_domain": "example.com"})
    side.write("rsvp.ics", _with_attendee("Review"))
    assert (await side.sync()).ok
    (schedule,) = side.schedules()
    emulator_server.admin(
        "POST",
        "respond",
        {"schedule_id": schedule["schedule_id"], "userid": "zhangsan", "response_status": 4},
    )
    side.write("rsvp.ics", _with_attendee("Review (moved to room 2)"))
    report = await side.sync()
    assert report.ok, report.problems
    assert report.conflicts == 0
    assert side.remote_summaries() == ["Review (moved to room 2)"]
    assert side.local_summaries() == ["Review (moved to room 2)"]
    assert b"PARTSTAT=DECLINED" in (side.local / "rsvp.ics").read_bytes()


async def test_an_add_that_lands_after_the_next_run_redid_it_leaves_one_copy(
    emulator_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The soak's 'ev20 #55': a run is killed while WeCom is still working on an add
    # it has already received; the next run does not see the schedule yet and adds
    # the event again; then the first request is applied after all.
    side = Side(emulator_server, tmp_path, ConflictPolicy.KEEP_BOTH)
    side.write("a.ics", _ics("a@example.com", "Plan"))
    assert (await side.sync()).ok
    side.write("b.ics", _ics("b@example.com", "New", start="20270106T100000"))
    sent: list[Any] = []

    async def add_then_die(self: WeComClient, schedule: Any) -> str:
        sent.append(schedule)
        raise Killed("schedule_add sent, answer never read")

    with monkeypatch.context() as m:
        m.setattr(WeComClient, "schedule_add", add_then_die)
        with pytest.raises(Killed):
            await side.sync()
    assert (await side.sync()).ok  # redoes the add
    (late,) = sent
    answer = emulator_server.call("/cgi-bin/oa/schedule/add", {"schedule": late.to_api()})
    assert answer["errcode"] == 0, answer
    report = await side.sync()
    assert report.ok, report.problems
    assert any("late copy" in str(p) for p in report.problems), report.problems
    assert (await side.sync()).writes == 0
    assert side.remote_summaries() == ["New", "Plan"]
    assert side.local_summaries() == ["New", "Plan"]
