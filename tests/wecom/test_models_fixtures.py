"""The models read every schema WeCom has published and write back what they read."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from wesync.wecom.client import loads_lenient
from wesync.wecom.models import Calendar, Schedule

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "wecom"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


# --- current schema --------------------------------------------------------------


def test_schedule_add_request_round_trips_exactly() -> None:
    sent = load("current/schedule_add.request.json")["schedule"]
    schedule = Schedule.from_api(sent)
    assert schedule.summary == "周会 / weekly sync"
    assert schedule.reminders is not None
    assert schedule.reminders.repeat_day_of_week == (1, 4)
    assert schedule.reminders.remind_time_diffs == (0, -900)
    assert schedule.is_whole_day == 0
    assert schedule.extra == {}
    assert schedule.to_api() == sent


def test_schedule_update_request_round_trips_exactly() -> None:
    request = load("current/schedule_update.request.json")
    sent = request["schedule"]
    schedule = Schedule.from_api(sent)
    assert schedule.schedule_id == "fixtureSchedule00000000000000001"
    assert schedule.to_api(for_update=True) == sent


def test_calendar_add_and_update_requests_round_trip_exactly() -> None:
    added = load("current/calendar_add.request.json")["calendar"]
    calendar = Calendar.from_api(added)
    assert calendar.admins == ("lisi", "wangwu")
    assert calendar.shares is not None
    assert [(s.userid, s.permission) for s in calendar.shares] == [
        ("lisi", 1),
        ("wangwu", 1),
        ("zhaoliu", 3),
    ]
    assert calendar.public_range == {"userids": ["lisi", "zhaoliu"], "partyids": [7, 42]}
    assert calendar.to_api() == added

    updated = load("current/calendar_update.request.json")["calendar"]
    assert Calendar.from_api(updated).to_api(for_update=True) == updated


def test_update_form_leaves_out_what_cannot_change() -> None:
    added = load("current/calendar_add.request.json")["calendar"]
    form = Calendar.from_api({**added, "cal_id": "wcX"}).to_api(for_update=True)
    assert "is_public" not in form
    assert "is_corp_calendar" not in form
    assert form["cal_id"] == "wcX"


def test_schedule_get_response_has_every_field() -> None:
    items = load("current/schedule_get.response.json")["schedule_list"]
    weekly, yearly_party = (Schedule.from_api(i) for i in items)
    assert weekly.is_complete
    assert weekly.attendees is not None
    assert [(a.userid, a.response_status) for a in weekly.attendees] == [
        ("lisi", 2),
        ("zhaoliu", 4),
    ]
    assert weekly.reminders is not None
    assert weekly.reminders.exclude_time_list == (1767837600,)
    assert weekly.status == 0
    assert not weekly.is_cancelled
    assert yearly_party.is_cancelled
    assert yearly_party.is_whole_day == 1
    assert yearly_party.reminders is not None
    assert yearly_party.reminders.remind_time_diffs == (32400, -86400)


def test_listing_item_without_the_sample_fields_is_incomplete_not_defaulted() -> None:
    item = load("current/schedule_get_by_calendar.response.json")["schedule_list"][0]
    schedule = Schedule.from_api(item)
    assert schedule.sequence == 17
    assert schedule.is_whole_day is None
    assert schedule.reminders is not None
    assert schedule.reminders.remind_time_diffs is None
    assert schedule.reminders.exclude_time_list is None
    assert not schedule.is_complete


def test_read_only_fields_are_not_sent_back() -> None:
    item = load("current/schedule_get.response.json")["schedule_list"][0]
    form = Schedule.from_api(item).to_api(for_update=True)
    assert "status" not in form
    assert "cal_id" not in form
    assert all("response_status" not in a for a in form["attendees"])
    assert "exclude_time_list" not in form["reminders"]
    with_exclusions = Schedule.from_api(item).to_api(for_update=True, with_exclusions=True)
    assert with_exclusions["reminders"]["exclude_time_list"] == [{"start_time": 1767837600}]


def test_unknown_fields_survive_a_read_modify_write() -> None:
    sent = copy.deepcopy(load("current/schedule_add.request.json")["schedule"])
    sent["future_flag"] = {"nested": [1, 2]}
    sent["reminders"]["future_reminder"] = 5
    sent["attendees"][0]["role"] = "chair"
    schedule = Schedule.from_api(sent)
    assert schedule.extra == {"future_flag": {"nested": [1, 2]}}
    edited = schedule.with_changes(summary="renamed")
    form = edited.to_api()
    assert form == {**sent, "summary": "renamed"}

    cal = copy.deepcopy(load("current/calendar_add.request.json")["calendar"])
    cal["theme"] = "dark"
    cal["shares"][0]["note"] = "x"
    assert Calendar.from_api(cal).to_api() == cal


# --- older schemas ---------------------------------------------------------------


def test_legacy_schedule_keeps_organizer_as_extra_but_does_not_send_it() -> None:
    sent = load("legacy/schedule_add.request.json")["schedule"]
    schedule = Schedule.from_api(sent)
    assert schedule.extra == {"organizer": "lisi"}
    assert schedule.reminders is not None
    assert schedule.reminders.remind_before_event_secs == 900
    # the current API has no organizer: the calling app is the creator
    assert schedule.to_api() == without(sent, "organizer")

    got = Schedule.from_api(load("legacy/schedule_get.response.json")["schedule_list"][0])
    assert got.is_whole_day is None
    assert not got.is_complete


def test_legacy_calendar_reads_organizer_and_readonly() -> None:
    item = load("legacy/calendar_get.response.json")["calendar_list"][0]
    calendar = Calendar.from_api(item)
    assert calendar.organizer == "lisi"
    assert calendar.readonly == 1
    assert calendar.shares is not None
    assert calendar.shares[1].extra == {"readonly": 1}
    assert calendar.shares[0].permission is None
    sent = load("legacy/calendar_add.request.json")["calendar"]
    form = Calendar.from_api(sent).to_api()
    # organizer and readonly are 2020-only and immutable: never sent again
    assert form == without(sent, "organizer", "readonly")


def test_intermediate_schema_fields_are_kept() -> None:
    sent = load("intermediate/schedule_update.request.json")["schedule"]
    schedule = Schedule.from_api(sent)
    assert schedule.extra == {
        "organizer": "lisi",
        "allow_active_join": True,
        "skip_attendees": False,
    }
    assert schedule.to_api(for_update=True) == without(sent, "organizer")

    got = Schedule.from_api(load("intermediate/schedule_get.response.json")["schedule_list"][0])
    assert got.reminders is not None
    assert got.reminders.exclude_time_list == (1642600000,)
    assert got.attendees is not None
    assert got.attendees[0].response_status == 3


# --- the documentation's own mistakes --------------------------------------------------


def test_invalid_doc_sample_is_read_leniently_and_adminis_accepted() -> None:
    raw = (FIXTURES / "docs-sample/calendar_get.response.invalid.txt").read_bytes()
    with pytest.raises(ValueError):
        json.loads(raw)
    data = loads_lenient(raw)
    assert isinstance(data, dict)
    calendar = Calendar.from_api(data["calendar_list"][0])
    assert calendar.admins == ("lisi", "wangwu")
    assert calendar.is_corp_calendar == 1
    assert "adminis" not in calendar.extra
    assert calendar.to_api()["admins"] == ["lisi", "wangwu"]


def test_doc_sample_update_with_typo_key_parses() -> None:
    request = load("docs-sample/schedule_update.request.json")
    assert "skip_attendees " in request
    schedule = Schedule.from_api(request["schedule"])
    assert schedule.reminders is not None
    # the model does not judge values: validation is WeCom's (and the emulator's)
    assert schedule.reminders.remind_time_diffs == (0, 3600)
    assert schedule.to_api(for_update=True) == request["schedule"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": [1, 2,], "b": {"c": 1,},}',
        '{"a": [1, 2 , ] , "b": {"c": 1\n,\n}\n}',
    ],
)
def test_loads_lenient_forgives_trailing_commas(raw: bytes | str) -> None:
    assert loads_lenient(raw) == {"a": [1, 2], "b": {"c": 1}}


def test_loads_lenient_leaves_commas_inside_strings_alone() -> None:
    assert loads_lenient('{"s": "a,]", "t": "q\\",}",}') == {"s": "a,]", "t": 'q",}'}
    assert loads_lenient(b'\xef\xbb\xbf{"bom": 1}') == {"bom": 1}
    assert loads_lenient(b"<html>502</html>") is None
    assert loads_lenient(b"") is None
