"""The CalDAV storage beyond the contract: what each load costs, sync tokens,
concurrent edits, auth, redirects, timeouts and servers' odd answers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.caldav.proxy import DavProxy, Faults
from tests.caldav.servers import DavServer
from tests.caldav.test_contract import caldav_storage
from tests.storage.ics import item, summaries
from wesync.caldav import client as client_module
from wesync.caldav.storage import CalDavStorage, open_caldav
from wesync.config import Secret
from wesync.errors import ItemNotFound, PreconditionFailed, StorageError


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return tmp_path / "state" / "pair.caldav.sqlite"


@pytest.fixture
def proxy(dav_server: DavServer) -> Iterator[DavProxy]:
    p = DavProxy(dav_server)
    yield p
    p.close()


def through(proxy: DavProxy, url: str, mirror: Path | None, **kw: object) -> CalDavStorage:
    return open_caldav(
        proxy.proxied(url),
        username=proxy.upstream.username,
        password=Secret(proxy.upstream.password),
        mirror=mirror,
        **kw,  # type: ignore[arg-type]
    )


def fill(dav_server: DavServer, url: str, n: int) -> None:
    with dav_server.http() as http:
        for i in range(n):
            r = http.put(
                f"{url}e{i}.ics",
                content=item(f"e{i}", f"Event {i}"),
                headers={"Content-Type": "text/calendar", "If-None-Match": "*"},
            )
            assert r.status_code in (201, 204), r.status_code


def test_a_no_op_load_costs_one_sync_collection_report(
    dav_server: DavServer, calendar_url: str, mirror: Path
) -> None:
    fill(dav_server, calendar_url, 5)
    first = caldav_storage(dav_server, calendar_url, mirror)
    first.load()
    assert len(list(first.list())) == 5
    assert first.last_load == {"PROPFIND": 1, "REPORT": 2}  # probe, full sync, one multiget
    first.close()
    again = caldav_storage(dav_server, calendar_url, mirror)
    again.load()
    assert again.last_load == {"REPORT": 1}
    assert dict(again.list()) == dict(first.list())
    assert summaries(again.get("e3.ics")[0]) == {"e3": ["Event 3"]}
    assert again.last_load == {"REPORT": 1}  # read from the mirror
    again.close()


def test_changes_made_elsewhere_are_fetched_and_nothing_else(
    dav_server: DavServer, calendar_url: str, mirror: Path
) -> None:
    fill(dav_server, calendar_url, 4)
    caldav_storage(dav_server, calendar_url, mirror).load()
    with dav_server.http() as http:
        http.put(
            f"{calendar_url}e1.ics",
            content=item("e1", "Edited elsewhere"),
            headers={"Content-Type": "text/calendar"},
        )
        http.delete(f"{calendar_url}e2.ics")
    store = caldav_storage(dav_server, calendar_url, mirror)
    store.load()
    assert sorted(dict(store.list())) == ["e0.ics", "e1.ics", "e3.ics"]
    assert store.last_load == {"REPORT": 2}  # the delta, one multiget of e1
    assert summaries(store.get("e1.ics")[0]) == {"e1": ["Edited elsewhere"]}


def test_multiget_goes_in_batches(
    dav_server: DavServer, calendar_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(dav_server, calendar_url, 7)
    monkeypatch.setattr(client_module, "MULTIGET_BATCH", 3)
    store = caldav_storage(dav_server, calendar_url, None)
    store.load()
    assert store.last_load == {"PROPFIND": 1, "REPORT": 1 + 3}  # the sync, 3 + 3 + 1 items
    got = {h: summaries(store.get(h)[0]) for h, _ in store.list()}
    assert got == {f"e{i}.ics": {f"e{i}": [f"Event {i}"]} for i in range(7)}
    assert store.last_load == {"PROPFIND": 1, "REPORT": 4}


def test_an_expired_sync_token_means_a_full_listing(
    dav_server: DavServer, calendar_url: str, mirror: Path
) -> None:
    fill(dav_server, calendar_url, 3)
    store = caldav_storage(dav_server, calendar_url, mirror)
    store.load()
    store.mirror.set_meta("sync_token", "http://example.com/not-a-token-of-yours")
    store.close()
    again = caldav_storage(dav_server, calendar_url, mirror)
    again.load()
    # the refused REPORT, the probe, the full sync; the bytes come from the mirror
    assert again.last_load == {"REPORT": 2, "PROPFIND": 1}
    assert sorted(dict(again.list())) == ["e0.ics", "e1.ics", "e2.ics"]


def test_without_sync_collection_one_propfind_lists(
    proxy: DavProxy, calendar_url: str, mirror: Path
) -> None:
    fill(proxy.upstream, calendar_url, 3)
    proxy.faults.no_sync = True
    store = through(proxy, calendar_url, mirror)
    store.load()
    assert store.last_load == {"PROPFIND": 2, "REPORT": 1}  # probe, listing, multiget
    store.close()
    again = through(proxy, calendar_url, mirror)
    again.load()
    assert again.last_load == {"PROPFIND": 1}
    assert sorted(dict(again.list())) == ["e0.ics", "e1.ics", "e2.ics"]


def test_a_concurrent_edit_is_a_412_and_is_read_next_time(
    dav_server: DavServer, calendar_url: str, mirror: Path
) -> None:
    store = caldav_storage(dav_server, calendar_url, mirror)
    store.load()
    href, etag = store.create("u1", item("u1", "Ours"))
    with dav_server.http() as http:
        http.put(
            f"{calendar_url}{href}",
            content=item("u1", "Theirs"),
            headers={"Content-Type": "text/calendar"},
        )
    with pytest.raises(PreconditionFailed, match="nothing was overwritten"):
        store.update(href, item("u1", "Ours again"), etag)
    with pytest.raises(PreconditionFailed):
        store.delete(href, etag)
    again = caldav_storage(dav_server, calendar_url, mirror)
    again.load()
    data, new_etag = again.get(href)
    assert new_etag != etag
    assert summaries(data) == {"u1": ["Theirs"]}


def test_create_never_replaces_an_item_made_meanwhile(
    dav_server: DavServer, calendar_url: str
) -> None:
    store = caldav_storage(dav_server, calendar_url, None)
    store.load()
    fill(dav_server, calendar_url, 1)  # e0.ics appears after the listing
    try:
        href, _ = store.create("e0", item("e0", "Mine"))
    except StorageError as exc:  # Radicale: one UID per collection (no-uid-conflict)
        assert "same UID" in str(exc)
    else:
        assert href != "e0.ics"
    with dav_server.http() as http:
        assert "Event 0" in http.get(f"{calendar_url}e0.ics").text


def test_digest_auth(proxy: DavProxy, calendar_url: str, mirror: Path) -> None:
    proxy.faults.digest = True
    store = through(proxy, calendar_url, mirror)
    store.load()
    href, _ = store.create("d1", item("d1", "Via digest"))
    assert store.client.learned_scheme == "digest"
    store.close()
    again = through(proxy, calendar_url, mirror)
    again.load()
    assert summaries(again.get(href)[0]) == {"d1": ["Via digest"]}
    assert all(not h.lower().startswith("basic") for h in proxy.auth_headers)
    assert any(h.lower().startswith("digest") for h in proxy.auth_headers)


def test_basic_auth_is_remembered_so_a_no_op_is_one_request(
    proxy: DavProxy, calendar_url: str, mirror: Path
) -> None:
    through(proxy, calendar_url, mirror).load()
    assert proxy.auth_headers[0] == ""  # the first request asks which scheme
    proxy.seen.clear()
    through(proxy, calendar_url, mirror).load()
    assert proxy.seen == {"REPORT": 1}
    assert proxy.auth_headers[-1].startswith("Basic ")


def test_wrong_password_is_an_error_that_does_not_show_it(
    dav_server: DavServer, calendar_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = open_caldav(
        calendar_url,
        username=dav_server.username,
        password=Secret("wrong-password-123"),
        verify=dav_server.verify,
        mirror=None,
    )
    with pytest.raises(StorageError, match="refused the username or password") as caught:
        store.load()
    assert "wrong-password-123" not in str(caught.value)
    assert "wrong-password-123" not in caplog.text
    assert calendar_url in str(caught.value)


def test_the_password_is_never_logged(
    dav_server: DavServer, calendar_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore"):  # `wesync -q` in an earlier test raised them
        caplog.set_level(logging.DEBUG, logger=name)
    store = caldav_storage(dav_server, calendar_url, None)
    store.load()
    store.create("p1", item("p1"))
    assert caplog.text  # httpx did log its requests
    assert dav_server.password not in caplog.text


def test_a_redirected_collection_is_followed(
    proxy: DavProxy, calendar_url: str, mirror: Path
) -> None:
    real = proxy.proxied(calendar_url)
    path = real.removeprefix(proxy.url)
    proxy.faults.redirects = {"/moved/": path}
    store = open_caldav(
        proxy.url + "/moved/",
        username=proxy.upstream.username,
        password=Secret(proxy.upstream.password),
        mirror=mirror,
    )
    store.load()
    assert store.url == real
    href, _ = store.create("r1", item("r1", "After a redirect"))
    with proxy.upstream.http() as http:
        assert "After a redirect" in http.get(f"{calendar_url}{href}").text


def test_a_slow_server_times_out_with_the_url_named(proxy: DavProxy, calendar_url: str) -> None:
    proxy.faults.delay = 1.0
    store = through(proxy, calendar_url, None, timeout=0.2)
    with pytest.raises(StorageError, match=r"no answer within 0\.2s") as caught:
        store.load()
    assert proxy.proxied(calendar_url) in str(caught.value)


def test_odd_items_are_named_and_harm_nothing_else(
    proxy: DavProxy, calendar_url: str, mirror: Path
) -> None:
    fill(proxy.upstream, calendar_url, 4)
    proxy.faults.fail = {"e1.ics"}
    proxy.faults.no_etag = {"e2.ics"}
    store = through(proxy, calendar_url, mirror)
    store.load()
    # every item is still listed: none of them can look deleted
    assert sorted(dict(store.list())) == ["e0.ics", "e1.ics", "e2.ics", "e3.ics"]
    assert summaries(store.get("e0.ics")[0]) == {"e0": ["Event 0"]}
    assert summaries(store.get("e3.ics")[0]) == {"e3": ["Event 3"]}
    with pytest.raises(StorageError, match="500") as failed:
        store.get("e1.ics")
    assert failed.value.path == proxy.proxied(calendar_url) + "e1.ics"
    with pytest.raises(StorageError, match="without an ETag") as no_etag:
        store.get("e2.ics")
    assert no_etag.value.path == proxy.proxied(calendar_url) + "e2.ics"
    store.close()
    # once the server behaves, the next load reads them
    proxy.faults = Faults()
    again = through(proxy, calendar_url, mirror)
    again.load()
    assert summaries(again.get("e1.ics")[0]) == {"e1": ["Event 1"]}
    assert summaries(again.get("e2.ics")[0]) == {"e2": ["Event 2"]}


def test_an_item_that_does_not_parse_is_handed_over_as_bytes(
    proxy: DavProxy, calendar_url: str
) -> None:
    fill(proxy.upstream, calendar_url, 2)
    proxy.faults.garbage = {"e0.ics"}
    store = through(proxy, calendar_url, None)
    store.load()
    # the engine's parser names it (tests/caldav/test_e2e); the storage keeps it apart
    assert store.get("e0.ics")[0].startswith(b"this is not")
    assert summaries(store.get("e1.ics")[0]) == {"e1": ["Event 1"]}


def test_a_failed_listing_is_an_error_not_an_empty_collection(
    proxy: DavProxy, calendar_url: str, mirror: Path
) -> None:
    fill(proxy.upstream, calendar_url, 2)
    through(proxy, calendar_url, mirror).load()
    proxy.faults.fail = {""}  # the collection's own path ends in "/": its name is ""
    with pytest.raises(StorageError, match="500"):
        through(proxy, calendar_url, mirror).load()


def test_a_url_that_is_not_a_calendar_is_refused(dav_server: DavServer) -> None:
    store = caldav_storage(dav_server, dav_server.base_url + dav_server.home, None)
    with pytest.raises(StorageError, match="not a CalDAV calendar collection"):
        store.load()


def test_a_missing_collection_is_an_error(dav_server: DavServer) -> None:
    store = caldav_storage(dav_server, dav_server.base_url + dav_server.home + "nope/", None)
    with pytest.raises(StorageError, match=r"404|not a CalDAV"):
        store.load()


def test_unknown_items_are_not_found(dav_server: DavServer, calendar_url: str) -> None:
    store = caldav_storage(dav_server, calendar_url, None)
    store.load()
    with pytest.raises(ItemNotFound):
        store.get("never.ics")


async def test_the_async_methods_leave_the_callers_loop_free(
    dav_server: DavServer, calendar_url: str
) -> None:
    import asyncio

    store = caldav_storage(dav_server, calendar_url, None)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await store.aload()
    href, etag = await store.acreate("a1", item("a1", "Async"))
    etag = await store.aupdate(href, item("a1", "Async 2"), etag)
    assert summaries((await store.aget(href))[0]) == {"a1": ["Async 2"]}
    await store.adelete(href, etag)
    ticker.cancel()
    await store.aclose()
    assert ticks > 10
