"""Writing one event's slots to the emulator: the WeCom steps for series,
exclusions, overrides, 90706, and lost answers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.sync.helpers import (
    DAY,
    HOUR,
    MONDAY_9,
    WEEK,
    MemoryJournal,
    draft,
    loopback_client,
    make_calendar,
    writes,
)
from wesync.sync.remote import OldSlot, delete_event, push_event
from wesync.translate.canonical import ScheduleDraft
from wesync.translate.remote import draft_from_schedule
from wesync.wecom.client import WeComClient
from wesync.wecom.errors import WeComTransportError


async def remote_drafts(client: WeComClient, slots: dict[str, str]) -> dict[str, ScheduleDraft]:
    fetched = {s.schedule_id: s for s in await client.schedule_get(list(slots.values()))}
    out = {}
    for key, sid in slots.items():
        schedule = fetched[sid]
        assert not schedule.is_cancelled, key
        out[key] = draft_from_schedule(schedule)
    return out


async def push(
    client: WeComClient,
    cal_id: str,
    new: dict[str, ScheduleDraft],
    slots: dict[str, str] | None = None,
    journal: MemoryJournal | None = None,
) -> dict[str, str]:
    old: dict[str, OldSlot] = {}
    if slots:
        current = await remote_drafts(client, slots)
        old = {k: OldSlot(schedule_id=slots[k], draft=d) for k, d in current.items()}
    result = await push_event(
        client, journal or MemoryJournal(), uid="u", cal_id=cal_id, old=old, new=new
    )
    got = await remote_drafts(client, result.slots)
    assert {k: d.content_digest() for k, d in got.items()} == {
        k: d.content_digest() for k, d in new.items()
    }
    return result.slots


async def test_single_event_add_update_delete(emulator_server: Any) -> None:
    cal = make_calendar(emulator_server)
    async with loopback_client(emulator_server) as client:
        journal = MemoryJournal()
        slots = await push(client, cal, {"": draft("Lunch")}, journal=journal)
        assert journal.intents == {} and journal.mapped == {"": slots[""]}
        emulator_server.admin("DELETE", "requests")
        same = await push(client, cal, {"": draft("Lunch")}, slots)
        assert same == slots and writes(emulator_server) == []
        moved = await push(client, cal, {"": draft("Lunch", MONDAY_9 + HOUR)}, slots)
        assert moved == slots
        assert writes(emulator_server) == ["/cgi-bin/oa/schedule/update"]
        await delete_event(client, MemoryJournal(), uid="u", schedule_ids=moved)
        (schedule,) = await client.schedule_get([moved[""]])
        assert schedule.is_cancelled


async def test_series_with_exclusion_and_override(emulator_server: Any) -> None:
    cal = make_calendar(emulator_server)
    second, third = MONDAY_9 + WEEK, MONDAY_9 + 2 * WEEK
    series = draft(weekly=True, until=MONDAY_9 + 9 * WEEK, exclude=(second, third))
    override = draft("Weekly sync (moved)", third + 2 * HOUR)
    async with loopback_client(emulator_server) as client:
        slots = await push(client, cal, {"": series, f"R:{third}": override})
        assert set(slots) == {"", f"R:{third}"}
        assert slots[""] != slots[f"R:{third}"]
        paths = writes(emulator_server)
        # add the series, exclude one occurrence, split the override off
        assert paths == [
            "/cgi-bin/oa/schedule/add",
            "/cgi-bin/oa/schedule/del",
            "/cgi-bin/oa/schedule/update",
        ]

        # more exclusions, same series: only the new one is removed
        emulator_server.admin("DELETE", "requests")
        fourth = MONDAY_9 + 3 * WEEK
        grown = draft(weekly=True, until=MONDAY_9 + 9 * WEEK, exclude=(second, third, fourth))
        again = await push(client, cal, {"": grown, f"R:{third}": override}, slots)
        assert again == slots
        assert writes(emulator_server) == ["/cgi-bin/oa/schedule/del"]

        # the override goes away: WeCom cannot un-exclude, so the series is re-created
        emulator_server.admin("DELETE", "requests")
        back = draft(weekly=True, until=MONDAY_9 + 9 * WEEK, exclude=(second, fourth))
        final = await push(client, cal, {"": back}, again)
        assert set(final) == {""} and final[""] != slots[""]
        (old_override,) = await client.schedule_get([slots[f"R:{third}"]])
        assert old_override.is_cancelled


async def test_new_override_on_an_existing_series(emulator_server: Any) -> None:
    cal = make_calendar(emulator_server)
    series = draft(weekly=True, until=MONDAY_9 + 5 * WEEK)
    async with loopback_client(emulator_server) as client:
        slots = await push(client, cal, {"": series})
        at = MONDAY_9 + WEEK
        with_override = draft(weekly=True, until=MONDAY_9 + 5 * WEEK, exclude=(at,))
        emulator_server.admin("DELETE", "requests")
        after = await push(
            client, cal, {"": with_override, f"R:{at}": draft("Moved", at + DAY)}, slots
        )
        assert after[""] == slots[""]
        assert writes(emulator_server) == ["/cgi-bin/oa/schedule/update"]


async def test_moved_series_is_recreated_but_a_new_end_is_not(emulator_server: Any) -> None:
    cal = make_calendar(emulator_server)
    async with loopback_client(emulator_server) as client:
        slots = await push(client, cal, {"": draft(weekly=True, until=MONDAY_9 + 5 * WEEK)})
        longer = draft(weekly=True, until=MONDAY_9 + 8 * WEEK)
        after = await push(client, cal, {"": longer}, slots)
        assert after[""] == slots[""]
        excluded = draft(weekly=True, until=MONDAY_9 + 8 * WEEK, exclude=(MONDAY_9 + 6 * WEEK,))
        after = await push(client, cal, {"": excluded}, after)
        shorter = draft(weekly=True, until=MONDAY_9 + 3 * WEEK)  # the exclusion falls off
        after = await push(client, cal, {"": shorter}, after)
        assert after[""] == slots[""]
        moved = draft(weekly=True, start=MONDAY_9 + DAY, until=MONDAY_9 + 3 * WEEK)
        after = await push(client, cal, {"": moved}, after)
        assert after[""] != slots[""]


async def test_moving_a_one_off_into_the_past_readds_it(emulator_server: Any) -> None:
    cal = make_calendar(emulator_server)
    now = int(emulator_server.emulator.now())
    async with loopback_client(emulator_server) as client:
        slots = await push(client, cal, {"": draft("Retro", now + DAY)})
        after = await push(client, cal, {"": draft("Retro", now - DAY)}, slots)
        assert after[""] != slots[""]


async def test_lost_answer_to_an_add_keeps_the_intent(emulator_server: Any) -> None:
    cal = make_calendar(emulator_server)
    emulator_server.admin(
        "POST",
        "faults",
        {"path": "/cgi-bin/oa/schedule/add", "times": 1, "kind": "drop_after_commit"},
    )
    journal = MemoryJournal()
    async with loopback_client(emulator_server) as client:
        with pytest.raises(WeComTransportError) as info:
            await push_event(client, journal, uid="u", cal_id=cal, old={}, new={"": draft("Lost")})
        assert info.value.maybe_applied
        (intent,) = journal.intents.values()
        assert (intent.op, intent.summary, intent.start_time) == ("add", "Lost", MONDAY_9)
        listed = await client.schedule_list(cal)
        assert [s.summary for s in listed] == ["Lost"]


def test_an_update_carries_the_fields_wesync_does_not_know() -> None:
    from wesync.sync.remote import carry_over
    from wesync.translate.remote import schedule_from_draft
    from wesync.wecom.models import Attendee, Reminders, Schedule

    previous = Schedule(
        schedule_id="s1",
        summary="Old",
        attendees=(Attendee(userid="ann", extra={"seat": 4}), Attendee(userid="bob")),
        reminders=Reminders(is_remind=0, extra={"x_sound": "bell"}),
        extra={"x_meeting_room": {"room_id": "r-17"}, "color_tag": "#00FF00"},
    )
    new = replace(schedule_from_draft(draft("New"), cal_id="c"), schedule_id="s1")
    new = replace(new, attendees=(Attendee(userid="ann"), Attendee(userid="cat")))
    body = carry_over(new, previous).to_api(for_update=True)
    assert body["summary"] == "New"
    assert body["x_meeting_room"] == {"room_id": "r-17"} and body["color_tag"] == "#00FF00"
    assert body["reminders"]["x_sound"] == "bell"
    assert body["attendees"] == [{"userid": "ann", "seat": 4}, {"userid": "cat"}]
    assert carry_over(new, None) is new
