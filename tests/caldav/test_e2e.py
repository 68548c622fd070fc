"""Two-way sync end to end with a CalDAV collection as the iCalendar side: a real
Radicale or Xandikos, wesync's real engine and status, and the WeCom emulator
over loopback. Other clients' edits are made with plain HTTP; one test reads
WeCom's events back with the `caldav` package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from tests.caldav.proxy import DavProxy
from tests.caldav.servers import DavServer
from tests.e2e.conftest import calendar, vevent
from tests.sync.helpers import know_sequence, loopback_client, make_calendar, writes
from wesync.caldav.settings import CalDavConfig
from wesync.config import PairConfig, Secret
from wesync.sync.engine import run_pair
from wesync.sync.problems import SyncKind
from wesync.sync.report import PairReport

WEEKLY = calendar(
    vevent(
        "weekly@example.com",
        "Team meeting",
        "20270104T100000",
        "20270104T110000",
        rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=10",
        exdates=("20270111T100000",),
    ),
    vevent(
        "weekly@example.com",
        "Team meeting (moved)",
        "20270119T150000",
        "20270119T160000",
        recurrence_id="20270118T100000",
    ),
)
LUNCH = calendar(vevent("lunch@example.com", "Lunch", "20270105T120000", "20270105T130000"))
KEEP = calendar(vevent("keep@example.com", "Kept", "20270106T120000", "20270106T130000"))


class CalDavEnv:
    """A pair whose iCalendar side is `url` on `dav` (through `proxy`, which counts)."""

    def __init__(self, emulator: Any, dav: DavServer, proxy: DavProxy, url: str, tmp: Path):
        self.server = emulator
        self.dav = dav
        self.proxy = proxy
        self.url = url  #: the collection on the server itself
        self.cal_id = make_calendar(emulator)
        self.state = tmp / "state"
        know_sequence(self.state, "team")
        self.http = dav.http()
        self.pair = PairConfig(
            name="team",
            local=None,
            cal_id=self.cal_id,
            caldav=CalDavConfig(
                url=proxy.proxied(url), username=dav.username, password=Secret(dav.password)
            ),
        )

    async def sync(self, **kw: Any) -> PairReport:
        async with loopback_client(self.server, token_cache=self.state / "token.json") as client:
            return await run_pair(self.pair, client=client, state_dir=self.state, **kw)

    async def sync_ok(self, **kw: Any) -> PairReport:
        report = await self.sync(**kw)
        assert report.ok, (report.error, report.problems)
        return report

    # -- the collection, as another client sees it --------------------------------

    def write(self, name: str, data: bytes) -> None:
        r = self.http.put(self.url + name, content=data, headers={"Content-Type": "text/calendar"})
        assert r.status_code in (201, 204), r.status_code

    def remove(self, name: str) -> None:
        assert self.http.delete(self.url + name).status_code in (200, 204)

    def etags(self) -> dict[str, str]:
        body = b'<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>'
        r = self.http.request(
            "PROPFIND",
            self.url,
            content=body,
            headers={"Depth": "1", "Content-Type": "application/xml"},
        )
        assert r.status_code == 207
        import re

        found = re.findall(r"<(?:\w+:)?href>([^<]+)</(?:\w+:)?href>.*?getetag>([^<]+)<", r.text)
        return {unquote(h.rsplit("/", 1)[1]): e for h, e in found if not h.endswith("/")}

    def files(self) -> dict[str, bytes]:
        return {name: self.http.get(self.url + name).content for name in sorted(self.etags())}

    # -- WeCom ------------------------------------------------------------------------

    def schedules(self) -> list[dict[str, Any]]:
        return self.server.live_schedules(self.cal_id)

    def summaries(self) -> list[str]:
        return sorted(s.get("summary", "") for s in self.schedules())

    def add_schedule(self, **fields: Any) -> str:
        answer = self.server.call(
            "/cgi-bin/oa/schedule/add", {"schedule": {"cal_id": self.cal_id, **fields}}
        )
        assert answer["errcode"] == 0, answer
        return str(answer["schedule_id"])

    def edit_schedule(self, summary: str, new: str) -> None:
        (s,) = [s for s in self.schedules() if s["summary"] == summary]
        body = {k: s[k] for k in ("schedule_id", "start_time", "end_time")}
        answer = self.server.call(
            "/cgi-bin/oa/schedule/update", {"schedule": {**body, "summary": new}}
        )
        assert answer["errcode"] == 0, answer

    async def assert_quiet(self) -> None:
        """A sync right after a sync writes nothing anywhere, and costs the
        collection one small REPORT."""
        self.server.admin("DELETE", "requests")
        before = self.etags()
        self.proxy.seen.clear()
        report = await self.sync_ok()
        assert writes(self.server) == []
        assert self.etags() == before
        assert report.writes == 0 and report.conflicts == 0, report.to_json()
        assert self.proxy.seen == {"REPORT": 1}


@pytest.fixture
def proxy(dav_server: DavServer) -> Iterator[DavProxy]:
    p = DavProxy(dav_server)
    yield p
    p.close()


@pytest.fixture
def env(
    emulator_server: Any, dav_server: DavServer, proxy: DavProxy, calendar_url: str, tmp_path: Path
) -> Iterator[CalDavEnv]:
    e = CalDavEnv(emulator_server, dav_server, proxy, calendar_url, tmp_path)
    yield e
    e.http.close()


async def test_first_sync_both_ways_then_quiet(env: CalDavEnv) -> None:
    env.write("weekly.ics", WEEKLY)
    env.write("lunch.ics", LUNCH)
    env.add_schedule(summary="Made in WeCom", start_time=1799380800, end_time=1799384400)
    report = await env.sync_ok()
    assert (report.created_remote, report.created_local) == (2, 1)
    assert report.problems == []
    assert env.summaries() == ["Lunch", "Made in WeCom", "Team meeting", "Team meeting (moved)"]
    files = env.files()
    assert len(files) == 3
    assert any(b"SUMMARY:Made in WeCom" in data for data in files.values())
    await env.assert_quiet()


async def test_edits_and_deletions_flow_both_ways(env: CalDavEnv) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("weekly.ics", WEEKLY)
    env.write("keep.ics", KEEP)
    await env.sync_ok()
    env.write("lunch.ics", LUNCH.replace(b"SUMMARY:Lunch", b"SUMMARY:Long lunch"))
    report = await env.sync_ok()
    assert report.updated_remote == 1
    assert env.summaries() == ["Kept", "Long lunch", "Team meeting", "Team meeting (moved)"]
    await env.assert_quiet()

    env.edit_schedule("Long lunch", "Lunch in WeCom")
    report = await env.sync_ok()
    assert report.updated_local == 1
    assert b"SUMMARY:Lunch in WeCom" in env.files()["lunch.ics"]
    await env.assert_quiet()

    env.remove("lunch.ics")
    report = await env.sync_ok()
    assert report.deleted_remote == 1
    assert env.summaries() == ["Kept", "Team meeting", "Team meeting (moved)"]
    await env.assert_quiet()

    for schedule in env.schedules():  # the series and its moved occurrence
        if schedule["summary"].startswith("Team meeting"):
            env.server.call("/cgi-bin/oa/schedule/del", {"schedule_id": schedule["schedule_id"]})
    report = await env.sync_ok()
    assert report.deleted_local == 1
    assert list(env.files()) == ["keep.ics"]
    assert env.summaries() == ["Kept"]
    await env.assert_quiet()


async def test_a_conflict_keeps_both_versions(env: CalDavEnv) -> None:
    env.write("lunch.ics", LUNCH)
    await env.sync_ok()
    env.write("lunch.ics", LUNCH.replace(b"SUMMARY:Lunch", b"SUMMARY:Lunch (server)"))
    env.edit_schedule("Lunch", "Lunch (WeCom)")
    report = await env.sync_ok()
    assert report.conflicts == 1
    files = env.files()
    assert len(files) == 2
    assert b"SUMMARY:Lunch (WeCom)" in files["lunch.ics"]
    assert any(b"SUMMARY:Lunch (server)" in d for n, d in files.items() if n != "lunch.ics")
    assert env.summaries() == ["Lunch (WeCom)", "Lunch (server)"]
    await env.assert_quiet()


async def test_a_recurring_event_with_an_override(env: CalDavEnv) -> None:
    env.write("weekly.ics", WEEKLY)
    await env.sync_ok()
    assert env.summaries() == ["Team meeting", "Team meeting (moved)"]
    env.edit_schedule("Team meeting (moved)", "Moved and renamed in WeCom")
    report = await env.sync_ok()
    assert report.updated_local == 1
    data = env.files()["weekly.ics"]
    assert b"RECURRENCE-ID" in data and b"SUMMARY:Moved and renamed in WeCom" in data
    assert b"RRULE:FREQ=WEEKLY" in data
    await env.assert_quiet()


async def test_a_failed_listing_deletes_nothing(env: CalDavEnv) -> None:
    env.write("lunch.ics", LUNCH)
    await env.sync_ok()
    env.proxy.faults.fail = {""}  # the collection itself answers 500
    report = await env.sync()
    assert not report.ok and "500" in (report.error or "")
    assert env.summaries() == ["Lunch"]


async def test_an_emptied_collection_stops_the_pair(env: CalDavEnv) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("weekly.ics", WEEKLY)
    await env.sync_ok()
    env.remove("lunch.ics")
    env.remove("weekly.ics")
    report = await env.sync()
    assert report.refused and "holds no events" in (report.error or "")
    assert env.proxy.proxied(env.url).rstrip("/") in (report.error or "")
    assert len(env.summaries()) == 3
    report = await env.sync_ok(force=True)
    assert env.summaries() == []


async def test_a_mass_deletion_needs_force(env: CalDavEnv) -> None:
    for i in range(8):
        env.write(
            f"e{i}.ics", calendar(vevent(f"e{i}", f"E{i}", "20270105T120000", "20270105T130000"))
        )
    await env.sync_ok()
    for i in range(7):
        env.remove(f"e{i}.ics")
    report = await env.sync()
    assert report.refused and "would delete 7 of 8" in (report.error or "")
    assert len(env.summaries()) == 8
    await env.sync_ok(force=True)
    assert env.summaries() == ["E7"]


async def test_an_item_that_does_not_parse_is_named_and_held(env: CalDavEnv) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("weekly.ics", WEEKLY)
    await env.sync_ok()
    env.write("lunch.ics", LUNCH.replace(b"SUMMARY:Lunch", b"SUMMARY:Edited"))
    env.proxy.faults.garbage = {"lunch.ics"}
    report = await env.sync_ok()
    [problem] = report.problems
    assert problem.kind == SyncKind.UNPARSABLE.value
    assert problem.path == env.proxy.proxied(env.url) + "lunch.ics"
    assert env.summaries() == ["Lunch", "Team meeting", "Team meeting (moved)"]
    env.proxy.faults.garbage = set()  # same etag: what was damaged is not in the mirror
    await env.sync_ok()
    assert env.summaries() == ["Edited", "Team meeting", "Team meeting (moved)"]


async def test_another_client_reads_wecoms_events_back(env: CalDavEnv) -> None:
    """The events wesync wrote are real CalDAV objects to a client that is not
    wesync's own code: the `caldav` package."""
    import caldav

    env.add_schedule(summary="Board meeting", start_time=1799380800, end_time=1799384400)
    env.add_schedule(summary="Offsite", start_time=1799467200, end_time=1799474400)
    report = await env.sync_ok()
    assert report.created_local == 2
    verify = env.dav.verify
    with caldav.DAVClient(
        url=env.url, username=env.dav.username, password=env.dav.password, ssl_verify_cert=verify
    ) as client:
        cal = client.calendar(url=env.url)
        events = cal.events()
        summaries = sorted(str(e.icalendar_component["SUMMARY"]) for e in events)
        starts = sorted(e.icalendar_component["DTSTART"].dt.timestamp() for e in events)
    assert summaries == ["Board meeting", "Offsite"]
    assert starts == [1799380800, 1799467200]
