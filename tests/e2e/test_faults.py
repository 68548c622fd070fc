"""WeCom misbehaving (emulator faults), safety stops, and dry runs."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Env, calendar, vevent
from tests.sync.helpers import writes
from wesync.sync.status import StatusDB, status_path

ADD = "/cgi-bin/oa/schedule/add"
UPDATE = "/cgi-bin/oa/schedule/update"
DEL = "/cgi-bin/oa/schedule/del"
LIST = "/cgi-bin/oa/schedule/get_by_calendar"


def event(n: int, summary: str | None = None) -> bytes:
    day = f"202701{n + 1:02d}"
    return calendar(
        vevent(f"event-{n}@example.com", summary or f"Event {n}", f"{day}T100000", f"{day}T110000")
    )


def fill(env: Env, count: int) -> None:
    for n in range(count):
        env.write(f"event-{n}.ics", event(n))


def assert_each_once(env: Env, count: int) -> None:
    assert env.summaries() == sorted(f"Event {n}" for n in range(count))
    assert len(env.files()) == count


@pytest.mark.parametrize(
    ("path", "fault"),
    [
        (ADD, {"kind": "errcode", "errcode": -1}),
        (ADD, {"kind": "errcode", "errcode": 45009}),
        (ADD, {"kind": "delay", "seconds": 0.3}),
        (UPDATE, {"kind": "http_status", "status": 502}),
        (LIST, {"kind": "http_status", "status": 502}),
    ],
)
async def test_transient_faults_are_retried(env: Env, path: str, fault: dict[str, object]) -> None:
    fill(env, 3)
    if path == UPDATE:
        await env.sync_ok()
        env.write("event-1.ics", event(1))
        env.write("event-2.ics", event(2))
        (env.local / "event-1.ics").write_bytes(event(1))
    env.fault(path, times=2, **fault)  # type: ignore[arg-type]
    await env.sync_ok()
    assert_each_once(env, 3)
    await env.assert_quiet()


async def test_an_add_that_may_have_landed_is_checked_next_run(env: Env) -> None:
    # HTTP 502 on an add: WeCom may or may not have created it; never added twice
    fill(env, 3)
    env.fault(ADD, kind="http_status", status=502, times=2)
    report = await env.sync()
    assert not report.ok
    await env.sync_ok()
    assert_each_once(env, 3)
    await env.assert_quiet()


async def test_expired_token_is_fetched_again(env: Env) -> None:
    fill(env, 2)
    await env.sync_ok()
    env.server.admin("POST", "clock", {"advance": 7300})
    env.server._token = None
    env.write("event-2.ics", event(2))
    env.server.admin("DELETE", "requests")
    await env.sync_ok()
    log = env.server.admin("GET", "requests")["requests"]
    assert 42001 in [r["errcode"] for r in log]
    assert_each_once(env, 3)
    await env.assert_quiet()


@pytest.mark.parametrize("path", [ADD, UPDATE, DEL])
async def test_lost_answer_after_commit_converges(env: Env, path: str) -> None:
    fill(env, 4)
    if path != ADD:
        await env.sync_ok()
        env.write("event-1.ics", event(1, "Event 1 (moved)"))
        (env.local / "event-2.ics").unlink()
    env.fault(path, kind="drop_after_commit", times=1)
    await env.sync()
    await env.sync_ok()
    expected = ["Event 0", "Event 3"] if path != ADD else [f"Event {n}" for n in range(4)]
    if path != ADD:
        expected = sorted([*expected, "Event 1 (moved)"])
    assert env.summaries() == expected
    assert len(env.files()) == len(expected)
    await env.assert_quiet()


async def test_failed_listing_is_not_an_empty_calendar(env: Env) -> None:
    fill(env, 3)
    await env.sync_ok()
    env.fault(LIST, kind="http_status", status=502, times=3)  # every try of one run
    report = await env.sync()
    assert not report.ok and report.error
    assert report.writes == 0 and len(env.files()) == 3
    await env.sync_ok()
    assert_each_once(env, 3)


async def test_emptied_folder_stops_the_pair_until_forced(env: Env) -> None:
    fill(env, 3)
    await env.sync_ok()
    for path in env.local.glob("*.ics"):
        path.unlink()
    env.server.admin("DELETE", "requests")
    report = await env.sync()
    assert not report.ok and report.refused and "--force" in (report.error or "")
    assert writes(env.server) == [] and len(env.schedules()) == 3
    report = await env.sync(force=True)
    assert report.ok and report.deleted_remote == 3 and env.schedules() == []


async def test_emptied_calendar_stops_the_pair(env: Env) -> None:
    fill(env, 2)
    await env.sync_ok()
    for schedule in env.schedules():
        env.server.call(DEL, {"schedule_id": schedule["schedule_id"]})
    report = await env.sync()
    assert report.refused and len(env.files()) == 2


async def test_mass_deletion_stops_the_pair_until_forced(env: Env) -> None:
    fill(env, 12)
    await env.sync_ok()
    for n in range(7):
        (env.local / f"event-{n}.ics").unlink()
    report = await env.sync()
    assert report.refused and "7 of 12" in (report.error or "")
    assert len(env.schedules()) == 12
    report = await env.sync(force=True)
    assert report.ok and report.deleted_remote == 7 and len(env.schedules()) == 5


async def test_dry_run_writes_nothing_anywhere(env: Env) -> None:
    fill(env, 2)
    env.add_schedule(summary="From WeCom", start_time=1799380800, end_time=1799384400)
    env.server.admin("DELETE", "requests")
    before = env.mtimes()
    report = await env.sync(dry_run=True)
    assert report.ok and (report.created_remote, report.created_local) == (2, 1)
    assert report.plan is not None and len(report.plan.writes()) == 3
    assert writes(env.server) == [] and env.mtimes() == before
    assert not status_path(env.state, "team").exists()
    await env.sync_ok()
    before = env.mtimes()
    env.write("event-0.ics", event(0, "Renamed"))
    report = await env.sync(dry_run=True)
    assert report.updated_remote == 1
    with StatusDB(status_path(env.state, "team"), readonly=True) as db:
        assert db.intents() == []
    assert "Renamed" not in env.summaries()


@pytest.mark.default_answers
async def test_a_quiet_sync_only_lists(env: Env) -> None:
    fill(env, 30)
    await env.sync_ok()
    await env.sync_ok()  # reads back what the first run wrote (sequence changed)
    env.server.admin("DELETE", "requests")
    await env.sync_ok()
    paths = [r["path"] for r in env.server.admin("GET", "requests")["requests"]]
    assert paths == [LIST, LIST]  # one page, then the empty page that ends the listing
    # once a day everything is fetched in full anyway; still nothing is written
    env.server.admin("DELETE", "requests")
    import time

    report = await env.sync_ok(now=int(time.time()) + 2 * 86400)
    paths = [r["path"] for r in env.server.admin("GET", "requests")["requests"]]
    assert "/cgi-bin/oa/schedule/get" in paths and writes(env.server) == []
    assert report.writes == 0


async def test_full_listing_needs_no_get(env: Env) -> None:
    env.server.emulator.configure(listing="full")
    fill(env, 5)
    await env.sync_ok()
    env.server.admin("DELETE", "requests")
    await env.sync_ok()
    await env.sync_ok()
    paths = {r["path"] for r in env.server.admin("GET", "requests")["requests"]}
    assert paths == {LIST}


async def test_one_run_per_pair_at_a_time(env: Env) -> None:
    from wesync.sync.pairlock import pair_lock

    fill(env, 1)
    with pair_lock(env.state, "team"):
        report = await env.sync()
    assert not report.ok and "another wesync" in (report.error or "")
    assert env.schedules() == []
    await env.sync_ok()


async def test_an_item_wecom_refuses_makes_the_pair_not_ok(env: Env) -> None:
    # a refusal that retrying cannot cure fails that event only: the others sync,
    # and the pair's report is not ok, naming the event and WeCom's errcode
    fill(env, 3)
    await env.sync_ok()
    env.write("event-1.ics", event(1, "Event 1 (edited)"))
    env.write("event-3.ics", event(3))
    env.fault(UPDATE, kind="errcode", errcode=90471, times=2)
    for _ in range(2):  # every try fails the same way, run after run
        report = await env.sync()
        assert not report.ok
        assert report.error is not None
        assert "event-1@example.com" in report.error and "90471" in report.error
        assert sum("event-1@example.com" in str(p) for p in report.problems) == 1
        assert env.summaries() == ["Event 0", "Event 1", "Event 2", "Event 3"]
        db = StatusDB(status_path(env.state, "team"))
        try:
            assert db.get_meta("last_result") == "failed"
        finally:
            db.close()
    report = await env.sync_ok()  # WeCom takes it now
    assert report.updated_remote == 1
    assert env.summaries() == ["Event 0", "Event 1 (edited)", "Event 2", "Event 3"]
    await env.assert_quiet()
