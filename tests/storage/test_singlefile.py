from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.storage.contract import StorageContract
from tests.storage.ics import SHANGHAI, calendar, item, summaries, vevent
from wesync.errors import (
    DuplicateUidError,
    ItemNotFound,
    ItemParseError,
    PreconditionFailed,
    StorageError,
)
from wesync.storage import ics_split
from wesync.storage.base import LocalStorage
from wesync.storage.singlefile import SingleFileStorage


class TestSingleFileContract(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> LocalStorage:
        folder = tmp_path / "store"
        folder.mkdir()
        path = folder / "calendar.ics"
        path.write_bytes(calendar())
        return SingleFileStorage(path)

    def fresh(self, storage: LocalStorage) -> LocalStorage:
        assert isinstance(storage, SingleFileStorage)
        return SingleFileStorage(storage.path)


# A file as other tools write it: LF line breaks, folded lines, calendar
# properties, a VTODO and a VJOURNAL, a recurring event with an override, an
# event whose UID needs unescaping, and a VALARM with its own properties.
MIXED = (
    b"BEGIN:VCALENDAR\n"
    b"PRODID:-//Other Tool//EN\n"
    b"VERSION:2.0\n"
    b"X-WR-CALNAME:Team\n"
    b"X-WR-TIMEZONE:Asia/Shanghai\n"
    b"BEGIN:VTIMEZONE\n"
    b"TZID:Asia/Shanghai\n"
    b"BEGIN:STANDARD\n"
    b"DTSTART:19700101T000000\n"
    b"TZOFFSETFROM:+0800\n"
    b"TZOFFSETTO:+0800\n"
    b"END:STANDARD\n"
    b"END:VTIMEZONE\n"
    b"BEGIN:VEVENT\n"
    b"UID:series@example.com\n"
    b"DTSTART;TZID=Asia/Shanghai:20260105T090000\n"
    b"RRULE:FREQ=WEEKLY;BYDAY=MO\n"
    b"SUMMARY:Weekly\n"
    b'X-CUSTOM-PROP;X-PARAM="a:b":kept exactly\n'
    b"BEGIN:VALARM\n"
    b"ACTION:DISPLAY\n"
    b"TRIGGER:-PT15M\n"
    b"DESCRIPTION:UID:not-the-uid\n"
    b"END:VALARM\n"
    b"END:VEVENT\n"
    b"BEGIN:VTODO\n"
    b"UID:todo-1\n"
    b"SUMMARY:A task nobody syncs\n"
    b"END:VTODO\n"
    b"BEGIN:VEVENT\n"
    b"UID:single@example.com\n"
    b"DTSTART:20260110T020000Z\n"
    b"SUMMARY:A long description that is folded over more than one line because it\n"
    b"  goes on\n"
    b"END:VEVENT\n"
    b"BEGIN:VEVENT\n"
    b"UID:series@example.com\n"
    b"RECURRENCE-ID;TZID=Asia/Shanghai:20260112T090000\n"
    b"DTSTART;TZID=Asia/Shanghai:20260112T100000\n"
    b"SUMMARY:Weekly (moved)\n"
    b"END:VEVENT\n"
    b"BEGIN:VJOURNAL\n"
    b"UID:journal-1\n"
    b"END:VJOURNAL\n"
    b"BEGIN:VEVENT\n"
    b"UID:comma\\,uid\n"
    b"DTSTART;VALUE=DATE:20260201\n"
    b"SUMMARY:All day\n"
    b"END:VEVENT\n"
    b"END:VCALENDAR\n"
)


def block(data: bytes, begin: bytes, uid_line: bytes) -> bytes:
    """The exact bytes of the component that starts at `begin` and holds `uid_line`."""
    at = data.index(uid_line)
    start = data.rindex(begin, 0, at)
    end = data.index(b"END:VEVENT\n", at) + len(b"END:VEVENT\n")
    return data[start:end]


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "team.ics"
    path.write_bytes(MIXED)
    return path


def test_items_group_master_and_overrides(mixed: Path) -> None:
    storage = SingleFileStorage(mixed)
    listed = dict(storage.list())
    assert list(listed) == ["series@example.com", "single@example.com", "comma,uid"]
    data, etag = storage.get("series@example.com")
    assert etag == listed["series@example.com"] == hashlib.sha256(data).hexdigest()
    assert summaries(data) == {"series@example.com": ["Weekly", "Weekly (moved)"]}
    assert b"BEGIN:VTIMEZONE" in data
    assert b"X-WR-TIMEZONE:Asia/Shanghai" in data
    assert b"VTODO" not in data
    assert storage.problems == []


def test_item_without_timezone_reference_carries_none(mixed: Path) -> None:
    data, _ = SingleFileStorage(mixed).get("single@example.com")
    assert b"VTIMEZONE" not in data
    assert b"  goes on" in data  # the folded line is kept as it was


def test_update_rewrites_only_that_event(mixed: Path) -> None:
    storage = SingleFileStorage(mixed)
    etag = dict(storage.list())["single@example.com"]
    new = vevent("single@example.com", "Renamed", tzid=None, start="20260110T020000Z")
    storage.update("single@example.com", calendar(new), etag)
    storage.flush()
    old_block = block(MIXED, b"BEGIN:VEVENT\n", b"UID:single@example.com\n")
    expected = MIXED.replace(old_block, new.replace("\r\n", "\n").encode())
    assert mixed.read_bytes() == expected


def test_delete_removes_master_and_overrides_only(mixed: Path) -> None:
    storage = SingleFileStorage(mixed)
    etag = dict(storage.list())["series@example.com"]
    storage.delete("series@example.com", etag)
    storage.flush()
    expected = MIXED
    for uid_line in (b"UID:series@example.com\nDTSTART", b"UID:series@example.com\nRECURRENCE"):
        expected = expected.replace(block(MIXED, b"BEGIN:VEVENT\n", uid_line), b"")
    assert mixed.read_bytes() == expected
    assert b"BEGIN:VTIMEZONE" in expected  # no longer used, but not ours to drop


def test_update_of_a_series_replaces_all_its_blocks_in_place(mixed: Path) -> None:
    storage = SingleFileStorage(mixed)
    etag = dict(storage.list())["series@example.com"]
    storage.update(
        "series@example.com", calendar(SHANGHAI, vevent("series@example.com", "Only master")), etag
    )
    storage.flush()
    written = mixed.read_bytes()
    assert summaries(written)["series@example.com"] == ["Only master"]
    assert written.index(b"Only master") < written.index(b"BEGIN:VTODO")
    assert written.count(b"BEGIN:VTIMEZONE") == 1
    assert b"\r\n" not in written


def test_create_appends_before_end_and_adds_missing_timezones(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    original = calendar(vevent("utc-only", tzid=None, start="20260101T000000Z"))
    path.write_bytes(original)
    storage = SingleFileStorage(path)
    storage.create("new", item("new", "Fresh"))
    storage.create("new2", item("new2", "Fresher"))
    storage.flush()
    written = path.read_bytes()
    assert written.count(b"BEGIN:VTIMEZONE") == 1
    assert written.index(b"BEGIN:VTIMEZONE") < written.index(b"UID:utc-only")
    assert written.endswith(b"SUMMARY:Fresher\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    assert summaries(written) == {"utc-only": ["Meeting"], "new": ["Fresh"], "new2": ["Fresher"]}
    listed = dict(SingleFileStorage(path).list())
    assert listed == dict(storage.list())


def test_existing_timezone_is_not_duplicated(mixed: Path) -> None:
    storage = SingleFileStorage(mixed)
    storage.create("another", item("another"))
    storage.flush()
    assert mixed.read_bytes().count(b"BEGIN:VTIMEZONE") == 1


def test_file_is_read_and_split_once(mixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = ics_split.split_calendar

    def counting(data: bytes, *, source: str) -> ics_split.Split:
        calls.append(source)
        return real(data, source=source)

    monkeypatch.setattr(ics_split, "split_calendar", counting)
    storage = SingleFileStorage(mixed)
    for _ in range(3):
        for href, _etag in storage.list():
            storage.get(href)
    assert calls == [str(mixed)]


def test_listing_notices_an_edit_by_another_tool(mixed: Path) -> None:
    storage = SingleFileStorage(mixed)
    before = dict(storage.list())
    mixed.write_bytes(MIXED.replace(b"SUMMARY:All day", b"SUMMARY:All day!"))
    after = dict(storage.list())
    assert after["comma,uid"] != before["comma,uid"]
    assert after["series@example.com"] == before["series@example.com"]


def test_flush_refuses_when_the_file_changed_on_disk(mixed: Path) -> None:
    storage = SingleFileStorage(mixed)
    etag = dict(storage.list())["comma,uid"]
    storage.update("comma,uid", calendar(vevent("comma,uid", "Ours")), etag)
    edited = MIXED.replace(b"SUMMARY:Weekly\n", b"SUMMARY:Theirs\n")
    mixed.write_bytes(edited)
    with pytest.raises(PreconditionFailed):
        storage.flush()
    assert mixed.read_bytes() == edited


def test_flush_without_changes_does_not_touch_the_file(mixed: Path) -> None:
    before = os.stat(mixed)
    storage = SingleFileStorage(mixed)
    list(storage.list())
    storage.flush()
    after = os.stat(mixed)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_writes_are_buffered_until_flush(mixed: Path) -> None:
    storage = SingleFileStorage(mixed)
    etag = dict(storage.list())["comma,uid"]
    new_etag = storage.update("comma,uid", calendar(vevent("comma,uid", "Buffered")), etag)
    assert mixed.read_bytes() == MIXED
    assert dict(storage.list())["comma,uid"] == new_etag
    assert summaries(storage.get("comma,uid")[0]) == {"comma,uid": ["Buffered"]}
    storage.flush()
    assert dict(SingleFileStorage(mixed).list())["comma,uid"] == new_etag


def test_a_second_flush_after_more_writes(mixed: Path) -> None:
    storage = SingleFileStorage(mixed)
    href, etag = storage.create("x", item("x", "One"))
    storage.flush()
    etag = storage.update(href, item("x", "Two"), etag)
    storage.flush()
    assert summaries(SingleFileStorage(mixed).get("x")[0]) == {"x": ["Two"]}
    assert dict(SingleFileStorage(mixed).list())["x"] == etag


def test_create_of_existing_uid_is_refused(mixed: Path) -> None:
    storage = SingleFileStorage(mixed)
    with pytest.raises(DuplicateUidError):
        storage.create("single@example.com", item("single@example.com"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (calendar(vevent("other")), "UID 'other'"),
        (calendar(), "no VEVENT"),
        (calendar(vevent("x"), "BEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\n"), "VTODO"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", "unparsable"),
        (calendar(vevent("x"), vevent("x", "again")), "more than once"),
    ],
)
def test_bad_item_data_is_refused(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(calendar())
    storage = SingleFileStorage(path)
    with pytest.raises(StorageError, match=message):
        storage.create("x", data)
    assert list(storage.list()) == []


def test_two_masters_with_one_uid_are_reported_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    original = calendar(vevent("dup", "First"), vevent("fine", "Fine"), vevent("dup", "Second"))
    path.write_bytes(original)
    storage = SingleFileStorage(path)
    assert [href for href, _ in storage.list()] == ["fine"]
    [problem] = storage.problems
    assert isinstance(problem, DuplicateUidError)
    assert problem.uid == "dup"
    assert problem.paths == [f"{path}:4", f"{path}:16"]
    with pytest.raises(DuplicateUidError):
        storage.get("dup")
    with pytest.raises(DuplicateUidError):
        storage.create("dup", item("dup"))
    etag = dict(storage.list())["fine"]
    storage.update("fine", item("fine", "Still fine"), etag)
    storage.flush()
    assert summaries(path.read_bytes()) == {"dup": ["First", "Second"], "fine": ["Still fine"]}


def test_same_recurrence_id_twice_is_two_revisions_of_one_item(tmp_path: Path) -> None:
    # not an ambiguous UID: SEQUENCE picks the revision (translate/ics.py), so the
    # item is listed with every one of its events, the older revision included
    path = tmp_path / "cal.ics"
    path.write_bytes(
        calendar(
            vevent("s", "Master"),
            vevent("s", "Moved", recurrence_id="20260112T090000"),
            vevent("s", "Moved again", recurrence_id="20260112T090000"),
            vevent("s", "Other day", recurrence_id="20260119T090000"),
        )
    )
    storage = SingleFileStorage(path)
    assert [uid for uid, _ in storage.list()] == ["s"]
    assert storage.problems == []
    data, _ = storage.get("s")
    assert summaries(data) == {"s": ["Master", "Moved", "Moved again", "Other day"]}


def test_event_without_uid_is_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    no_uid = "BEGIN:VEVENT\r\nDTSTART:20260101T000000Z\r\nSUMMARY:Anonymous\r\nEND:VEVENT\r\n"
    path.write_bytes(calendar(vevent("ok"), no_uid))
    storage = SingleFileStorage(path)
    assert [href for href, _ in storage.list()] == ["ok"]
    [problem] = storage.problems
    assert isinstance(problem, ItemParseError)
    assert "line 10" in str(problem)
    assert str(path) in str(problem)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   \r\n",
        b"\x00\xff\xfe garbage \x89PNG",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n",
        b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    ],
)
def test_a_file_that_does_not_parse_is_an_error_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(content)
    with pytest.raises(ItemParseError) as caught:
        SingleFileStorage(path).list()
    assert str(path) in str(caught.value)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        SingleFileStorage(tmp_path / "nope.ics").list()
    with pytest.raises(StorageError, match="does not exist"):
        SingleFileStorage(tmp_path / "no-dir" / "nope.ics", create_if_missing=True).list()


def test_missing_file_is_created_on_first_flush_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "from-wecom.ics"
    storage = SingleFileStorage(path, create_if_missing=True)
    assert list(storage.list()) == []
    storage.flush()
    assert not path.exists()
    href, etag = storage.create("w1", item("w1", "From WeCom"))
    storage.flush()
    assert summaries(path.read_bytes()) == {"w1": ["From WeCom"]}
    assert dict(SingleFileStorage(path).list()) == {href: etag}


def test_file_created_by_someone_else_before_first_flush(tmp_path: Path) -> None:
    path = tmp_path / "from-wecom.ics"
    storage = SingleFileStorage(path, create_if_missing=True)
    storage.create("w1", item("w1"))
    path.write_bytes(calendar(vevent("theirs")))
    with pytest.raises(PreconditionFailed):
        storage.flush()
    assert summaries(path.read_bytes()) == {"theirs": ["Meeting"]}


def test_non_utf8_event_is_still_listed(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(calendar(vevent("ok")).replace(b"Meeting", "Caf\xe9".encode("latin-1")))
    storage = SingleFileStorage(path)
    assert [href for href, _ in storage.list()] == ["ok"]
    assert "Caf\xe9".encode("latin-1") in storage.get("ok")[0]


def test_non_utf8_uid_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(calendar(vevent("ok"), vevent("bad\xe9")).replace(b"bad\xc3\xa9", b"bad\xe9"))
    storage = SingleFileStorage(path)
    assert [href for href, _ in storage.list()] == ["ok"]
    [problem] = storage.problems
    assert "UTF-8" in str(problem)


def test_deleted_then_get_is_not_found(mixed: Path) -> None:
    storage = SingleFileStorage(mixed)
    etag = dict(storage.list())["comma,uid"]
    storage.delete("comma,uid", etag)
    with pytest.raises(ItemNotFound):
        storage.get("comma,uid")


def test_several_calendars_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    original = calendar(vevent("a")) + calendar(
        vevent("b"), header="VERSION:2.0\r\nX-WR-CALNAME:B\r\n"
    )
    path.write_bytes(original)
    storage = SingleFileStorage(path)
    assert [href for href, _ in storage.list()] == ["a", "b"]
    assert b"X-WR-CALNAME:B" in storage.get("b")[0]
    assert b"X-WR-CALNAME:B" not in storage.get("a")[0]
    storage.create("c", item("c"))
    storage.flush()
    written = path.read_bytes()
    assert written.startswith(calendar(vevent("a")))
    assert written.index(b"UID:c") > written.index(b"UID:b")


def test_after_flush_the_file_is_read_again_only_when_used(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = ics_split.split_calendar

    def counting(data: bytes, *, source: str) -> ics_split.Split:
        calls.append(source)
        return real(data, source=source)

    monkeypatch.setattr(ics_split, "split_calendar", counting)
    storage = SingleFileStorage(mixed)
    etag = dict(storage.list())["comma,uid"]
    new_etag = storage.update("comma,uid", calendar(vevent("comma,uid", "Flushed")), etag)
    storage.flush()
    reads = [source for source in calls if source == str(mixed)]
    assert reads == [str(mixed)]
    assert dict(storage.list())["comma,uid"] == new_etag
    assert [source for source in calls if source == str(mixed)] == [str(mixed)] * 2
