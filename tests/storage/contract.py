"""Behaviour every LocalStorage must have; subclassed once per storage.

Subclasses provide the `storage` fixture (an empty storage under
``tmp_path / "store"``, so that ``tmp_path`` itself is "outside") and
`fresh` (a new instance on the same path, as the next sync run sees it).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from tests.storage.ics import item, summaries
from wesync.errors import ItemNotFound, PreconditionFailed, StorageError
from wesync.storage.base import LocalStorage


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


class StorageContract:
    """The tests every local storage must pass. Each backend's test class subclasses
    this and overrides the two hooks below; the base class alone is never collected
    (its name does not start with Test), so the hooks raise only if one is forgotten."""

    @pytest.fixture
    def storage(self, tmp_path: Path) -> LocalStorage:
        raise TypeError(f"{type(self).__name__} must override the storage fixture")

    def fresh(self, storage: LocalStorage) -> LocalStorage:
        raise TypeError(f"{type(self).__name__} must override fresh()")

    def reopen(self, storage: LocalStorage) -> LocalStorage:
        storage.flush()
        return self.fresh(storage)

    def test_empty_storage_lists_nothing(self, storage: LocalStorage) -> None:
        assert list(storage.list()) == []

    def test_create_list_get(self, storage: LocalStorage) -> None:
        href, etag = storage.create("event-1@example.com", item("event-1@example.com", "Kickoff"))
        assert list(storage.list()) == [(href, etag)]
        data, got_etag = storage.get(href)
        assert got_etag == etag
        assert summaries(data) == {"event-1@example.com": ["Kickoff"]}

    def test_items_survive_a_new_instance(self, storage: LocalStorage) -> None:
        hrefs = {storage.create(f"u{i}", item(f"u{i}", f"Event {i}"))[0]: i for i in range(3)}
        again = self.reopen(storage)
        listed = dict(again.list())
        assert set(listed) == set(hrefs)
        for href, i in hrefs.items():
            data, etag = again.get(href)
            assert etag == listed[href]
            assert summaries(data) == {f"u{i}": [f"Event {i}"]}

    def test_update_changes_content_and_etag(self, storage: LocalStorage) -> None:
        href, etag = storage.create("u1", item("u1", "Before"))
        new_etag = storage.update(href, item("u1", "After"), etag)
        assert new_etag != etag
        assert dict(storage.list()) == {href: new_etag}
        data, got = self.reopen(storage).get(href)
        assert got == new_etag
        assert summaries(data) == {"u1": ["After"]}

    def test_update_with_stale_etag_is_refused(self, storage: LocalStorage) -> None:
        href, etag = storage.create("u1", item("u1", "One"))
        storage.update(href, item("u1", "Two"), etag)
        with pytest.raises(PreconditionFailed):
            storage.update(href, item("u1", "Three"), etag)
        assert summaries(self.reopen(storage).get(href)[0]) == {"u1": ["Two"]}

    def test_delete(self, storage: LocalStorage) -> None:
        keep, _ = storage.create("keep", item("keep"))
        gone, etag = storage.create("gone", item("gone"))
        storage.delete(gone, etag)
        assert [href for href, _ in storage.list()] == [keep]
        with pytest.raises(ItemNotFound):
            storage.get(gone)
        assert [href for href, _ in self.reopen(storage).list()] == [keep]

    def test_delete_with_stale_etag_is_refused(self, storage: LocalStorage) -> None:
        href, etag = storage.create("u1", item("u1", "One"))
        storage.update(href, item("u1", "Two"), etag)
        with pytest.raises(PreconditionFailed):
            storage.delete(href, etag)
        assert summaries(self.reopen(storage).get(href)[0]) == {"u1": ["Two"]}

    def test_missing_item(self, storage: LocalStorage) -> None:
        with pytest.raises(ItemNotFound):
            storage.get("nothing-here.ics")
        with pytest.raises(ItemNotFound):
            storage.update("nothing-here.ics", item("x"), "etag")
        with pytest.raises(ItemNotFound):
            storage.delete("nothing-here.ics", "etag")

    def test_create_never_overwrites(self, storage: LocalStorage) -> None:
        href, etag = storage.create("same", item("same", "First"))
        # A storage may store the second one elsewhere or refuse it; never replace the first.
        with contextlib.suppress(StorageError):
            second, _ = storage.create("same", item("same", "Second"))
            assert second != href
        again = self.reopen(storage)
        data, got = again.get(href)
        assert summaries(data) == {"same": ["First"]}
        assert got == etag

    def test_unchanged_items_keep_their_etags(self, storage: LocalStorage) -> None:
        made = [storage.create(f"u{i}", item(f"u{i}", f"E{i}")) for i in range(4)]
        storage = self.reopen(storage)
        before = dict(storage.list())
        storage.update(made[1][0], item("u1", "Changed"), before[made[1][0]])
        storage.delete(made[2][0], before[made[2][0]])
        storage.create("u9", item("u9"))
        after = dict(self.reopen(storage).list())
        for href in (made[0][0], made[3][0]):
            assert after[href] == before[href]
        assert after[made[1][0]] != before[made[1][0]]
        assert made[2][0] not in after

    @pytest.mark.parametrize(
        "href",
        ["../evil.ics", "sub/evil.ics", "..\\evil.ics", "/etc/passwd", "..", "", "a/../b.ics"],
    )
    def test_hrefs_cannot_leave_the_storage(
        self, storage: LocalStorage, tmp_path: Path, href: str
    ) -> None:
        storage.create("u1", item("u1"))
        storage.flush()
        before = snapshot(tmp_path)
        for call in (
            lambda: storage.get(href),
            lambda: storage.update(href, item("evil"), "etag"),
            lambda: storage.delete(href, "etag"),
        ):
            with pytest.raises(StorageError):
                call()
        storage.flush()
        assert snapshot(tmp_path) == before

    @pytest.mark.parametrize("uid", ["../../evil", "a/b", "..", "\\..\\x", "/abs/path", ".hidden"])
    def test_remote_uids_never_write_outside(
        self, storage: LocalStorage, tmp_path: Path, uid: str
    ) -> None:
        outside = tmp_path
        before = {p.name for p in outside.iterdir()}
        href, _ = storage.create(uid, item(uid, "Hostile"))
        storage.flush()
        assert {p.name for p in outside.iterdir()} == before
        assert summaries(self.reopen(storage).get(href)[0]) == {uid: ["Hostile"]}

    def test_interrupted_write_keeps_the_old_file(
        self, storage: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        href, etag = storage.create("u1", item("u1", "Old"))
        storage = self.reopen(storage)
        etag = dict(storage.list())[href]
        before = snapshot(tmp_path)

        def crash(src: object, dst: object) -> None:
            raise OSError(5, "simulated crash between temp write and rename")

        monkeypatch.setattr(os, "replace", crash)
        with pytest.raises(StorageError):
            storage.update(href, item("u1", "New"), etag)
            storage.flush()
        monkeypatch.undo()
        assert snapshot(tmp_path) == before
        assert summaries(self.fresh(storage).get(href)[0]) == {"u1": ["Old"]}
