"""The storages on malformed files: listing and reading never crash, and the
single-file storage names what it cannot use."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.storage.ics import calendar, vevent
from wesync.errors import DuplicateUidError, ItemParseError
from wesync.storage import SingleFileStorage, VdirStorage

FIXTURES = Path(__file__).resolve().parent.parent / "badinput" / "fixtures"
ALL = sorted(p.name for p in FIXTURES.glob("*.ics"))
HUGE = 10 * 1024 * 1024
FIXTURE_HEADER = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//wesync tests//bad input//EN\r\n"


def huge_line_event() -> bytes:
    return calendar(vevent("huge-line", extra=("DESCRIPTION:" + "x" * HUGE,)))


def test_fixtures_are_all_there() -> None:
    assert len(ALL) == 14


def test_vdir_lists_and_reads_every_bad_file(tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    shutil.copytree(FIXTURES, folder)
    (folder / "huge-line.ics").write_bytes(huge_line_event())
    storage = VdirStorage(folder)
    listed = dict(storage.list())
    assert sorted(listed) == sorted([*ALL, "huge-line.ics"])
    for href, etag in listed.items():
        data, got = storage.get(href)
        assert got == etag
        assert data == (folder / href).read_bytes()


def test_vdir_can_still_write_beside_bad_files(tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    shutil.copytree(FIXTURES, folder)
    storage = VdirStorage(folder)
    etag = dict(storage.list())["binary-garbage.ics"]
    storage.update("binary-garbage.ics", calendar(vevent("replaced")), etag)
    href, _ = storage.create("bad-dup@example.com", calendar(vevent("bad-dup@example.com")))
    assert href not in ALL
    assert (folder / "duplicate-uid-a.ics").read_bytes() == (
        FIXTURES / "duplicate-uid-a.ics"
    ).read_bytes()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("truncated.ics", "never closed"),
        ("binary-garbage.ics", "line 1"),
        ("empty.ics", "empty file"),
    ],
)
def test_single_file_that_does_not_parse_is_named(tmp_path: Path, name: str, message: str) -> None:
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    with pytest.raises(ItemParseError, match=message) as caught:
        SingleFileStorage(path).list()
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("name", "listed"),
    [
        ("good.ics", ["bad-good@example.com"]),
        ("invalid-date.ics", ["bad-date@example.com"]),
        ("no-dtstart.ics", ["bad-nodtstart@example.com"]),
        ("unknown-tzid.ics", ["bad-tzid@example.com"]),
        ("latin1.ics", ["bad-latin1@example.com"]),
        ("no-vevent.ics", []),
        ("two-uids.ics", ["bad-twouids-1@example.com", "bad-twouids-2@example.com"]),
    ],
)
def test_single_file_lists_what_it_can_identify(
    tmp_path: Path, name: str, listed: list[str]
) -> None:
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    storage = SingleFileStorage(path)
    assert [href for href, _ in storage.list()] == listed
    assert storage.problems == []
    for href in listed:
        assert f"UID:{href}".encode() in storage.get(href)[0]


def test_single_file_reports_two_masters_by_uid_and_line(tmp_path: Path) -> None:
    path = tmp_path / "two-masters.ics"
    shutil.copy(FIXTURES / "two-masters.ics", path)
    storage = SingleFileStorage(path)
    assert list(storage.list()) == []
    [problem] = storage.problems
    assert isinstance(problem, DuplicateUidError)
    assert problem.uid == "bad-twomasters@example.com"
    assert problem.paths == [f"{path}:4", f"{path}:10"]


def test_single_file_reports_an_event_without_uid(tmp_path: Path) -> None:
    path = tmp_path / "no-uid.ics"
    shutil.copy(FIXTURES / "no-uid.ics", path)
    storage = SingleFileStorage(path)
    assert list(storage.list()) == []
    [problem] = storage.problems
    assert isinstance(problem, ItemParseError)
    assert str(path) in str(problem)
    assert "line 4" in str(problem)


def test_single_file_with_all_bad_events_together(tmp_path: Path) -> None:
    """One file holding every parseable bad event: the good ones still work and
    the file keeps every byte of the bad ones after a write."""
    parts = []
    for name in ALL:
        data = (FIXTURES / name).read_bytes()
        if data.startswith(FIXTURE_HEADER) and b"END:VCALENDAR" in data:
            parts.append(data[len(FIXTURE_HEADER) : data.rindex(b"END:VCALENDAR")])
    original = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + b"".join(parts) + b"END:VCALENDAR\r\n"
    path = tmp_path / "all.ics"
    path.write_bytes(original)
    storage = SingleFileStorage(path)
    listed = dict(storage.list())
    assert "bad-good@example.com" in listed
    # the two fixture files sharing a UID become two masters in one file
    assert {getattr(p, "uid", None) for p in storage.problems} == {
        "bad-dup@example.com",
        "bad-twomasters@example.com",
        None,
    }
    storage.delete("bad-good@example.com", listed["bad-good@example.com"])
    storage.flush()
    good = (FIXTURES / "good.ics").read_bytes()
    good_event = good[good.index(b"BEGIN:VEVENT") : good.rindex(b"END:VCALENDAR")]
    assert path.read_bytes() == original.replace(good_event, b"")


def test_single_file_with_a_10_mb_line(tmp_path: Path) -> None:
    path = tmp_path / "huge.ics"
    path.write_bytes(
        calendar(vevent("small")).replace(b"END:VCALENDAR", b"") + huge_line_event()[17:]
    )
    storage = SingleFileStorage(path)
    assert [href for href, _ in storage.list()] == ["small", "huge-line"]
    data, _ = storage.get("huge-line")
    assert len(data) > HUGE
