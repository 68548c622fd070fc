"""The test servers themselves: they run, want credentials, and keep to their folder."""

from __future__ import annotations

import httpx
import pytest

from tests.caldav.servers import DavServer


def test_server_refuses_requests_without_credentials(
    dav_server: DavServer, calendar_url: str
) -> None:
    with dav_server.http() as http:
        http.auth = None
        response = http.request("PROPFIND", calendar_url, headers={"Depth": "0"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].lower().startswith("basic")


def test_server_answers_with_credentials(dav_server: DavServer, calendar_url: str) -> None:
    with dav_server.http() as http:
        response = http.request("PROPFIND", calendar_url, headers={"Depth": "1"})
    assert response.status_code == 207
    assert "calendar" in response.text


def test_server_keeps_its_data_in_its_temporary_folder(
    dav_server: DavServer, calendar_url: str
) -> None:
    collection = calendar_url.rstrip("/").rsplit("/", 1)[1]
    assert any(p.name == collection for p in dav_server.root.rglob(collection))
    assert dav_server.process.poll() is None


def test_xandikos_is_trusted_only_with_its_certificate(dav_server: DavServer) -> None:
    if not dav_server.base_url.startswith("https"):
        pytest.skip("only Xandikos serves TLS")
    with pytest.raises(httpx.ConnectError, match=r"(?i)certificate"):
        httpx.get(dav_server.base_url + "/", timeout=5)
