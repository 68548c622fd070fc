from __future__ import annotations

import builtins
import os
import stat
from pathlib import Path

import pytest

from tests.storage.contract import StorageContract, snapshot
from tests.storage.ics import item, summaries
from wesync.errors import ItemNotFound, PreconditionFailed, StorageError
from wesync.storage import vdir
from wesync.storage.base import LocalStorage
from wesync.storage.vdir import VdirStorage


class TestVdirContract(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> LocalStorage:
        folder = tmp_path / "store"
        folder.mkdir()
        return VdirStorage(folder)

    def fresh(self, storage: LocalStorage) -> LocalStorage:
        assert isinstance(storage, VdirStorage)
        return VdirStorage(storage.path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "cal"
    path.mkdir()
    return path


def test_listing_opens_no_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        (folder / f"e{i}.ics").write_bytes(item(f"e{i}"))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"list() opened {args[0]!r}")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(os, "open", refuse)
    listed = dict(VdirStorage(folder).list())
    monkeypatch.undo()
    assert sorted(listed) == [f"e{i}.ics" for i in range(5)]


def test_etag_is_mtime_size_inode(folder: Path) -> None:
    path = folder / "a.ics"
    path.write_bytes(item("a"))
    st = path.stat()
    assert dict(VdirStorage(folder).list()) == {
        "a.ics": f"{st.st_mtime_ns};{st.st_size};{st.st_ino}"
    }


def test_listing_skips_what_is_not_an_item(folder: Path) -> None:
    (folder / "real.ics").write_bytes(item("real"))
    (folder / "UPPER.ICS").write_bytes(item("upper"))
    (folder / "half-written.ics.tmp").write_bytes(b"BEGIN:VCAL")
    (folder / ".wesync-123.tmp").write_bytes(b"x")
    (folder / ".hidden.ics").write_bytes(item("hidden"))
    (folder / "notes.txt").write_text("not a calendar")
    (folder / "color").write_text("#ff0000")
    (folder / "sub.ics").mkdir()
    (folder / "sub.ics" / "inner.ics").write_bytes(item("inner"))
    assert sorted(href for href, _ in VdirStorage(folder).list()) == ["UPPER.ICS", "real.ics"]


def test_garbage_files_are_listed_and_read_as_bytes(folder: Path) -> None:
    garbage = bytes(range(256)) * 4
    latin1 = "BEGIN:VCALENDAR\r\nSUMMARY:caf\xe9\r\n".encode("latin-1")
    (folder / "garbage.ics").write_bytes(garbage)
    (folder / "latin1.ics").write_bytes(latin1)
    (folder / "empty.ics").write_bytes(b"")
    storage = VdirStorage(folder)
    listed = dict(storage.list())
    assert set(listed) == {"garbage.ics", "latin1.ics", "empty.ics"}
    assert storage.get("garbage.ics") == (garbage, listed["garbage.ics"])
    assert storage.get("latin1.ics")[0] == latin1
    assert storage.get("empty.ics")[0] == b""


@pytest.mark.parametrize("make", ["missing", "file"])
def test_missing_folder_is_an_error_not_an_empty_listing(tmp_path: Path, make: str) -> None:
    path = tmp_path / "calendar"
    if make == "file":
        path.write_text("oops")
    storage = VdirStorage(path)
    with pytest.raises(StorageError) as caught:
        storage.list()
    assert str(path) in str(caught.value)
    with pytest.raises(StorageError):
        storage.create("u1", item("u1"))


def test_folder_removed_after_construction(folder: Path) -> None:
    storage = VdirStorage(folder)
    folder.rmdir()
    with pytest.raises(StorageError, match="does not exist"):
        storage.list()


@pytest.mark.parametrize(
    ("uid", "expected"),
    [
        ("abc-123@example.com", "abc-123@example.com.ics"),
        ("A_b.c+d", "A_b.c+d.ics"),
        ("040000008200E00074C5B7101A82E008", "040000008200E00074C5B7101A82E008.ics"),
    ],
)
def test_safe_uid_becomes_the_file_name(folder: Path, uid: str, expected: str) -> None:
    href, _ = VdirStorage(folder).create(uid, item(uid))
    assert href == expected
    assert (folder / expected).read_bytes() == item(uid)


@pytest.mark.parametrize(
    "uid",
    [
        "has space",
        "slash/inside",
        "..",
        "a..b",
        ".dotfirst",
        "中文",
        "x" * 201,
        "semi;colon",
        "a\\b",
    ],
)
def test_unsafe_uid_gets_a_random_name(folder: Path, uid: str) -> None:
    href, _ = VdirStorage(folder).create(uid, item("u"))
    stem = href.removesuffix(".ics")
    assert len(stem) == 32
    int(stem, 16)
    assert [p.name for p in folder.iterdir()] == [href]


def test_uid_of_200_characters_is_still_used(folder: Path) -> None:
    uid = "y" * 200
    assert VdirStorage(folder).create(uid, item("u"))[0] == uid + ".ics"


def test_case_insensitive_clash_gets_a_random_name(folder: Path) -> None:
    (folder / "Meeting.ics").write_bytes(b"existing")
    href, _ = VdirStorage(folder).create("meeting", item("meeting"))
    assert href.lower() != "meeting.ics"
    assert (folder / "Meeting.ics").read_bytes() == b"existing"


def test_file_appearing_after_the_name_cache_is_not_overwritten(folder: Path) -> None:
    storage = VdirStorage(folder)
    storage.create("first", item("first"))  # fills the name cache
    (folder / "late.ics").write_bytes(b"written by someone else")
    href, _ = storage.create("late", item("late"))
    assert href != "late.ics"
    assert (folder / "late.ics").read_bytes() == b"written by someone else"
    assert summaries((folder / href).read_bytes()) == {"late": ["Meeting"]}


def test_writes_leave_no_temp_files(folder: Path) -> None:
    storage = VdirStorage(folder)
    href, etag = storage.create("u1", item("u1"))
    etag = storage.update(href, item("u1", "Again"), etag)
    storage.create("u2", item("u2"))
    assert sorted(p.name for p in folder.iterdir()) == ["u1.ics", "u2.ics"]


def test_interrupted_create_leaves_nothing(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(src: object, dst: object) -> None:
        raise OSError(5, "simulated crash before link")

    monkeypatch.setattr(os, "link", crash)
    with pytest.raises(StorageError):
        VdirStorage(folder).create("u1", item("u1"))
    monkeypatch.undo()
    assert list(folder.iterdir()) == []


def test_without_hard_links_create_still_refuses_to_overwrite(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(src: object, dst: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", unsupported)
    storage = VdirStorage(folder)
    href, etag = storage.create("u1", item("u1", "One"))
    assert href == "u1.ics"
    assert storage.get(href) == (item("u1", "One"), etag)
    (folder / "u2.ics").write_bytes(b"someone else's")
    second, _ = storage.create("u2", item("u2"))
    assert second != "u2.ics"
    assert (folder / "u2.ics").read_bytes() == b"someone else's"


def test_external_edit_makes_update_and_delete_fail(folder: Path) -> None:
    storage = VdirStorage(folder)
    href, etag = storage.create("u1", item("u1", "Ours"))
    # Same size, so only mtime and inode can tell: an atomic replace by another tool.
    other = folder / "other.tmp"
    other.write_bytes(item("u1", "Tool"))
    os.replace(other, folder / href)
    with pytest.raises(PreconditionFailed):
        storage.update(href, item("u1", "Mine"), etag)
    with pytest.raises(PreconditionFailed):
        storage.delete(href, etag)
    assert summaries((folder / href).read_bytes()) == {"u1": ["Tool"]}


def test_get_returns_the_etag_listing_shows(folder: Path) -> None:
    storage = VdirStorage(folder)
    href, _ = storage.create("u1", item("u1"))
    (folder / href).write_bytes(item("u1", "Edited in place"))
    listed = dict(storage.list())[href]
    data, etag = storage.get(href)
    assert etag == listed
    assert summaries(data) == {"u1": ["Edited in place"]}


def test_get_rereads_a_file_replaced_while_reading(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = VdirStorage(folder)
    href, _ = storage.create("u1", item("u1", "Old"))
    real_stat = os.stat
    calls = 0

    def replace_then_stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        nonlocal calls
        calls += 1
        if calls == 1:
            # Another tool swaps the file in after we opened the old one.
            tmp = folder / "swap.tmp"
            tmp.write_bytes(item("u1", "New"))
            os.replace(tmp, folder / href)
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vdir.os, "stat", replace_then_stat)
    data, etag = storage.get(href)
    monkeypatch.undo()
    assert summaries(data) == {"u1": ["New"]}
    assert etag == vdir.etag_of(os.stat(folder / href))


def test_new_files_follow_the_umask_and_updates_keep_the_mode(folder: Path) -> None:
    old = os.umask(0o027)
    try:
        storage = VdirStorage(folder)
        href, etag = storage.create("u1", item("u1"))
    finally:
        os.umask(old)
    path = folder / href
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    path.chmod(0o600)
    etag = dict(storage.list())[href]
    storage.update(href, item("u1", "Changed"), etag)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_symlink_to_outside_is_replaced_not_followed(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "outside.ics"
    target.write_bytes(item("linked", "Outside"))
    (folder / "linked.ics").symlink_to(target)
    storage = VdirStorage(folder)
    etag = dict(storage.list())["linked.ics"]
    storage.update("linked.ics", item("linked", "Inside"), etag)
    assert summaries(target.read_bytes()) == {"linked": ["Outside"]}
    assert summaries((folder / "linked.ics").read_bytes()) == {"linked": ["Inside"]}


def test_symlinked_folder_is_the_storage(tmp_path: Path, folder: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(folder, target_is_directory=True)
    storage = VdirStorage(link)
    href, etag = storage.create("u1", item("u1"))
    assert storage.get(href) == (item("u1"), etag)
    assert (folder / href).exists()


def test_deleted_file_is_not_found(folder: Path) -> None:
    storage = VdirStorage(folder)
    href, etag = storage.create("u1", item("u1"))
    (folder / href).unlink()
    with pytest.raises(ItemNotFound):
        storage.get(href)
    with pytest.raises(ItemNotFound):
        storage.delete(href, etag)


def test_create_after_delete_can_reuse_the_name(folder: Path) -> None:
    storage = VdirStorage(folder)
    href, etag = storage.create("u1", item("u1"))
    storage.delete(href, etag)
    assert storage.create("u1", item("u1"))[0] == href


def test_other_extension(folder: Path) -> None:
    (folder / "a.ics").write_bytes(item("a"))
    storage = VdirStorage(folder, fileext=".ical")
    href, _ = storage.create("b", item("b"))
    assert href == "b.ical"
    assert [h for h, _ in storage.list()] == ["b.ical"]
    with pytest.raises(StorageError):
        VdirStorage(folder, fileext=".tmp")


def test_nothing_written_outside_on_traversal_create(tmp_path: Path, folder: Path) -> None:
    before = snapshot(tmp_path)
    href, _ = VdirStorage(folder).create("../../x", item("x"))
    after = snapshot(tmp_path)
    assert set(after) - set(before) == {f"cal/{href}"}
