"""Malformed content in a single-file pair (one .ics holding many events).

A bad event inside the file is reported and left exactly as it was, also
when wesync rewrites the file for other events; a file that cannot be read at
all is reported and nothing in WeCom is deleted because of it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.badinput.helpers import Pair, ics, vevent

LUNCH = vevent("lunch@example.com", "Lunch", "20270105T120000")
MEETING = vevent("meeting@example.com", "Meeting", "20270106T100000")

#: a broken VEVENT -> words the message must hold besides the file name
BAD_EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "invalid-date": (
        vevent("bad-date@example.com", "Bad date").replace("20270105T100000", "20271345T250000"),
        ("bad-date@example.com",),
    ),
    "no-dtstart": (
        "".join(
            line
            for line in vevent("no-start@example.com", "No start").splitlines(True)
            if not line.startswith("DTSTART")
        ),
        ("no-start@example.com", "DTSTART"),
    ),
    "two-masters": (
        vevent("twice@example.com", "Twice A")
        + vevent("twice@example.com", "Twice B", "20270109T100000"),
        ("twice@example.com",),
    ),
    "no-uid": (
        "".join(
            line
            for line in vevent("x", "No UID", "20270111T100000").splitlines(True)
            if not line.startswith("UID")
        ),
        ("UID",),
    ),
}


@pytest.fixture
def pair(emulator_server: Any, tmp_path: Path) -> Pair:
    return Pair(emulator_server, tmp_path, single_file=True)


def _text(report: dict[str, Any] | None, stderr: str) -> str:
    error = " ".join(str(p.get("error") or "") for p in (report or {}).get("pairs", []))
    return f"{stderr}\n{error}"


@pytest.mark.parametrize("case", sorted(BAD_EVENTS))
def test_bad_event_inside_the_file(pair: Pair, case: str) -> None:
    bad, words = BAD_EVENTS[case]
    pair.local.write_bytes(ics(LUNCH, bad, MEETING))
    code, report, stderr = pair.sync()
    assert code in (0, 1), stderr
    text = _text(report, stderr)
    assert pair.local.name in text, text
    for word in words:
        assert word in text, (word, text)
    assert pair.summaries() == ["Lunch", "Meeting"]
    # WeCom adds an event: the file is rewritten, the bad event's text is kept as it was
    answer = pair.server.call(
        "/cgi-bin/oa/schedule/add",
        {
            "schedule": {
                "cal_id": pair.cal_id,
                "summary": "From WeCom",
                "start_time": 1799380800,
                "end_time": 1799384400,
            }
        },
    )
    assert answer["errcode"] == 0
    code, report, stderr = pair.sync()
    assert code in (0, 1)
    data = pair.local.read_bytes()
    assert b"SUMMARY:From WeCom" in data
    assert bad.encode() in data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert pair.summaries() == ["From WeCom", "Lunch", "Meeting"]


def _garbage(_: bytes) -> bytes:
    rng = random.Random(3)
    return b"\x89PNG\r\n\x1a\n\x00" + bytes(rng.randrange(256) for _ in range(2048))


BREAKAGES = {
    "truncated": lambda d: d[: d.index(b"SUMMARY:Meeting") + 10],
    "binary-garbage": _garbage,
    "latin1": lambda d: d.replace(b"SUMMARY:Lunch", "SUMMARY:Café".encode("latin-1")),
    "empty": lambda d: b"",
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_whole_file_unreadable_deletes_nothing(pair: Pair, breakage: str) -> None:
    good = ics(LUNCH, MEETING)
    pair.local.write_bytes(good)
    assert pair.sync()[0] == 0
    before = pair.schedules()
    assert sorted(s["summary"] for s in before) == ["Lunch", "Meeting"]
    broken = BREAKAGES[breakage](good)
    pair.local.write_bytes(broken)
    code, report, stderr = pair.sync()
    assert code in (0, 1), stderr
    assert pair.local.name in _text(report, stderr)
    assert "Traceback" not in stderr
    assert pair.local.read_bytes() == broken
    assert pair.schedules() == before
    # fixed, with an edit: the edit syncs, nothing else moves
    pair.local.write_bytes(good.replace(b"SUMMARY:Lunch", b"SUMMARY:Brunch"))
    code, report, stderr = pair.sync()
    assert code == 0, (report, stderr)
    assert pair.summaries() == ["Brunch", "Meeting"]
