"""Malformed .ics files in a vdir, end to end through `wesync sync --json`.

Each bad file is reported by name (and the property, where one is to blame),
left byte for byte as it was, never read as a deletion, and does not stop the
good events beside it; fixing the file later syncs it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.badinput.helpers import FIXTURES, Pair, ics, vevent

LUNCH = ics(vevent("lunch@example.com", "Lunch", "20270105T120000"))
MEETING = ics(vevent("meeting@example.com", "Meeting", "20270106T100000"))

#: fixture -> words the message must hold besides the file name
FIXTURE_CASES: dict[str, tuple[str, ...]] = {
    "truncated.ics": (),
    "invalid-date.ics": ("DTSTART",),
    "no-dtstart.ics": ("DTSTART",),
    "unknown-tzid.ics": ("Mars/Olympus_Mons",),
    "binary-garbage.ics": (),
    "latin1.ics": (),
    "empty.ics": (),
    "two-uids.ics": (),
    "no-uid.ics": ("UID",),
    "two-masters.ics": ("bad-twomasters@example.com",),
}


#: files wesync may read with a stated fallback instead of leaving them out
READ_WITH_FALLBACK = frozenset({"unknown-tzid.ics"})


@pytest.fixture
def pair(emulator_server: Any, tmp_path: Path) -> Pair:
    return Pair(emulator_server, tmp_path)


def _reported(
    name: str, words: tuple[str, ...], report: dict[str, Any] | None, stderr: str
) -> None:
    error = " ".join(str(p.get("error") or "") for p in (report or {}).get("pairs", []))
    text = f"{stderr}\n{error}"
    assert name in text, text
    for word in words:
        assert word in text, (word, text)
    assert "Traceback" not in text


@pytest.mark.parametrize("fixture", sorted(FIXTURE_CASES))
def test_new_bad_file_beside_a_good_one(pair: Pair, fixture: str) -> None:
    pair.put("lunch.ics", LUNCH)
    bad = pair.copy_fixture(fixture)
    original = bad.read_bytes()
    code, report, stderr = pair.sync()
    assert code in (0, 1), stderr
    assert report is not None and report["pairs"][0]["name"] == "team"
    _reported(fixture, FIXTURE_CASES[fixture], report, stderr)
    assert "Lunch" in pair.summaries()
    assert bad.read_bytes() == original
    # a second run reports it again and still leaves everything alone
    before = pair.snapshot()
    pair.server.admin("DELETE", "requests")
    code2, report2, stderr2 = pair.sync()
    assert code2 == code
    if fixture in READ_WITH_FALLBACK:
        # read in the default zone, said so once, and synced: nothing more to say
        assert "A zone nobody defines" in pair.summaries()
        assert report2 is not None and report2["pairs"][0]["created_remote"] == 0
    else:
        _reported(fixture, FIXTURE_CASES[fixture], report2, stderr2)
    assert pair.snapshot() == before
    # the user fixes the file: it syncs
    pair.put(fixture, ics(vevent("fixed@example.com", "Fixed", "20270107T090000")))
    code3, report3, stderr3 = pair.sync()
    assert code3 == 0, (report3, stderr3)
    assert sorted(pair.summaries()) == ["Fixed", "Lunch"]


def test_no_vevent_is_not_an_error_for_the_folder(pair: Pair) -> None:
    pair.put("lunch.ics", LUNCH)
    bad = pair.copy_fixture("no-vevent.ics")
    code, report, stderr = pair.sync()
    assert code == 0, (report, stderr)
    assert report is not None and report["pairs"][0]["ok"] is True
    assert pair.summaries() == ["Lunch"]
    assert bad.read_bytes() == (FIXTURES / "no-vevent.ics").read_bytes()


def _png(_: bytes) -> bytes:
    rng = random.Random(7)
    return b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(4096))


#: how a user (or a crashed editor) breaks a file that synced fine: -> words to report
BREAKAGES: dict[str, tuple[Callable[[bytes], bytes], tuple[str, ...]]] = {
    "truncated": (lambda d: d[: d.index(b"DTEND") + 9], ()),
    "invalid-date": (lambda d: d.replace(b"20270106T100000", b"20271345T250000", 1), ("DTSTART",)),
    "no-dtstart": (
        lambda d: b"".join(x for x in d.splitlines(True) if b"DTSTART" not in x),
        ("DTSTART",),
    ),
    "unknown-tzid": (
        lambda d: d.replace(b"Asia/Shanghai", b"Mars/Olympus_Mons"),
        ("Mars/Olympus_Mons",),
    ),
    "binary-garbage": (_png, ()),
    "latin1": (lambda d: d.replace(b"SUMMARY:Meeting", "SUMMARY:Café".encode("latin-1")), ()),
    "empty": (lambda d: b"", ()),
    "no-vevent": (lambda d: ics(), ()),
    "no-uid": (
        lambda d: b"".join(x for x in d.splitlines(True) if not x.startswith(b"UID")),
        ("UID",),
    ),
    "two-uids": (
        lambda d: ics(
            vevent("meeting@example.com", "Meeting", "20270106T100000"),
            vevent("other@example.com", "Other", "20270108T100000"),
        ),
        (),
    ),
    "two-masters": (
        lambda d: ics(
            vevent("meeting@example.com", "Meeting", "20270106T100000"),
            vevent("meeting@example.com", "Meeting", "20270109T100000"),
        ),
        ("meeting@example.com",),
    ),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_synced_file_that_breaks_is_not_a_deletion(pair: Pair, breakage: str) -> None:
    pair.put("lunch.ics", LUNCH)
    path = pair.put("meeting.ics", MEETING)
    code, report, stderr = pair.sync()
    assert code == 0, (report, stderr)
    (meeting,) = [s for s in pair.schedules() if s["summary"] == "Meeting"]

    transform, words = BREAKAGES[breakage]
    broken = transform(MEETING)
    assert broken != MEETING
    pair.put("meeting.ics", broken)
    pair.put("lunch.ics", LUNCH.replace(b"SUMMARY:Lunch", b"SUMMARY:Long lunch"))
    code, report, stderr = pair.sync()
    assert code in (0, 1), stderr
    _reported("meeting.ics", words, report, stderr)
    assert path.read_bytes() == broken
    # WeCom still has the meeting exactly as it was, and the good edit went through
    now = {s["schedule_id"]: s for s in pair.schedules()}
    assert now.get(meeting["schedule_id"]) == meeting
    assert sorted(s["summary"] for s in now.values()) == ["Long lunch", "Meeting"]

    pair.put("meeting.ics", MEETING.replace(b"SUMMARY:Meeting", b"SUMMARY:Meeting moved"))
    code, report, stderr = pair.sync()
    assert code == 0, (report, stderr)
    assert pair.summaries() == ["Long lunch", "Meeting moved"]


def test_same_uid_in_two_files(pair: Pair) -> None:
    pair.put("lunch.ics", LUNCH)
    a = pair.copy_fixture("duplicate-uid-a.ics")
    b = pair.copy_fixture("duplicate-uid-b.ics")
    code, report, stderr = pair.sync()
    assert code in (0, 1)
    _reported("duplicate-uid-a.ics", ("bad-dup@example.com", "duplicate-uid-b.ics"), report, stderr)
    assert pair.summaries() == ["Lunch"]  # neither is merged in or picked at random
    assert a.read_bytes() == (FIXTURES / "duplicate-uid-a.ics").read_bytes()
    assert b.read_bytes() == (FIXTURES / "duplicate-uid-b.ics").read_bytes()
    b.unlink()
    code, report, stderr = pair.sync()
    assert code == 0, (report, stderr)
    assert pair.summaries() == ["First file with this UID", "Lunch"]


def test_synced_uid_copied_into_a_second_file(pair: Pair) -> None:
    pair.put("meeting.ics", MEETING)
    pair.put("lunch.ics", LUNCH)
    assert pair.sync()[0] == 0
    before = pair.schedules()
    copy = pair.put("meeting-copy.ics", MEETING.replace(b"SUMMARY:Meeting", b"SUMMARY:Copy"))
    code, report, stderr = pair.sync()
    assert code in (0, 1)
    _reported("meeting-copy.ics", ("meeting@example.com", "meeting.ics"), report, stderr)
    assert pair.schedules() == before  # nothing deleted, nothing duplicated, nothing picked
    assert (pair.local / "meeting.ics").read_bytes() == MEETING
    copy.unlink()
    assert pair.sync()[0] == 0
    assert pair.schedules() == before


def test_ten_megabyte_line(pair: Pair) -> None:
    pair.put("lunch.ics", LUNCH)
    huge = "x" * (10 * 1024 * 1024)
    data = ics(vevent("huge@example.com", "Huge", "20270110T100000", extra=f"DESCRIPTION:{huge}"))
    path = pair.put("huge.ics", data)
    code, report, stderr = pair.sync()
    assert code in (0, 1), stderr
    assert path.read_bytes() == data
    schedules = {s["summary"]: s for s in pair.schedules()}
    if code == 0:
        # synced, cut to WeCom's limit for WeCom only, and said so
        assert len(schedules["Huge"]["description"]) <= 1000
        assert "huge.ics" in stderr and "DESCRIPTION" in stderr.upper()
    else:
        _reported("huge.ics", (), report, stderr)
    assert "Lunch" in schedules
    pair.server.admin("DELETE", "requests")
    again = pair.sync()
    assert again[0] == code
    assert path.read_bytes() == data
