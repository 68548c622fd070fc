"""wesync under each answer WeCom's documentation leaves open, where the answer
changes what wesync must do (the rest of the e2e suite runs under the worst
answers too: conftest.WORST)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Env, calendar, vevent
from tests.sync.helpers import writes

SERIES = vevent(
    "weekly@example.com",
    "Team meeting",
    "20270104T100000",
    "20270104T110000",
    rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=10",
    exdates=("20270111T100000",),
)
MOVED = vevent(
    "weekly@example.com",
    "Team meeting (moved)",
    "20270119T150000",
    "20270119T160000",
    recurrence_id="20270118T100000",
)
JAN11 = 1799632800  # 2027-01-11T10:00+08:00
JAN18 = 1800237600  # 2027-01-18T10:00+08:00


def _series(env: Env) -> dict[str, object]:
    (series,) = [s for s in env.schedules() if s["reminders"].get("is_repeat")]
    return series


async def test_an_update_that_clears_exclusions_has_them_restored(env: Env) -> None:
    env.server.emulator.configure(variants={"update-exclusions": "clear"})
    env.write("weekly.ics", calendar(SERIES, MOVED))
    await env.sync_ok()
    excluded = {x["start_time"] for x in _series(env)["reminders"]["exclude_time_list"]}  # type: ignore[index]
    assert excluded == {JAN11, JAN18}
    # a local edit of the series: an update, which this WeCom answers by clearing them
    env.write("weekly.ics", calendar(SERIES.replace("Team meeting", "Team sync"), MOVED))
    env.server.admin("DELETE", "requests")
    report = await env.sync_ok()
    assert report.updated_remote == 1
    assert "/cgi-bin/oa/schedule/update" in writes(env.server)
    series = _series(env)
    assert series["summary"] == "Team sync"
    excluded = {x["start_time"] for x in series["reminders"]["exclude_time_list"]}  # type: ignore[index]
    assert excluded == {JAN11, JAN18}  # put back: no Jan 11, no second Jan 18
    assert b"EXDATE" in env.files()["weekly.ics"]
    await env.assert_quiet()


async def test_a_member_edit_no_listing_field_shows_is_seen_next_sync(env: Env) -> None:
    # the emulator's worst listing: no is_whole_day, reminders or exclusions, and a
    # sequence that never moves; a member adds a reminder in the WeCom app
    env.server.emulator.configure(variants={"sequence": "frozen", "listing": "sample"})
    env.write("weekly.ics", calendar(SERIES))
    await env.sync_ok()
    await env.sync_ok()
    series = _series(env)
    answer = env.server.admin(
        "POST",
        "admin_edit",
        {
            "schedule_id": series["schedule_id"],
            "changes": {
                "reminders": {**series["reminders"], "is_remind": 1, "remind_time_diffs": [-900]}
            },
        },  # type: ignore[dict-item]
    )
    assert answer.get("errcode", 0) == 0, answer
    report = await env.sync_ok()
    assert report.updated_local == 1
    assert b"TRIGGER:-PT15M" in env.files()["weekly.ics"]
    await env.assert_quiet()


def _gets_after_the_update(env: Env) -> int:
    paths = [r["path"] for r in env.server.admin("GET", "requests")["requests"]]
    after = paths[paths.index("/cgi-bin/oa/schedule/update") :]
    return after.count("/cgi-bin/oa/schedule/get")


@pytest.mark.parametrize("answer", ["keep", "clear"])
async def test_whether_an_update_keeps_exclusions_is_learned(env: Env, answer: str) -> None:
    env.server.emulator.configure(variants={"update-exclusions": answer})
    env.write("weekly.ics", calendar(SERIES, MOVED))
    await env.sync_ok()
    await env.sync_ok()
    looks = []
    for title in ("Team sync", "Team call"):
        env.write("weekly.ics", calendar(SERIES.replace("Team meeting", title), MOVED))
        env.server.admin("DELETE", "requests")
        assert (await env.sync_ok()).updated_remote == 1
        looks.append(_gets_after_the_update(env))
        excluded = {x["start_time"] for x in _series(env)["reminders"]["exclude_time_list"]}  # type: ignore[index]
        assert excluded == {JAN11, JAN18}
    # after the update: the exclusions read back, then what was written; once WeCom
    # is seen to keep them, wesync stops looking
    assert looks == ([2, 1] if answer == "keep" else [2, 2])
    await env.assert_quiet()
