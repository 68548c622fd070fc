"""Emulator variants over real loopback HTTP: each value, and exactly what it changes."""

from __future__ import annotations

import re
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


def variants(emulator_server: Any, **chosen: Any) -> dict[str, Any]:
    body = {key.replace("_", "-"): value for key, value in chosen.items()}
    answer: dict[str, Any] = emulator_server.admin("POST", "config", {"variants": body})
    return answer


def update(api: Api, sid: str, **fields: Any) -> dict[str, Any]:
    sched = {"schedule_id": sid, "start_time": T0, "end_time": T0 + HOUR, **fields}
    return api.ok(C.SCHEDULE_UPDATE, {"schedule": sched})


# --- sequence --------------------------------------------------------------------------


def test_sequence_per_change_rises_on_every_change(api: Api) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id)
    first = api.listing(cal_id)[0]["sequence"]
    update(api, sid, summary="changed")
    second = api.listing(cal_id)[0]["sequence"]
    api.ok(C.SCHEDULE_ADD_ATTENDEES, {"schedule_id": sid, "attendees": [{"userid": "a"}]})
    assert first < second < api.listing(cal_id)[0]["sequence"]


def test_sequence_frozen_is_set_at_creation_and_never_changes(api: Api, emulator_server: Any
                                                              ) -> None:
    variants(emulator_server, sequence="frozen")
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, attendees=[{"userid": "a"}])
    other = api.add_schedule(cal_id)
    first, second = (item["sequence"] for item in api.listing(cal_id))
    assert first < second  # still a rising number, given out at creation
    update(api, sid, summary="changed", attendees=[{"userid": "a"}])
    emulator_server.admin("POST", "respond", {"schedule_id": sid, "userid": "a",
                                               "response_status": 2})
    api.ok(C.SCHEDULE_DEL, {"schedule_id": other})
    listed = api.listing(cal_id)
    assert [item["sequence"] for item in listed] == [first, second]
    assert listed[0]["summary"] == "changed" and listed[1]["status"] == 1


def test_sequence_absent_is_not_in_the_listing(api: Api, emulator_server: Any) -> None:
    variants(emulator_server, sequence="absent")
    cal_id = api.add_calendar()
    api.add_schedule(cal_id)
    item = api.listing(cal_id)[0]
    assert "sequence" not in item and item["summary"] == "Meeting"


# --- listing ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sample", "full"])
def test_listing_variant(api: Api, emulator_server: Any, mode: str) -> None:
    variants(emulator_server, listing=mode)
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, is_whole_day=1, start_time=T0, end_time=T0 + DAY,
                           reminders=daily(remind_time_diffs=[32400]))
    item = api.listing(cal_id)[0]
    present = ["is_whole_day" in item, "remind_time_diffs" in item["reminders"],
               "exclude_time_list" in item["reminders"]]
    assert present == [mode == "full"] * 3
    if mode == "full":
        assert {k: v for k, v in item.items() if k != "sequence"} == api.get(sid)
    assert emulator_server.admin("GET", "config")["listing"] == mode


# --- update-exclusions -----------------------------------------------------------------


@pytest.mark.parametrize(("mode", "kept"), [("keep", True), ("clear", False)])
def test_update_exclusions(api: Api, emulator_server: Any, mode: str, kept: bool) -> None:
    variants(emulator_server, update_exclusions=mode)
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, reminders=daily())
    api.ok(C.SCHEDULE_DEL, {"schedule_id": sid, "op_mode": 1, "op_start_time": T0 + DAY})
    assert api.get(sid)["reminders"]["exclude_time_list"] == [{"start_time": T0 + DAY}]
    update(api, sid, summary="whole series", reminders=daily())
    got = api.get(sid)
    assert got["summary"] == "whole series"
    assert got["reminders"]["exclude_time_list"] == ([{"start_time": T0 + DAY}] if kept else [])


# --- get -------------------------------------------------------------------------------


def test_get_all_or_nothing_fails_on_one_unknown_id(api: Api) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id)
    body = api.post(C.SCHEDULE_GET, {"schedule_id_list": [sid, "0" * 32]})
    assert body["errcode"] == C.ERR_BAD_SCHEDULE_ID and "schedule_list" not in body


def test_get_partial_leaves_unknown_ids_out(api: Api, emulator_server: Any) -> None:
    variants(emulator_server, get="partial")
    cal_id = api.add_calendar()
    gone_cal = api.add_calendar(summary="Gone")
    sid = api.add_schedule(cal_id)
    on_gone = api.add_schedule(gone_cal)
    cancelled = api.add_schedule(cal_id)
    api.ok(C.SCHEDULE_DEL, {"schedule_id": cancelled})
    api.ok(C.CALENDAR_DEL, {"cal_id": gone_cal})
    got = api.ok(C.SCHEDULE_GET, {"schedule_id_list": ["0" * 32, sid, on_gone, cancelled]})
    # a cancelled schedule stays readable (documented); unknown and deleted-calendar ids go
    assert [(s["schedule_id"], s["status"]) for s in got["schedule_list"]] == [
        (sid, 0), (cancelled, 1)]
    assert api.ok(C.SCHEDULE_GET, {"schedule_id_list": ["0" * 32]})["schedule_list"] == []


# --- order -----------------------------------------------------------------------------


def _page_while_adding(api: Api) -> tuple[list[str], list[str], str]:
    """Page 1 (2 items), then an early schedule is added, then page 2 (offset 2)."""
    cal_id = api.add_calendar()
    for i, start in enumerate((T0 + 3 * HOUR, T0 + 2 * HOUR, T0 + 4 * HOUR)):
        api.add_schedule(cal_id, start_time=start, end_time=start + HOUR, summary=f"s{i}")
    first = [s["summary"] for s in api.listing(cal_id, offset=0, limit=2)]
    api.add_schedule(cal_id, start_time=T0, end_time=T0 + HOUR, summary="early")
    second = [s["summary"] for s in api.listing(cal_id, offset=2, limit=2)]
    return first, second, cal_id


def test_order_creation_appends_so_offsets_are_a_cursor(api: Api) -> None:
    first, second, _ = _page_while_adding(api)
    assert first == ["s0", "s1"] and second == ["s2", "early"]


def test_order_start_time_shifts_offsets_while_paging(api: Api, emulator_server: Any) -> None:
    variants(emulator_server, order="start-time")
    first, second, cal_id = _page_while_adding(api)
    assert first == ["s1", "s0"]
    # the early add pushed s0 back to offset 2: seen twice, and s2 not yet
    assert second == ["s0", "s2"]
    assert [s["summary"] for s in api.listing(cal_id)] == ["early", "s1", "s0", "s2"]


# --- daily-add-quota and quota-errcode ------------------------------------------------


#: 23:59 in UTC+8 (15:59 UTC): two minutes later is the next WeCom day, the same UTC day
BEFORE_MIDNIGHT_UTC8 = T0 + 15 * HOUR + 59 * 60


def _adds(api: Api, cal_id: str, n: int) -> list[dict[str, Any]]:
    sched = {"cal_id": cal_id, "start_time": T0 + 10 * DAY, "end_time": T0 + 10 * DAY + HOUR}
    return [api.post(C.SCHEDULE_ADD, {"schedule": sched}) for _ in range(n)]


def test_daily_add_quota_until_the_next_utc8_day(api: Api, emulator_server: Any) -> None:
    variants(emulator_server, daily_add_quota=2)
    emulator_server.admin("POST", "clock", {"now": BEFORE_MIDNIGHT_UTC8})
    cal_id = api.add_calendar()
    answers = _adds(api, cal_id, 4)
    assert [a["errcode"] for a in answers] == [0, 0, 45009, 45009]
    assert re.fullmatch(
        r"api freq out of limit, hint: \[\d+_\d+_[0-9a-f]{32}\], from ip: 127\.0\.0\.1, "
        r"more info at https://open\.work\.weixin\.qq\.com/devtool/query\?e=45009",
        answers[2]["errmsg"])
    assert len(api.listing(cal_id)) == 2  # a refused add creates nothing
    # other calls are not counted or refused
    api.ok(C.SCHEDULE_GET_BY_CALENDAR, {"cal_id": cal_id})
    emulator_server.admin("POST", "clock", {"advance": 120})
    assert [a["errcode"] for a in _adds(api, cal_id, 3)] == [0, 0, 45009]


def test_quota_errcode_is_the_failures_errcode(api: Api, emulator_server: Any) -> None:
    variants(emulator_server, daily_add_quota="1", quota_errcode=45033)
    cal_id = api.add_calendar()
    assert [a["errcode"] for a in _adds(api, cal_id, 2)] == [0, 45033]


def test_daily_add_quota_zero_is_no_limit_and_the_default_is_20000(
        api: Api, emulator_server: Any) -> None:
    shown = emulator_server.admin("GET", "config")["variants"]
    assert (shown["daily-add-quota"], shown["quota-errcode"]) == (20000, 45009)
    variants(emulator_server, daily_add_quota=0)
    cal_id = api.add_calendar()
    assert all(a["errcode"] == 0 for a in _adds(api, cal_id, 5))


# --- configuration: defaults, refusals, reset ---------------------------------------


def test_defaults_are_todays_behaviour(emulator_server: Any) -> None:
    assert emulator_server.admin("GET", "config")["variants"] == {
        "sequence": "per-change", "listing": "sample", "update-exclusions": "keep",
        "get": "all-or-nothing", "order": "creation", "callbacks": "user-only",
        "daily-add-quota": 20000, "quota-errcode": 45009}


@pytest.mark.parametrize(("body", "named"), [
    ({"variants": {"colour": "red"}}, "'colour'"),
    ({"variants": {"sequence": "sometimes"}}, "'sequence'"),
    ({"variants": {"order": "start-time", "get": "some"}}, "'get'"),
    ({"variants": {"daily-add-quota": -1}}, "'daily-add-quota'"),
    ({"variants": {"quota-errcode": "x"}}, "'quota-errcode'"),
    ({"variants": "sequence=frozen"}, "'variants'"),
    ({"variant": {}}, "'variant'"),
])
def test_bad_variants_are_400_naming_the_key_and_change_nothing(
        emulator_server: Any, body: dict[str, Any], named: str) -> None:
    with httpx.Client(base_url=emulator_server.url) as client:
        response = client.post("/_emulator/config", json=body)
    assert response.status_code == 400
    assert named in response.json()["error"]
    assert emulator_server.admin("GET", "config")["variants"]["order"] == "creation"


def test_config_changes_only_the_keys_named(emulator_server: Any) -> None:
    variants(emulator_server, sequence="frozen")
    answer = variants(emulator_server, get="partial")
    assert (answer["variants"]["sequence"], answer["variants"]["get"]) == ("frozen", "partial")


def test_reset_keeps_variants(api: Api, emulator_server: Any) -> None:
    variants(emulator_server, sequence="absent", order="start-time", daily_add_quota=1)
    cal_id = api.add_calendar()
    _adds(api, cal_id, 1)
    emulator_server.admin("POST", "reset")
    after = emulator_server.admin("GET", "config")["variants"]
    assert (after["sequence"], after["order"], after["daily-add-quota"]) == (
        "absent", "start-time", 1)
    api.token = ""  # reset forgot the token
    cal_id = api.add_calendar()
    # the reset forgot the day's count, not the quota
    assert [a["errcode"] for a in _adds(api, cal_id, 2)] == [0, 45009]
    assert "sequence" not in api.listing(cal_id)[0]
