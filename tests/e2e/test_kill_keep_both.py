"""A run killed at an exact point, in process (the status database keeps what was
committed, as after a SIGKILL), then edits made before the next run: under
keep-both nothing a user wrote on either side is lost, and nothing is duplicated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from tests.e2e.conftest import Env, calendar, vevent
from tests.e2e.test_policies import edit_in_wecom
from wesync.wecom.client import WeComClient


class Killed(BaseException):
    """The process dies here (no handler of the engine catches it)."""


def kill_at_read_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kill the run at its first `schedule/get` after a write: every push of the
    run has landed in WeCom, but the run never recorded them."""
    wrote = False
    for name in ("schedule_add", "schedule_update", "schedule_del"):
        original = getattr(WeComClient, name)

        async def write(self: WeComClient, *args: Any, _original: Any = original, **kw: Any) -> Any:
            nonlocal wrote
            wrote = True
            return await _original(self, *args, **kw)

        monkeypatch.setattr(WeComClient, name, write)
    get = WeComClient.schedule_get

    async def read_back(self: WeComClient, schedule_ids: Sequence[str]) -> Any:
        if wrote:
            raise Killed
        return await get(self, schedule_ids)

    monkeypatch.setattr(WeComClient, "schedule_get", read_back)


async def killed_sync(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        kill_at_read_back(m)
        with pytest.raises(Killed):
            await env.sync()


def event(uid: str, summary: str, day: str) -> bytes:
    return calendar(vevent(uid, summary, f"{day}T100000", f"{day}T110000"))


async def test_pulled_event_deleted_after_a_killed_push_is_deleted(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the state machine's shrunk case: the run writes WeCom's new event `a` into a
    # file, then is killed pushing the new file `b`; the user then deletes `a`'s file
    env.add_schedule(summary="From WeCom", start_time=1799380800, end_time=1799384400)
    env.write("b.ics", event("b@example.com", "From file", "20270106"))
    await killed_sync(env, monkeypatch)
    (pulled,) = [n for n, data in env.files().items() if b"From WeCom" in data]
    (env.local / pulled).unlink()
    await env.sync_ok()
    assert env.summaries() == ["From file"]
    assert list(env.files()) == ["b.ics"]
    await env.assert_quiet()


async def test_wecom_edit_after_a_killed_run_that_pushed_is_kept(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.write("lunch.ics", event("lunch@example.com", "Lunch", "20270105"))
    await env.sync_ok()
    env.write("lunch.ics", event("lunch@example.com", "Lunch (file)", "20270105"))
    await killed_sync(env, monkeypatch)  # the push landed; its status was never written
    assert env.summaries() == ["Lunch (file)"]
    edit_in_wecom(env, "Lunch (file)", "Lunch (WeCom)")
    await env.sync_ok()
    # WeCom's edit came after the file's: it is the newest version, not a stale one
    assert env.summaries() == ["Lunch (WeCom)"]
    assert b"SUMMARY:Lunch (WeCom)" in env.files()["lunch.ics"]
    await env.assert_quiet()


async def test_keep_both_killed_after_the_copy_was_pushed(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.write("lunch.ics", event("lunch@example.com", "Lunch", "20270105"))
    await env.sync_ok()
    env.write("lunch.ics", event("lunch@example.com", "Lunch (file)", "20270105"))
    edit_in_wecom(env, "Lunch", "Lunch (WeCom)")
    await killed_sync(env, monkeypatch)  # the copy reached WeCom; its status did not
    assert env.summaries() == ["Lunch (WeCom)", "Lunch (file)"]
    (copy,) = [n for n in env.files() if n != "lunch.ics"]
    edit_in_wecom(env, "Lunch (file)", "Lunch (file then WeCom)")
    await env.sync_ok()
    assert env.summaries() == ["Lunch (WeCom)", "Lunch (file then WeCom)"]
    files = env.files()
    assert set(files) == {"lunch.ics", copy}
    assert b"SUMMARY:Lunch (WeCom)" in files["lunch.ics"]
    assert b"SUMMARY:Lunch (file then WeCom)" in files[copy]
    await env.assert_quiet()
