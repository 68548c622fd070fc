"""The storage contract suite against a real Radicale and a real Xandikos."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.caldav.servers import DavServer
from tests.storage.contract import StorageContract
from tests.storage.ics import item, summaries
from wesync.caldav.storage import CalDavStorage, open_caldav
from wesync.config import Secret
from wesync.errors import StorageError
from wesync.storage.base import LocalStorage


def caldav_storage(server: DavServer, url: str, mirror: Path | None) -> CalDavStorage:
    return open_caldav(
        url,
        username=server.username,
        password=Secret(server.password),
        verify=server.verify,
        mirror=mirror,
    )


class TestCalDavContract(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path: Path, dav_server: DavServer, calendar_url: str) -> LocalStorage:
        self.server = dav_server
        # the mirror is where a pair keeps it: in its state folder, under tmp_path/store
        store = caldav_storage(dav_server, calendar_url, tmp_path / "store" / "pair.caldav.sqlite")
        store.load()
        return store

    def fresh(self, storage: LocalStorage) -> LocalStorage:
        assert isinstance(storage, CalDavStorage)
        again = caldav_storage(self.server, storage.url, storage.mirror.path)
        storage.close()
        again.load()
        return again

    def test_interrupted_write_keeps_the_old_file(  # type: ignore[override]
        self, storage: LocalStorage, tmp_path: Path
    ) -> None:
        """A write the server never answers (it is gone) raises and changes nothing."""
        assert isinstance(storage, CalDavStorage)
        href, etag = storage.create("u1", item("u1", "Old"))
        storage = self.reopen(storage)
        etag = dict(storage.list())[href]
        assert isinstance(storage, CalDavStorage)
        good_url = storage.client.url
        storage.client.url = "http://127.0.0.1:9/nothing/"  # the discard port: refused
        with pytest.raises(StorageError, match="cannot reach"):
            storage.update(href, item("u1", "New"), etag)
        storage.client.url = good_url
        assert summaries(self.fresh(storage).get(href)[0]) == {"u1": ["Old"]}
