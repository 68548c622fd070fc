"""Conflict policies, one-way directions and the first-sync pairing, end to end."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.e2e.conftest import Env, calendar, vevent
from wesync.config import ConflictPolicy, Direction

LUNCH = calendar(vevent("lunch@example.com", "Lunch", "20270105T120000", "20270105T130000"))
DINNER = calendar(vevent("dinner@example.com", "Dinner", "20270105T190000", "20270105T200000"))


def edit_in_wecom(env: Env, old: str, new: str) -> None:
    (schedule,) = [s for s in env.schedules() if s["summary"] == old]
    body = {k: schedule[k] for k in ("schedule_id", "start_time", "end_time")}
    answer = env.server.call("/cgi-bin/oa/schedule/update", {"schedule": {**body, "summary": new}})
    assert answer["errcode"] == 0, answer


async def both_edited(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("dinner.ics", DINNER)
    await env.sync_ok()
    env.write("lunch.ics", LUNCH.replace(b"SUMMARY:Lunch", b"SUMMARY:Lunch (file)"))
    edit_in_wecom(env, "Lunch", "Lunch (WeCom)")


async def test_keep_both_keeps_both_versions(env: Env) -> None:
    await both_edited(env)
    report = await env.sync_ok()
    assert report.conflicts == 1
    assert env.summaries() == ["Dinner", "Lunch (WeCom)", "Lunch (file)"]
    files = env.files()
    assert len(files) == 3
    assert b"SUMMARY:Lunch (WeCom)" in files["lunch.ics"]
    assert sum(b"SUMMARY:Lunch (file)" in data for data in files.values()) == 1
    await env.assert_quiet()


@pytest.mark.parametrize(
    ("policy", "winner"),
    [(ConflictPolicy.WECOM_WINS, "Lunch (WeCom)"), (ConflictPolicy.LOCAL_WINS, "Lunch (file)")],
)
async def test_one_side_wins(make_env: Any, policy: ConflictPolicy, winner: str) -> None:
    env: Env = make_env(conflict=policy)
    await both_edited(env)
    report = await env.sync_ok()
    assert report.conflicts == 1
    assert env.summaries() == ["Dinner", winner]
    assert f"SUMMARY:{winner}".encode() in env.files()["lunch.ics"]
    await env.assert_quiet()


async def test_to_wecom_reverts_wecom_edits_and_leaves_foreign_schedules(make_env: Any) -> None:
    env: Env = make_env(direction=Direction.TO_WECOM)
    env.write("lunch.ics", LUNCH)
    env.write("dinner.ics", DINNER)
    foreign = env.add_schedule(summary="Not ours", start_time=1799380800, end_time=1799384400)
    report = await env.sync_ok()
    assert report.created_remote == 2 and report.skipped == 1 and report.created_local == 0
    edit_in_wecom(env, "Lunch", "Lunch (WeCom)")
    report = await env.sync_ok()
    assert report.updated_remote == 1 and report.updated_local == 0
    assert env.summaries() == ["Dinner", "Lunch", "Not ours"]
    assert foreign in {s["schedule_id"] for s in env.schedules()}
    assert len(env.files()) == 2
    await env.assert_quiet()


async def test_from_wecom_overwrites_local_edits_and_ignores_local_files(make_env: Any) -> None:
    env: Env = make_env(direction=Direction.FROM_WECOM)
    env.add_schedule(summary="From WeCom", start_time=1799380800, end_time=1799384400)
    env.add_schedule(summary="Also from WeCom", start_time=1799467200, end_time=1799470800)
    env.write("mine.ics", LUNCH)
    report = await env.sync_ok()
    assert report.created_local == 2 and report.created_remote == 0 and report.skipped == 1
    assert env.summaries() == ["Also from WeCom", "From WeCom"]
    name = next(n for n, d in env.files().items() if b"SUMMARY:From WeCom" in d)
    env.write(name, env.files()[name].replace(b"SUMMARY:From WeCom", b"SUMMARY:Edited"))
    report = await env.sync_ok()
    assert report.updated_local == 1 and report.updated_remote == 0
    assert b"SUMMARY:From WeCom" in env.files()[name]
    await env.assert_quiet()


async def test_first_sync_pairs_the_same_event_instead_of_duplicating(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("dinner.ics", DINNER)
    # the same lunch already in WeCom (2027-01-05 12:00-13:00 +08:00)
    env.add_schedule(summary="Lunch", start_time=1799121600, end_time=1799125200)
    report = await env.sync_ok()
    assert report.created_remote == 1 and report.created_local == 0
    assert env.summaries() == ["Dinner", "Lunch"]
    assert len(env.files()) == 2
    await env.assert_quiet()


async def test_single_file_storage(make_env: Any) -> None:
    env: Env = make_env(single_file=True)
    env.local.write_bytes(
        calendar(
            vevent("lunch@example.com", "Lunch", "20270105T120000", "20270105T130000"),
            vevent("dinner@example.com", "Dinner", "20270105T190000", "20270105T200000"),
        ).replace(
            b"END:VCALENDAR",
            b"BEGIN:VTODO\r\nUID:todo-1\r\nSUMMARY:Keep me\r\nEND:VTODO\r\nEND:VCALENDAR",
        )
    )
    env.add_schedule(summary="From WeCom", start_time=1799380800, end_time=1799384400)
    report = await env.sync_ok()
    assert (report.created_remote, report.created_local) == (2, 1)
    text = env.local.read_bytes()
    assert b"SUMMARY:From WeCom" in text and b"SUMMARY:Keep me" in text
    await env.assert_quiet()
    edit_in_wecom(env, "Dinner", "Late dinner")
    report = await env.sync_ok()
    assert report.updated_local == 1
    assert b"SUMMARY:Late dinner" in env.local.read_bytes()
    await env.assert_quiet()


async def test_unparsable_file_and_duplicate_uid_are_left_alone(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("dinner.ics", DINNER)
    await env.sync_ok()
    env.write("lunch.ics", b"BEGIN:VCALENDAR\r\nthis is not iCalendar\r\n")
    env.write("dinner-copy.ics", DINNER)
    report = await env.sync()
    assert report.deleted_remote == 0 and report.skipped == 2
    assert any("lunch.ics" in str(p) for p in report.problems)
    assert any("dinner@example.com" in str(p) for p in report.problems)
    assert env.summaries() == ["Dinner", "Lunch"]


async def test_skipped_fallback_never_deletes(make_env: Any) -> None:
    from wesync.config import Fallback

    env: Env = make_env(fallback=Fallback.SKIP)
    odd = calendar(
        vevent(
            "odd@example.com",
            "Last Friday",
            "20270129T170000",
            "20270129T180000",
            rrule="FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1",
        )
    )
    env.write("odd.ics", odd)
    env.write("lunch.ics", LUNCH)
    report = await env.sync_ok()
    assert report.created_remote == 1 and report.skipped == 1
    env.pair = dataclasses.replace(env.pair)
    await env.assert_quiet()


async def test_file_changed_during_the_sync_is_left_for_the_next_run(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wesync.storage as storage_module
    from wesync.errors import PreconditionFailed
    from wesync.storage import open_storage as real_open

    env.write("lunch.ics", LUNCH)
    env.write("dinner.ics", DINNER)
    await env.sync_ok()
    edit_in_wecom(env, "Lunch", "Lunch (WeCom)")

    def racing_storage(path: Any, **kw: Any) -> Any:
        storage = real_open(path, **kw)

        def update(href: str, data: bytes, etag: str) -> str:
            raise PreconditionFailed("changed since it was read (etag mismatch)", path=href)

        storage.update = update  # type: ignore[method-assign]
        return storage

    monkeypatch.setattr(storage_module, "open_storage", racing_storage)
    report = await env.sync()
    assert report.ok and report.skipped == 1 and report.updated_local == 0
    assert any("skipped this run" in str(p) for p in report.problems)
    monkeypatch.setattr(storage_module, "open_storage", real_open)
    report = await env.sync_ok()
    assert report.updated_local == 1
    assert b"SUMMARY:Lunch (WeCom)" in env.files()["lunch.ics"]
    await env.assert_quiet()
