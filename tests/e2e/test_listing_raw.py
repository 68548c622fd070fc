"""The remote scan digests get_by_calendar entries as WeCom sent them and
parses only those that changed: it must see exactly what a full read sees."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.e2e.conftest import Env, calendar, vevent
from tests.e2e.test_series import LAST_FRIDAY, LUNCH, SERIES
from tests.sync.helpers import loopback_client, writes
from wesync.sync import listing as listing_mod
from wesync.sync.listing import RemoteScan, scan_remote
from wesync.sync.sequence import PER_CHANGE
from wesync.sync.status import StatusDB, status_path
from wesync.wecom.models import Schedule


async def scan(env: Env, *, full_fetch: bool) -> RemoteScan:
    with StatusDB(status_path(env.state, env.pair.name)) as db:
        status = db.load()
    async with loopback_client(env.server) as client:
        # under the answer "sequence rises on every change" (the emulator's default);
        # test_sequence.py has the others
        return await scan_remote(
            client, env.cal_id, status, now=NOW, full_fetch=full_fetch, verdict=PER_CHANGE
        )


def view(remote: RemoteScan) -> dict[str, Any]:
    return {
        "groups": {
            uid: {k: (s.schedule_id, s.digest, s.content_digest) for k, s in group.items()}
            for uid, group in remote.groups.items()
        },
        "live": remote.live_ids,
        "listing": remote.listing,
        "unmapped": [s.schedule_id for s, _ in remote.unmapped],
    }


NOW = 1798761600  # 2027-01-01 00:00 UTC


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counts: Counter[str] = Counter()
    real = Schedule.from_api.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Schedule], data: Any) -> Schedule:
        counts[str(data.get("schedule_id"))] += 1
        return real(cls, data)  # type: ignore[no-any-return]

    monkeypatch.setattr(Schedule, "from_api", classmethod(counting))
    return counts


async def quiet(env: Env) -> None:
    """A sync right after a sync writes nothing (Env.assert_quiet at NOW)."""
    env.server.admin("DELETE", "requests")
    before = env.mtimes()
    report = await env.sync_ok(now=NOW)
    assert writes(env.server) == [] and env.mtimes() == before
    assert report.writes == 0 and report.conflicts == 0, report.to_json()


async def synced(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("series.ics", calendar(SERIES))
    env.write("lastfri.ics", LAST_FRIDAY)
    await env.sync_ok(now=NOW)
    await env.sync_ok(now=NOW)  # learns the listing digests of what it wrote


@pytest.mark.default_answers
async def test_unchanged_listing_is_not_parsed_and_equals_a_full_read(
    env: Env, parsed: Counter[str]
) -> None:
    await synced(env)
    parsed.clear()
    fast = await scan(env, full_fetch=False)
    assert parsed == Counter() and fast.get_calls == 0
    full = await scan(env, full_fetch=True)
    assert full.get_calls == 1
    assert view(fast) == view(full)


@pytest.mark.default_answers
async def test_a_changed_schedule_alone_is_parsed_and_fetched(
    env: Env, parsed: Counter[str]
) -> None:
    await synced(env)
    lunch = next(s for s in env.schedules() if s["summary"] == "Lunch")
    body = {k: lunch[k] for k in ("schedule_id", "start_time", "end_time")}
    env.server.call("/cgi-bin/oa/schedule/update", {"schedule": {**body, "summary": "Brunch"}})
    parsed.clear()
    fast = await scan(env, full_fetch=False)
    # once from the listing, once from `get`
    assert parsed == Counter({lunch["schedule_id"]: 2}) and fast.get_calls == 1
    assert view(fast) == view(await scan(env, full_fetch=True))
    report = await env.sync_ok(now=NOW)
    assert report.updated_local == 1 and b"SUMMARY:Brunch" in env.files()["lunch.ics"]
    await quiet(env)


async def test_unchanged_full_forms_let_go_are_fetched_again_when_needed(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing_mod, "KEEP_FULL", 0)
    await synced(env)
    full = await scan(env, full_fetch=True)
    assert all(s.schedule is None and s.fetched for g in full.groups.values() for s in g.values())
    # a local edit of a series: the executor needs WeCom's full version again
    env.write("series.ics", calendar(SERIES.replace("SUMMARY:Series", "SUMMARY:Series 2")))
    report = await env.sync_ok(now=NOW)
    assert report.updated_remote == 1
    assert "Series 2" in env.summaries()
    await quiet(env)


async def test_raw_listing_matches_the_parsed_one(env: Env) -> None:
    await synced(env)
    env.add_schedule(summary="From WeCom", start_time=NOW + 86400, end_time=NOW + 90000)
    async with loopback_client(env.server) as client:
        parsed = await client.schedule_list(env.cal_id, limit=2)
        raw = await client.schedule_list_raw(env.cal_id, limit=2)
    assert [Schedule.from_api(r) for r in raw] == list(parsed)
    assert len({r["schedule_id"] for r in raw}) == len(raw) > 2


async def test_new_remote_event_is_imported(env: Env) -> None:
    await synced(env)
    env.add_schedule(summary="From WeCom", start_time=NOW + 86400, end_time=NOW + 90000)
    report = await env.sync_ok(now=NOW)
    assert report.created_local == 1
    assert any(b"SUMMARY:From WeCom" in data for data in env.files().values())
    await quiet(env)


def test_vevent_helper_is_used() -> None:
    assert "UID:x" in vevent("x", "X", "20270105T120000", "20270105T130000")
