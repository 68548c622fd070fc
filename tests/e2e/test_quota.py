"""The daily creation quota: wesync's own count (daily_add_quota) and WeCom's refusal."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.e2e.conftest import Env, calendar, vevent
from tests.sync.helpers import writes
from wesync.cli import cli
from wesync.sync.quota import next_reset, wecom_day
from wesync.sync.state_report import pair_status
from wesync.sync.status import StatusDB, status_path

ADD = "/cgi-bin/oa/schedule/add"
DAY = 86400
#: 2026-12-31 12:00 UTC+8: event n is on 2027-01-(n + 2), n + 1.5 days later
T0 = 1798689600


def event(n: int, summary: str | None = None) -> bytes:
    day = f"202701{n + 2:02d}"
    return calendar(
        vevent(f"event-{n}@example.com", summary or f"Event {n}", f"{day}T120000", f"{day}T130000")
    )


def fill(env: Env, count: int) -> None:
    # file names in the opposite order of the events' dates: the order is wesync's
    for n in range(count):
        env.write(f"{chr(ord('z') - n)}-event.ics", event(n))


def in_wecom(env: Env) -> list[str]:
    return env.summaries()


def names(*ns: int) -> list[str]:
    return sorted(f"Event {n}" for n in ns)


def adds_sent(env: Env) -> list[int | None]:
    log = env.server.admin("GET", "requests")["requests"]
    return [r["errcode"] for r in log if r["path"] == ADD]


async def test_a_quota_smaller_than_the_folder_sends_the_nearest_first(env: Env) -> None:
    fill(env, 12)
    report = await env.sync(now=T0, daily_add_quota=5)
    assert not report.ok
    assert report.error == report.quota_line
    assert report.error is not None
    assert "5 of 5 schedules created today" in report.error
    assert "7 events wait" in report.error
    assert "2027-01-01 00:00 UTC+8" in report.error
    assert in_wecom(env) == names(0, 1, 2, 3, 4)
    assert report.created_remote == 5 and not [p for p in report.problems if p.kind == "item-error"]
    with StatusDB(status_path(env.state, "team")) as db:
        assert db.intents() == []
        assert not [i for i in db.load().values() if i.pending]  # the 7 wait as new events

    # the same WeCom day: nothing is sent at all
    env.server.admin("DELETE", "requests")
    report = await env.sync(now=T0 + 3600, daily_add_quota=5)
    assert not report.ok and report.error is not None and "7 events wait" in report.error
    assert writes(env.server) == []

    # the next days: the next nearest five, then the rest
    report = await env.sync(now=T0 + DAY, daily_add_quota=5)
    assert report.error is not None and "2 events wait" in report.error
    assert in_wecom(env) == names(*range(10))
    report = await env.sync(now=T0 + 2 * DAY, daily_add_quota=5)
    assert report.ok, report.error
    assert in_wecom(env) == names(*range(12))
    assert len(env.files()) == 12
    await env.assert_quiet()


async def test_no_limit_and_room_enough_change_nothing(env: Env) -> None:
    fill(env, 4)
    await env.sync_ok(now=T0, daily_add_quota=0)
    await env.sync_ok(now=T0, daily_add_quota=8)  # nothing new: the count is not touched
    env.write("new.ics", event(4))
    env.write("new2.ics", event(5))
    await env.sync_ok(now=T0, daily_add_quota=6)  # 4 + 2 = 6: exactly the quota
    assert in_wecom(env) == names(*range(6))
    env.write("new3.ics", event(6))
    report = await env.sync(now=T0, daily_add_quota=6)
    assert report.error is not None and "6 of 6" in report.error and "1 event wait" in report.error


async def test_wecom_refusing_mid_run_stops_the_adds_and_finishes_the_rest(env: Env) -> None:
    fill(env, 3)  # z-, y-, x-event.ics: events 0, 1, 2
    await env.sync_ok(now=T0)
    env.write("z-event.ics", event(0, "Event 0 moved"))
    (env.local / "y-event.ics").unlink()
    for n in range(3, 7):
        env.write(f"new-{n}.ics", event(n))
    # WeCom refuses every add (3 tries each, the client's retries), for 4 adds, then for
    # the one add of the next run; other calls work
    env.fault(ADD, "errcode", times=4 * 3 + 3, errcode=45009)
    env.server.admin("DELETE", "requests")
    report = await env.sync(now=T0 + 60)
    assert not report.ok
    assert report.error is not None and report.error.startswith("WeCom refused"), report.error
    assert "errcode 45009" in report.error and "4 events wait" in report.error
    assert "2027-01-01 00:00 UTC+8" in report.error
    # the update and the delete went ahead; nothing was added
    assert in_wecom(env) == ["Event 0 moved", "Event 2"]
    assert adds_sent(env) == [45009] * 12
    with StatusDB(status_path(env.state, "team")) as db:
        assert db.intents() == []
        assert not [i for i in db.load().values() if i.pending]
    status = pair_status(env.pair, env.state)
    assert status["pending"] == 0
    assert status["quota"]["waiting"] == 4

    # a later run the same day sends one add alone, refused again, and stops
    env.server.admin("DELETE", "requests")
    report = await env.sync(now=T0 + 120)
    assert report.error is not None and report.error.startswith("WeCom refused")
    assert adds_sent(env) == [45009] * 3
    # WeCom's day has turned (before this machine's: its clock is its own): all go
    env.server.admin("DELETE", "requests")
    report = await env.sync(now=T0 + 180)
    assert report.ok, report.error
    assert adds_sent(env) == [0] * 4
    assert in_wecom(env) == ["Event 0 moved", "Event 2", *names(3, 4, 5, 6)]
    await env.assert_quiet()


async def test_a_rate_limit_that_passes_is_not_the_quota(env: Env) -> None:
    fill(env, 3)
    env.fault(ADD, "errcode", times=2, errcode=45009)  # fewer than the client's 3 tries
    await env.sync_ok(now=T0)
    assert in_wecom(env) == names(0, 1, 2)


async def test_status_shows_the_quota(env: Env, tmp_path: Path) -> None:
    fill(env, 3)
    report = await env.sync(daily_add_quota=2)  # this machine's clock: status uses it too
    assert not report.ok
    row = pair_status(env.pair, env.state)
    quota = row["quota"]
    assert quota["used_today"] == 2 and quota["limit"] == 2 and quota["waiting"] == 1
    assert not quota["refused_today"]
    assert "1 events wait for the daily creation quota" in row["note"]
    config = env.write_config(tmp_path / "config.toml", wecom="daily_add_quota = 2")
    runner = CliRunner()
    out = runner.invoke(cli, ["-q", "-c", str(config), "status", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)["pairs"][0]["quota"]
    assert data["day"] == quota["day"] and data["used_today"] == 2
    out = runner.invoke(cli, ["-q", "-c", str(config), "status"])
    assert "team: daily creation quota: 2 of 2 schedules created today" in out.output
    assert "1 events wait until" in out.output


def test_sync_exits_1_with_the_line(env: Env, tmp_path: Path) -> None:
    fill(env, 3)
    config = env.write_config(tmp_path / "config.toml", wecom="daily_add_quota = 2")
    out = CliRunner().invoke(cli, ["-q", "-c", str(config), "sync"])
    assert out.exit_code == 1, out.output
    line = [x for x in out.output.splitlines() if "quota" in x]
    assert len(line) == 1, out.output
    assert line[0].startswith("team: failed: daily creation quota reached: 2 of 2"), line
    assert "1 event wait" in line[0]
    assert len(env.schedules()) == 2
    out = CliRunner().invoke(cli, ["-q", "-c", str(config), "sync", "--json"])
    assert out.exit_code == 1
    pair = json.loads(out.output)["pairs"][0]
    assert not pair["ok"] and "daily creation quota reached" in pair["error"]
    assert len(env.schedules()) == 2


def test_a_bad_quota_is_a_config_error(env: Env, tmp_path: Path) -> None:
    for bad in ("-1", '"many"', "true", "1.5"):
        config = env.write_config(tmp_path / "config.toml", wecom=f"daily_add_quota = {bad}")
        out = CliRunner().invoke(cli, ["-q", "-c", str(config), "sync"])
        assert out.exit_code == 2, (bad, out.output)
        assert "daily_add_quota" in out.output and str(config) in out.output, out.output


def test_the_wecom_day_is_utc_plus_8() -> None:
    assert wecom_day(T0) == "2026-12-31"
    assert wecom_day(T0 + 12 * 3600) == "2027-01-01"  # 00:00 UTC+8
    assert wecom_day(T0 + 12 * 3600 - 1) == "2026-12-31"
    assert next_reset(T0) == T0 + 12 * 3600
    assert next_reset(T0 + 12 * 3600) == T0 + 36 * 3600


async def test_an_errcode_wesync_has_never_seen_that_persists_is_the_quota(env: Env) -> None:
    # the quota's errcode is undocumented: the emulator refuses the third add of
    # the day with one wesync knows nothing of, while every other call works
    env.server.emulator.configure(variants={"daily-add-quota": 2, "quota-errcode": 50001})
    fill(env, 4)
    report = await env.sync(now=T0)
    assert not report.ok and len(in_wecom(env)) == 2
    # the refused adds were sent while others landed: not yet told from a passing
    # trouble; the next run's, refused with nothing landing, are
    report = await env.sync(now=T0 + 60)
    assert report.error is not None and report.error.startswith("WeCom refused"), report.error
    assert "errcode 50001" in report.error and "2 events wait" in report.error
    assert len(in_wecom(env)) == 2


async def test_one_events_invalid_add_is_not_the_quota(env: Env) -> None:
    fill(env, 4)
    # WeCom refuses one add for its content (not retried); the others go in
    env.fault(ADD, "errcode", times=1, errcode=40058)
    report = await env.sync(now=T0)
    assert not report.ok and report.error is not None
    assert not report.error.startswith("WeCom refused"), report.error
    assert len(in_wecom(env)) == 3
    report = await env.sync(now=T0 + 60)  # and the next run sends it
    assert report.ok, report.error
    assert len(in_wecom(env)) == 4


async def test_a_series_to_recreate_is_not_deleted_while_the_quota_is_used_up(env: Env) -> None:
    series = calendar(
        vevent(
            "series@example.com",
            "Weekly",
            "20270104T100000",
            "20270104T110000",
            rrule="FREQ=WEEKLY;COUNT=5",
        )
    )
    env.write("series.ics", series)
    await env.sync_ok(now=T0, daily_add_quota=1)  # the day's one creation
    (before,) = env.schedules()
    # a new interval: WeCom cannot re-shape a series, so it is deleted and added again,
    # which today's quota does not allow: it is left as it is, not deleted
    env.write("series.ics", series.replace(b"COUNT=5", b"INTERVAL=2;COUNT=5"))
    env.server.admin("DELETE", "requests")
    report = await env.sync(now=T0 + 60, daily_add_quota=1)
    assert not report.ok and report.error is not None and "1 event waits" in report.error
    assert writes(env.server) == []
    assert [s["schedule_id"] for s in env.schedules()] == [before["schedule_id"]]
    # the next day: re-created
    report = await env.sync(now=T0 + DAY, daily_add_quota=1)
    assert report.ok, report.error
    (after,) = env.schedules()
    assert after["schedule_id"] != before["schedule_id"]
    assert after["reminders"]["repeat_interval"] == 2
    await env.assert_quiet()


async def test_the_refused_add_does_not_hold_back_the_rest_of_its_event(env: Env) -> None:
    def weekly(*overrides: str) -> bytes:
        return calendar(
            vevent(
                "weekly@example.com",
                "Weekly",
                "20270104T100000",
                "20270104T110000",
                rrule="FREQ=WEEKLY;COUNT=5",
            ),
            *overrides,
        )

    def moved(summary: str) -> str:
        return vevent(
            "weekly@example.com",
            summary,
            "20270118T150000",
            "20270118T160000",
            recurrence_id="20270118T100000",
        )

    # an extra meeting on a Tuesday (no occurrence of the rule): a schedule of its own
    extra = vevent(
        "weekly@example.com",
        "Extra",
        "20270105T100000",
        "20270105T110000",
        recurrence_id="20270105T100000",
    )
    env.write("weekly.ics", weekly(moved("Moved")))
    await env.sync_ok(now=T0)
    # the extra meeting's add comes first in the event's writes and WeCom refuses it
    # (the client's three tries); the override's update after it still goes
    env.write("weekly.ics", weekly(extra, moved("Moved again")))
    env.fault(ADD, "errcode", times=3, errcode=45009)
    env.server.admin("DELETE", "requests")
    report = await env.sync(now=T0 + 60)
    assert report.error is not None and report.error.startswith("WeCom refused"), report.error
    assert "1 event waits" in report.error
    assert adds_sent(env) == [45009] * 3
    assert sorted(env.summaries()) == ["Moved again", "Weekly"]
    # the next run's one add lands: WeCom's day has turned
    report = await env.sync(now=T0 + 120)
    assert report.ok, report.error
    assert sorted(env.summaries()) == ["Extra", "Moved again", "Weekly"]
    await env.assert_quiet()


async def test_a_split_counts_as_a_creation(env: Env) -> None:
    series = vevent(
        "series@example.com",
        "Weekly",
        "20270104T100000",
        "20270104T110000",
        rrule="FREQ=WEEKLY;COUNT=5",
    )
    env.write("series.ics", calendar(series))
    await env.sync_ok(now=T0, daily_add_quota=2)
    # an override splits an occurrence off (update op_mode=1): WeCom makes a new
    # schedule, which is the day's second creation
    override = vevent(
        "series@example.com",
        "Later",
        "20270111T150000",
        "20270111T160000",
        recurrence_id="20270111T100000",
    )
    env.write("series.ics", calendar(series, override))
    await env.sync_ok(now=T0 + 60, daily_add_quota=2)
    assert sorted(env.summaries()) == ["Later", "Weekly"]
    env.write("single.ics", event(3))
    report = await env.sync(now=T0 + 120, daily_add_quota=2)
    assert report.error is not None and "2 of 2 schedules created today" in report.error
    assert "1 event waits" in report.error
