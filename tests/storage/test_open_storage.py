from __future__ import annotations

from pathlib import Path

import pytest

from tests.storage.ics import calendar
from wesync.errors import StorageError
from wesync.storage import SingleFileStorage, VdirStorage, open_storage


def test_folder_is_a_vdir(tmp_path: Path) -> None:
    storage = open_storage(tmp_path)
    assert isinstance(storage, VdirStorage)
    assert storage.path == tmp_path


def test_a_folder_named_like_a_file_is_still_a_vdir(tmp_path: Path) -> None:
    (tmp_path / "team.ics").mkdir()
    assert isinstance(open_storage(tmp_path / "team.ics"), VdirStorage)


def test_ics_file_is_single_file(tmp_path: Path) -> None:
    (tmp_path / "team.ICS").write_bytes(calendar())
    storage = open_storage(tmp_path / "team.ICS")
    assert isinstance(storage, SingleFileStorage)
    assert list(storage.list()) == []


def test_missing_ics_file_only_with_create_if_missing(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_storage(tmp_path / "new.ics")
    storage = open_storage(tmp_path / "new.ics", create_if_missing=True)
    assert isinstance(storage, SingleFileStorage)
    with pytest.raises(StorageError, match="does not exist"):
        open_storage(tmp_path / "missing-dir" / "new.ics", create_if_missing=True)


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="folder does not exist") as caught:
        open_storage(tmp_path / "calendars")
    assert str(tmp_path / "calendars") in str(caught.value)


def test_other_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(StorageError, match=r"neither a folder nor an \.ics file"):
        open_storage(tmp_path / "notes.txt")
