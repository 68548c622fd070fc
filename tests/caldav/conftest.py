"""Fixtures: Radicale and Xandikos, each started once per test session.

`dav_server` is parametrized over both servers; `calendar_url` is a fresh, empty
calendar collection on it for each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.caldav.servers import DavServer, start_radicale, start_xandikos

STARTERS = {"radicale": start_radicale, "xandikos": start_xandikos}


@pytest.fixture(scope="session", params=sorted(STARTERS))
def dav_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DavServer]:
    name: str = request.param
    server = STARTERS[name](tmp_path_factory.mktemp(name))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def calendar_url(dav_server: DavServer) -> str:
    return dav_server.new_calendar()
