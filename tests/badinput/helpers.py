"""A pair on a real folder (or single file) and the loopback emulator, driven
through `wesync sync --json` (CliRunner), for the bad-input tests."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from wesync.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"


def ics(*events: str) -> bytes:
    body = "".join(events)
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//wesync badinput//EN\r\n"
    return f"{head}{body}END:VCALENDAR\r\n".encode()


def vevent(uid: str, summary: str, start: str = "20270105T100000", *, extra: str = "") -> str:
    hour = int(start[9:11]) + 1
    end = f"{start[:9]}{hour:02d}{start[11:]}"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T000000Z",
        f"SUMMARY:{summary}",
        f"DTSTART;TZID=Asia/Shanghai:{start}",
        f"DTEND;TZID=Asia/Shanghai:{end}",
        *([extra] if extra else []),
        "END:VEVENT",
    ]
    return "\r\n".join(lines) + "\r\n"


class Pair:
    """One pair: `local` is a folder, or with single_file a .ics file."""

    def __init__(self, server: Any, tmp: Path, *, single_file: bool = False) -> None:
        self.server = server
        answer = server.call(
            "/cgi-bin/oa/calendar/add", {"calendar": {"summary": "bad input", "color": "#FF3030"}}
        )
        assert answer["errcode"] == 0, answer
        self.cal_id: str = answer["cal_id"]
        self.tmp = tmp
        self.local = tmp / ("calendar.ics" if single_file else "calendar")
        if single_file:
            self.local.write_bytes(ics())
        else:
            self.local.mkdir()
        self.config = tmp / "wesync.toml"
        self.config.write_text(
            f'[wecom]\ncorpid = "{server.corpid}"\ncorpsecret = "{server.corpsecret}"\n'
            f'base_url = "{server.url}"\n[state]\ndir = "{tmp / "state"}"\n'
            f'[[pairs]]\nname = "team"\nlocal = "{self.local}"\ncal_id = "{self.cal_id}"\n'
        )
        self.config.chmod(0o600)

    def put(self, name: str, data: bytes) -> Path:
        path = self.local / name
        tmp = path.parent / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path

    def copy_fixture(self, name: str) -> Path:
        path = self.local / name
        shutil.copyfile(FIXTURES / name, path)
        return path

    def sync(self, *args: str) -> tuple[int, dict[str, Any] | None, str]:
        result = CliRunner().invoke(cli, ["-c", str(self.config), "sync", "--json", *args])
        try:
            report = json.loads(result.stdout) if result.stdout.strip() else None
        except ValueError:
            report = None
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, report, result.stderr

    def schedules(self) -> list[dict[str, Any]]:
        return self.server.live_schedules(self.cal_id)

    def summaries(self) -> list[str]:
        return sorted(s.get("summary", "") for s in self.schedules())

    def snapshot(self) -> dict[str, bytes]:
        if self.local.is_file():
            return {self.local.name: self.local.read_bytes()}
        return {p.name: p.read_bytes() for p in sorted(self.local.iterdir())}
