"""What an unchanged listing entry proves, and how wesync learns what `sequence` does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Env, calendar, vevent
from tests.sync.helpers import writes
from wesync.sync import sequence
from wesync.sync.status import StatusDB, status_path

SAMPLE: dict[str, Any] = {
    "schedule_id": "s",
    "sequence": 3,
    "start_time": 1,
    "reminders": {"is_remind": 0, "is_repeat": 0},
}
FULL: dict[str, Any] = {
    **SAMPLE,
    "is_whole_day": 0,
    "reminders": {"is_remind": 0, "is_repeat": 1, "remind_time_diffs": [], "exclude_time_list": []},
}


def test_an_entry_proves_itself_unchanged_only_when_it_can() -> None:
    assert sequence.entry_is_complete(FULL) and not sequence.entry_is_complete(SAMPLE)
    series_without_exclusions = {**FULL, "reminders": {**FULL["reminders"]}}
    del series_without_exclusions["reminders"]["exclude_time_list"]
    assert not sequence.entry_is_complete(series_without_exclusions)
    for verdict in (None, sequence.FROZEN, sequence.ABSENT):
        assert not sequence.digest_proves_unchanged(SAMPLE, verdict)
        assert sequence.digest_proves_unchanged(FULL, verdict)
    assert sequence.digest_proves_unchanged(SAMPLE, sequence.PER_CHANGE)
    no_sequence = {k: v for k, v in SAMPLE.items() if k != "sequence"}
    assert not sequence.digest_proves_unchanged(no_sequence, sequence.PER_CHANGE)


def test_the_verdict_is_the_worst_answer_seen() -> None:
    assert sequence.verdict_from({}, {"a": 1}) is None
    assert sequence.verdict_from({"a": 1}, {}) is None  # not listed: no answer yet
    assert sequence.verdict_from({"a": 1}, {"a": 2}) == sequence.PER_CHANGE
    assert sequence.verdict_from({"a": 1, "b": 5}, {"a": 2, "b": 5}) == sequence.FROZEN
    assert sequence.verdict_from({"a": 1}, {"a": None}) == sequence.ABSENT


def _verdict(env: Env) -> str | None:
    with StatusDB(status_path(env.state, env.pair.name), readonly=True) as db:
        return db.get_meta(sequence.VERDICT_KEY) or None


LUNCH = calendar(vevent("lunch@example.com", "Lunch", "20270105T120000", "20270105T130000"))


@pytest.mark.default_answers
async def test_wesync_looks_once_then_knows(env: Env) -> None:
    env.write("lunch.ics", LUNCH)
    env.server.admin("DELETE", "requests")
    await env.sync_ok()
    # a first sync only adds: it sends one schedule it wrote again, unchanged
    assert writes(env.server) == ["/cgi-bin/oa/schedule/add", "/cgi-bin/oa/schedule/update"]
    assert _verdict(env) is None
    env.server.admin("DELETE", "requests")
    await env.sync_ok()
    # the emulator's default: sequence rises on every change; learned from that look
    assert _verdict(env) == sequence.PER_CHANGE
    assert writes(env.server) == []
    # from now on an unchanged listing is all a sync reads
    env.server.admin("DELETE", "requests")
    await env.assert_quiet()
    log = env.server.admin("GET", "requests")["requests"]
    assert [r["path"] for r in log if r["path"].startswith("/cgi-bin/oa/")] == [
        "/cgi-bin/oa/schedule/get_by_calendar"
    ] * 2


async def test_until_it_knows_an_edit_wecom_hides_from_the_listing_is_seen(env: Env) -> None:
    env.know_sequence(sequence.FROZEN)
    env.write("lunch.ics", LUNCH)
    await env.sync_ok()
    await env.sync_ok()
    (lunch,) = env.schedules()
    # a new reminder: the documented listing does not show remind_time_diffs, and
    # under "frozen" the sequence does not move either
    env.server.emulator.state.schedules[lunch["schedule_id"]]["data"]["reminders"].update(
        is_remind=1, remind_time_diffs=[-900]
    )
    report = await env.sync_ok()
    assert report.updated_local == 1
    assert b"TRIGGER:-PT15M" in env.files()["lunch.ics"]
    await env.assert_quiet()


ALARMED = calendar(
    vevent(
        "lunch@example.com",
        "Lunch",
        "20270105T120000",
        "20270105T130000",
        extra="BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:Lunch\nTRIGGER:-PT15M\nEND:VALARM",
    )
)


@pytest.mark.default_answers
async def test_a_schedule_a_callback_names_is_read_whatever_the_listing_says(env: Env) -> None:
    env.know_sequence(sequence.PER_CHANGE)
    env.write("lunch.ics", ALARMED)
    await env.sync_ok()
    await env.sync_ok()  # learns the listing digest of what it wrote
    (lunch,) = env.schedules()
    # changed behind a listing that cannot show it (remind_time_diffs is not listed,
    # and nothing moved the sequence)
    reminders = env.server.emulator.state.schedules[lunch["schedule_id"]]["data"]["reminders"]
    assert reminders["remind_time_diffs"] == [-900]
    reminders["remind_time_diffs"] = [-3600]
    assert (await env.sync_ok()).updated_local == 0  # the listing cannot tell
    report = await env.sync_ok(fetch_ids=[lunch["schedule_id"]])  # a callback can
    assert report.updated_local == 1
    assert b"TRIGGER:-PT1H" in env.files()["lunch.ics"]


@pytest.mark.default_answers
@pytest.mark.parametrize("answer", ["frozen", "absent"])
async def test_a_sequence_that_does_not_rise_is_learned_and_costs_gets(
    env: Env, answer: str
) -> None:
    env.server.emulator.configure(variants={"sequence": answer})
    env.write("lunch.ics", LUNCH)
    await env.sync_ok()
    await env.sync_ok()
    assert _verdict(env) == answer
    (lunch,) = env.schedules()
    reminders = env.server.emulator.state.schedules[lunch["schedule_id"]]["data"]["reminders"]
    reminders.update(is_remind=1, remind_time_diffs=[-900])
    env.server.admin("DELETE", "requests")
    report = await env.sync_ok()
    assert report.updated_local == 1  # seen on the next sync, whatever the listing shows
    paths = [r["path"] for r in env.server.admin("GET", "requests")["requests"]]
    assert "/cgi-bin/oa/schedule/get" in paths
