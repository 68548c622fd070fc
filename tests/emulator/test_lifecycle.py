"""A calendar's whole life through the emulator, over real HTTP, with documented JSON only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulator.helpers import DAY, HOUR, T0, Api, daily
from wesync.wecom import constants as C


@pytest.fixture
def api(emulator_server: Any) -> Iterator[Api]:
    with httpx.Client(base_url=emulator_server.url, timeout=10) as client:
        yield Api(client)


def test_gettoken_answers_like_wecom(api: Api) -> None:
    body = api.gettoken()
    assert body["errcode"] == 0 and body["errmsg"] == "ok"
    assert body["expires_in"] == 7200
    assert 0 < len(body["access_token"]) <= 512


def test_calendar_add_get_update_del(api: Api) -> None:
    cal_id = api.add_calendar(description="d", shares=[{"userid": "zhangsan"}],
                              admins=["zhangsan"])
    assert cal_id.startswith("wc") and len(cal_id) == 32
    got = api.ok(C.CALENDAR_GET, {"cal_id_list": [cal_id]})["calendar_list"]
    assert got == [{
        "cal_id": cal_id, "admins": ["zhangsan"], "summary": "Team", "color": "#FF3030",
        "description": "d", "shares": [{"userid": "zhangsan", "permission": 1}],
        "is_public": 0, "public_range": {"userids": [], "partyids": []}, "is_corp_calendar": 0,
    }]
    # update overwrites: fields left out are gone
    api.ok(C.CALENDAR_UPDATE,
           {"calendar": {"cal_id": cal_id, "summary": "New", "color": "#00FF00"}})
    got = api.ok(C.CALENDAR_GET, {"cal_id_list": [cal_id]})["calendar_list"][0]
    assert (got["summary"], got["color"], got["description"], got["shares"], got["admins"]) == (
        "New", "#00FF00", "", [], [])
    api.ok(C.CALENDAR_DEL, {"cal_id": cal_id})
    assert api.post(C.CALENDAR_GET, {"cal_id_list": [cal_id]})["errcode"] == C.ERR_CALENDAR_DELETED


def test_schedule_add_stores_current_schema(api: Api) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(
        cal_id, attendees=[{"userid": "lisi"}, {"userid": "wangwu"}], admins=["lisi"],
        description="agenda", location="Room 1",
        reminders={"is_remind": 1, "remind_time_diffs": [-900, 0]},
        exclude_time_list=[{"start_time": T0}],
    )
    got = api.get(sid)
    assert got == {
        "schedule_id": sid, "admins": ["lisi"],
        "attendees": [{"userid": "lisi", "response_status": 0},
                      {"userid": "wangwu", "response_status": 0}],
        "summary": "Meeting", "description": "agenda",
        "reminders": {
            "is_remind": 1, "remind_before_event_secs": 900, "remind_time_diffs": [-900, 0],
            "is_repeat": 0, "repeat_type": 0, "repeat_until": 0, "is_custom_repeat": 0,
            "repeat_interval": 0, "repeat_day_of_week": [], "repeat_day_of_month": [],
            "timezone": 8, "exclude_time_list": [],
        },
        "location": "Room 1", "cal_id": cal_id, "start_time": T0, "end_time": T0 + HOUR,
        "status": 0, "is_whole_day": 0,
    }


def test_update_overwrites_and_skip_attendees_keeps_answers(api: Api, emulator_server: Any) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, attendees=[{"userid": "a"}, {"userid": "b"}], location="X")
    emulator_server.admin("POST", "respond", {"schedule_id": sid, "userid": "a",
                                               "response_status": 2})
    api.ok(C.SCHEDULE_UPDATE, {"schedule": {"schedule_id": sid, "start_time": T0,
                                            "end_time": T0 + 2 * HOUR, "summary": "S2"}},)
    got = api.get(sid)
    assert got["attendees"] == [] and got["location"] == "" and got["summary"] == "S2"
    api.ok(C.SCHEDULE_ADD_ATTENDEES, {"schedule_id": sid, "attendees": [{"userid": "a"}]})
    emulator_server.admin("POST", "respond", {"schedule_id": sid, "userid": "a",
                                               "response_status": 4})
    api.ok(C.SCHEDULE_UPDATE, {"skip_attendees": 1, "schedule": {
        "schedule_id": sid, "start_time": T0, "end_time": T0 + HOUR, "attendees": []}})
    assert api.get(sid)["attendees"] == [{"userid": "a", "response_status": 4}]
    # a full update keeps the answers of retained attendees; newcomers start at 0
    api.ok(C.SCHEDULE_UPDATE, {"schedule": {
        "schedule_id": sid, "start_time": T0, "end_time": T0 + HOUR,
        "attendees": [{"userid": "a"}, {"userid": "c"}]}})
    assert api.get(sid)["attendees"] == [{"userid": "a", "response_status": 4},
                                         {"userid": "c", "response_status": 0}]


def test_attendees_are_incremental(api: Api) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, attendees=[{"userid": "a"}])
    api.ok(C.SCHEDULE_ADD_ATTENDEES, {"schedule_id": sid,
                                      "attendees": [{"userid": "b"}, {"userid": "a"}]})
    assert [a["userid"] for a in api.get(sid)["attendees"]] == ["a", "b"]
    api.ok(C.SCHEDULE_DEL_ATTENDEES, {"schedule_id": sid, "attendees": [{"userid": "a"}]})
    assert [a["userid"] for a in api.get(sid)["attendees"]] == ["b"]


def test_get_by_calendar_pages_in_creation_order_with_rising_sequence(api: Api) -> None:
    cal_id = api.add_calendar()
    ids = [api.add_schedule(cal_id, summary=f"s{i}") for i in range(7)]
    pages = [api.listing(cal_id, offset=off, limit=3) for off in (0, 3, 6, 9)]
    assert [len(p) for p in pages] == [3, 3, 1, 0]
    listed = [item for page in pages for item in page]
    assert [item["schedule_id"] for item in listed] == ids
    sequences = [item["sequence"] for item in listed]
    assert sequences == sorted(sequences) and len(set(sequences)) == 7
    before = listed[2]["sequence"]
    api.ok(C.SCHEDULE_DEL, {"schedule_id": ids[2]})
    after = api.listing(cal_id)[2]
    assert after["status"] == 1 and after["sequence"] > max(sequences) > before
    assert len(api.listing(cal_id)) == 7  # default limit 500 covers all, cancelled included


def test_listing_sample_omits_fields_and_full_returns_all(api: Api, emulator_server: Any) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, is_whole_day=1, start_time=T0, end_time=T0 + DAY,
                           reminders=daily(remind_time_diffs=[32400]))
    api.ok(C.SCHEDULE_DEL, {"schedule_id": sid, "op_mode": 1, "op_start_time": T0 + DAY})
    sample = api.listing(cal_id)[0]
    assert "is_whole_day" not in sample
    assert "remind_time_diffs" not in sample["reminders"]
    assert "exclude_time_list" not in sample["reminders"]
    assert sample["reminders"]["repeat_type"] == 0
    emulator_server.admin("POST", "config", {"listing": "full"})
    full = api.listing(cal_id)[0]
    full_without_sequence = {k: v for k, v in full.items() if k != "sequence"}
    assert full_without_sequence == api.get(sid)
    assert full["reminders"]["exclude_time_list"] == [{"start_time": T0 + DAY}]


def test_op_mode_1_update_splits_one_occurrence(api: Api) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, reminders=daily(), attendees=[{"userid": "a"}])
    body = {"op_mode": 1, "op_start_time": T0 + 2 * DAY, "skip_attendees": 1, "schedule": {
        "schedule_id": sid, "start_time": T0 + 2 * DAY + HOUR, "end_time": T0 + 2 * DAY + 2 * HOUR,
        "summary": "moved"}}
    new_id = api.ok(C.SCHEDULE_UPDATE, body)["schedule_id"]
    assert new_id != sid
    master = api.get(sid)
    assert master["reminders"]["exclude_time_list"] == [{"start_time": T0 + 2 * DAY}]
    single = api.get(new_id)
    assert single["reminders"]["is_repeat"] == 0 and single["summary"] == "moved"
    assert single["attendees"] == [{"userid": "a", "response_status": 0}]
    assert single["cal_id"] == cal_id
    assert [i["schedule_id"] for i in api.listing(cal_id)] == [sid, new_id]


def test_op_mode_2_update_splits_the_series(api: Api) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, reminders=daily())
    body = {"op_mode": 2, "op_start_time": T0 + 5 * DAY, "schedule": {
        "schedule_id": sid, "start_time": T0 + 5 * DAY, "end_time": T0 + 5 * DAY + HOUR,
        "summary": "later", "reminders": daily()}}
    new_id = api.ok(C.SCHEDULE_UPDATE, body)["schedule_id"]
    assert new_id != sid
    assert api.get(sid)["reminders"]["repeat_until"] == T0 + 4 * DAY
    tail = api.get(new_id)
    assert tail["start_time"] == T0 + 5 * DAY and tail["reminders"]["is_repeat"] == 1
    # at the first occurrence op_mode 2 is an ordinary update of all
    same = api.ok(C.SCHEDULE_UPDATE, {"op_mode": 2, "op_start_time": T0, "schedule": {
        "schedule_id": sid, "start_time": T0, "end_time": T0 + HOUR, "summary": "all",
        "reminders": daily()}})
    assert same["schedule_id"] == sid
    assert api.get(sid)["summary"] == "all"


def test_del_op_modes(api: Api) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, reminders=daily())
    api.ok(C.SCHEDULE_DEL, {"schedule_id": sid, "op_mode": 1, "op_start_time": T0 + DAY})
    assert api.get(sid)["reminders"]["exclude_time_list"] == [{"start_time": T0 + DAY}]
    api.ok(C.SCHEDULE_DEL, {"schedule_id": sid, "op_mode": 2, "op_start_time": T0 + 3 * DAY})
    got = api.get(sid)
    assert got["reminders"]["repeat_until"] == T0 + 2 * DAY and got["status"] == 0
    api.ok(C.SCHEDULE_DEL, {"schedule_id": sid, "op_mode": 0})
    assert api.get(sid)["status"] == 1
    assert api.post(C.SCHEDULE_UPDATE, {"schedule": {
        "schedule_id": sid, "start_time": T0, "end_time": T0 + 1}})["errcode"] == 90460


def test_deleted_calendar_makes_schedules_unreachable(api: Api) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id)
    api.ok(C.CALENDAR_DEL, {"cal_id": cal_id})
    for path, body in [
        (C.SCHEDULE_GET, {"schedule_id_list": [sid]}),
        (C.SCHEDULE_UPDATE, {"schedule": {"schedule_id": sid, "start_time": T0,
                                          "end_time": T0 + 1}}),
        (C.SCHEDULE_DEL, {"schedule_id": sid}),
        (C.SCHEDULE_GET_BY_CALENDAR, {"cal_id": cal_id}),
        (C.SCHEDULE_ADD, {"schedule": {"cal_id": cal_id, "start_time": T0, "end_time": T0}}),
    ]:
        assert api.post(path, body)["errcode"] == C.ERR_CALENDAR_DELETED, path
