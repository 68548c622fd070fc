"""Every errcode the emulator promises, each provoked through the HTTP API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulator.helpers import DAY, HOUR, T0, Api, daily, weekly
from wesync.wecom import constants as C


@pytest.fixture
def api(emulator_server: Any) -> Iterator[Api]:
    with httpx.Client(base_url=emulator_server.url, timeout=10) as client:
        yield Api(client)


def sched(cal_id: str, **fields: Any) -> dict[str, Any]:
    return {"schedule": {"cal_id": cal_id, "start_time": T0, "end_time": T0 + HOUR, **fields}}


def errcode(api: Api, path: str, body: Any) -> int:
    code: int = api.post(path, body)["errcode"]
    return code


def test_error_body_looks_like_wecom(api: Api) -> None:
    body = api.post(C.CALENDAR_GET, {"cal_id_list": ["nope"]})
    assert body["errcode"] == C.ERR_BAD_CAL_ID
    assert re.fullmatch(
        r".+, hint: \[\d+_\d+_[0-9a-f]{32}\], from ip: 127\.0\.0\.1, more info at "
        r"https://open\.work\.weixin\.qq\.com/devtool/query\?e=90457", body["errmsg"])


def test_gettoken_errors(api: Api) -> None:
    assert Api(api.client, corpid="wwother").gettoken()["errcode"] == C.ERR_INVALID_CORPID
    assert Api(api.client, corpsecret="wrong").gettoken()["errcode"] == C.ERR_INVALID_SECRET


def test_token_missing_unknown_expired(api: Api, emulator_server: Any) -> None:
    response = api.client.post(C.CALENDAR_GET, json={"cal_id_list": ["x"]})
    assert response.json()["errcode"] == C.ERR_MISSING_TOKEN
    response = api.client.post(C.CALENDAR_GET, params={"access_token": "forged"},
                               json={"cal_id_list": ["x"]})
    assert response.json()["errcode"] == C.ERR_INVALID_TOKEN
    old = api.gettoken()["access_token"]
    emulator_server.admin("POST", "clock", {"advance": 3600})
    newer = api.gettoken()["access_token"]
    assert newer != old
    emulator_server.admin("POST", "clock", {"advance": 3601})
    api.token = old
    assert errcode(api, C.CALENDAR_GET, {"cal_id_list": ["x"]}) == C.ERR_TOKEN_EXPIRED
    api.token = newer  # issued an hour later, still valid
    assert errcode(api, C.CALENDAR_GET, {"cal_id_list": ["x"]}) == C.ERR_BAD_CAL_ID


def test_token_ttl_is_configurable(api: Api, emulator_server: Any) -> None:
    emulator_server.admin("POST", "config", {"token_ttl": 60})
    assert api.gettoken()["expires_in"] == 60
    emulator_server.admin("POST", "clock", {"advance": 61})
    assert errcode(api, C.CALENDAR_GET, {"cal_id_list": ["x"]}) == C.ERR_TOKEN_EXPIRED


def test_rate_limit_per_path(api: Api, emulator_server: Any) -> None:
    emulator_server.admin("POST", "config", {"rate_limit": 3})
    cal_id = api.add_calendar()  # one gettoken and one calendar/add so far
    codes = [errcode(api, C.CALENDAR_GET, {"cal_id_list": [cal_id]}) for _ in range(5)]
    assert codes == [0, 0, 0, C.ERR_RATE_LIMITED, C.ERR_RATE_LIMITED]
    # another path has its own quota
    assert errcode(api, C.SCHEDULE_GET_BY_CALENDAR, {"cal_id": cal_id}) == 0
    emulator_server.admin("POST", "clock", {"advance": 60})
    assert errcode(api, C.CALENDAR_GET, {"cal_id_list": [cal_id]}) == 0


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", "\u00e9".encode("latin-1")])
def test_bad_json_is_40058(api: Api, raw: bytes) -> None:
    api.gettoken()
    response = api.client.post(C.CALENDAR_ADD, params={"access_token": api.token}, content=raw)
    assert response.json()["errcode"] == C.ERR_INVALID_PARAMETER


def test_get_instead_of_post_is_40058(api: Api) -> None:
    api.gettoken()
    response = api.client.get(C.CALENDAR_GET, params={"access_token": api.token})
    assert response.json()["errcode"] == C.ERR_INVALID_PARAMETER


CALENDAR_CASES: list[tuple[dict[str, Any], int]] = [
    ({"color": "#FF0000"}, C.ERR_INVALID_PARAMETER),  # no summary
    ({"summary": "", "color": "#FF0000"}, C.ERR_INVALID_PARAMETER),
    ({"summary": "x"}, C.ERR_INVALID_PARAMETER),  # no color
    ({"summary": "x" * 129, "color": "#FF0000"}, C.ERR_INVALID_PARAMETER),
    ({"summary": 5, "color": "#FF0000"}, C.ERR_INVALID_PARAMETER),
    ({"summary": "x", "color": "#FF0000", "description": "d" * 513}, C.ERR_INVALID_PARAMETER),
    ({"summary": "x", "color": "red"}, C.ERR_BAD_COLOR),
    ({"summary": "x", "color": "#12345"}, C.ERR_BAD_COLOR),
    ({"summary": "x", "color": "#GG0000"}, C.ERR_BAD_COLOR),
    ({"summary": "x", "color": "#FF0000", "admins": ["a", "b", "c", "d"],
      "shares": [{"userid": u} for u in "abcd"]}, C.ERR_INVALID_PARAMETER),
    ({"summary": "x", "color": "#FF0000", "admins": ["a"]}, 90492),
    ({"summary": "x", "color": "#FF0000", "is_public": 1}, C.ERR_PUBLIC_NEEDS_RANGE),
    ({"summary": "x", "color": "#FF0000", "shares": [{"userid": "a", "permission": 2}]},
     C.ERR_INVALID_PARAMETER),
]


@pytest.mark.parametrize(("calendar", "expected"), CALENDAR_CASES)
def test_calendar_add_validation(api: Api, calendar: dict[str, Any], expected: int) -> None:
    assert errcode(api, C.CALENDAR_ADD, {"calendar": calendar}) == expected


def test_calendar_limits_are_inclusive(api: Api) -> None:
    api.add_calendar(summary="x" * 128, description="d" * 512,
                     admins=["a", "b", "c"], shares=[{"userid": u} for u in "abc"])


def test_calendar_ids(api: Api) -> None:
    assert errcode(api, C.CALENDAR_GET, {"cal_id_list": []}) == C.ERR_EMPTY_CAL_ID_LIST
    assert errcode(api, C.CALENDAR_GET, {}) == C.ERR_EMPTY_CAL_ID_LIST
    assert errcode(api, C.CALENDAR_GET, {"cal_id_list": ["x"] * 1001}) == C.ERR_INVALID_PARAMETER
    assert errcode(api, C.CALENDAR_DEL, {}) == C.ERR_INVALID_PARAMETER
    assert errcode(api, C.CALENDAR_DEL, {"cal_id": "wcunknown"}) == C.ERR_BAD_CAL_ID
    assert errcode(api, C.CALENDAR_UPDATE, {"calendar": {
        "cal_id": "wcunknown", "summary": "x", "color": "#000000"}}) == C.ERR_BAD_CAL_ID


SCHEDULE_CASES: list[tuple[dict[str, Any], int]] = [
    ({"start_time": None}, C.ERR_INVALID_PARAMETER),
    ({"end_time": None}, C.ERR_INVALID_PARAMETER),
    ({"start_time": "1893456000"}, C.ERR_INVALID_PARAMETER),
    ({"end_time": T0 - 1}, C.ERR_INVALID_PARAMETER),
    ({"is_whole_day": True}, C.ERR_INVALID_PARAMETER),
    ({"summary": "s" * 129}, C.ERR_INVALID_PARAMETER),
    ({"location": "l" * 129}, C.ERR_INVALID_PARAMETER),
    ({"description": "d" * 1001}, C.ERR_INVALID_PARAMETER),
    ({"attendees": [{"userid": f"u{i}"} for i in range(1001)]}, C.ERR_TOO_MANY_ATTENDEES),
    ({"attendees": [{"userid": "u" * 65}]}, C.ERR_INVALID_PARAMETER),
    ({"attendees": [{"userid": u} for u in "abcd"], "admins": list("abcd")},
     C.ERR_INVALID_PARAMETER),
    ({"attendees": [{"userid": "a"}], "admins": ["b"]}, 90492),
    ({"reminders": {"timezone": 13}}, C.ERR_BAD_TIMEZONE),
    ({"reminders": {"timezone": -13}}, C.ERR_BAD_TIMEZONE),
    ({"reminders": {"is_repeat": 1, "repeat_type": 3}}, C.ERR_BAD_REPEAT_TYPE),
    ({"reminders": weekly([0])}, C.ERR_BAD_WEEKDAY),
    ({"reminders": weekly([8])}, C.ERR_BAD_WEEKDAY),
    ({"reminders": {"is_repeat": 1, "repeat_type": 2, "is_custom_repeat": 1,
                    "repeat_interval": 1, "repeat_day_of_month": [32]}}, C.ERR_BAD_DAY_OF_MONTH),
    ({"reminders": {"is_repeat": 1, "repeat_type": 2, "is_custom_repeat": 1,
                    "repeat_interval": 1, "repeat_day_of_month": [0]}}, C.ERR_BAD_DAY_OF_MONTH),
    ({"reminders": {"is_repeat": 1, "repeat_type": 0, "is_custom_repeat": 1}},
     C.ERR_MISSING_REPEAT_INTERVAL),
    ({"reminders": {"is_repeat": 1, "repeat_type": 1, "is_custom_repeat": 1,
                    "repeat_interval": 0}}, C.ERR_MISSING_REPEAT_INTERVAL),
    ({"reminders": {"is_remind": 1, "remind_time_diffs": [3600]}}, C.ERR_BAD_REMIND_TIME_DIFFS),
    ({"reminders": {"is_remind": 1, "remind_time_diffs": [32400]}}, C.ERR_BAD_REMIND_TIME_DIFFS),
    ({"reminders": {"is_remind": 1, "remind_time_diffs": [-604800]}},
     C.ERR_BAD_REMIND_TIME_DIFFS),
    ({"reminders": {"is_remind": 1, "remind_before_event_secs": 60}}, C.ERR_BAD_REMINDER),
    ({"reminders": "daily"}, C.ERR_INVALID_PARAMETER),
    ({"cal_id": "wcunknown"}, C.ERR_BAD_CAL_ID),
]


@pytest.mark.parametrize(("fields", "expected"), SCHEDULE_CASES)
def test_schedule_add_validation(api: Api, fields: dict[str, Any], expected: int) -> None:
    cal_id = api.add_calendar()
    body = {"schedule": {k: v for k, v in {**sched(cal_id)["schedule"], **fields}.items()
                         if v is not None}}
    assert errcode(api, C.SCHEDULE_ADD, body) == expected


@pytest.mark.parametrize("diffs", [[0, -300, -900, -3600, -86400],
                                   [32400, -172800, -604800]])
def test_whole_day_allows_more_reminders(api: Api, diffs: list[int]) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, is_whole_day=1, end_time=T0 + DAY,
                           reminders={"is_remind": 1, "remind_time_diffs": diffs})
    assert api.get(sid)["reminders"]["remind_time_diffs"] == diffs


def test_schedule_limits_are_inclusive(api: Api) -> None:
    cal_id = api.add_calendar()
    people = [{"userid": f"u{i}"} for i in range(1000)]
    sid = api.add_schedule(cal_id, summary="s" * 128, location="l" * 128,
                           description="d" * 1000, attendees=people,
                           admins=["u0", "u1", "u2"], reminders={"timezone": -12})
    assert len(api.get(sid)["attendees"]) == 1000
    assert errcode(api, C.SCHEDULE_ADD_ATTENDEES,
                   {"schedule_id": sid, "attendees": [{"userid": "extra"}]}) == 90464


def test_schedule_ids(api: Api) -> None:
    assert errcode(api, C.SCHEDULE_GET, {"schedule_id_list": []}) == C.ERR_EMPTY_SCHEDULE_ID_LIST
    assert errcode(api, C.SCHEDULE_GET,
                   {"schedule_id_list": [f"s{i}" for i in range(1001)]}) == C.ERR_INVALID_PARAMETER
    assert errcode(api, C.SCHEDULE_GET, {"schedule_id_list": ["nope"]}) == C.ERR_BAD_SCHEDULE_ID
    assert errcode(api, C.SCHEDULE_DEL, {"schedule_id": "nope"}) == C.ERR_BAD_SCHEDULE_ID
    assert errcode(api, C.SCHEDULE_DEL, {}) == C.ERR_INVALID_PARAMETER
    assert errcode(api, C.SCHEDULE_UPDATE, {"schedule": {"start_time": T0, "end_time": T0}}) \
        == C.ERR_INVALID_PARAMETER
    assert errcode(api, C.SCHEDULE_ADD_ATTENDEES,
                   {"schedule_id": "nope", "attendees": [{"userid": "a"}]}) == 90461


def test_paging_limits(api: Api) -> None:
    cal_id = api.add_calendar()
    listing = C.SCHEDULE_GET_BY_CALENDAR
    assert errcode(api, listing, {"cal_id": cal_id, "limit": 1001}) == C.ERR_PAGE_SIZE
    assert errcode(api, listing, {"cal_id": cal_id, "limit": 0}) == C.ERR_BAD_PAGE
    assert errcode(api, listing, {"cal_id": cal_id, "offset": -1}) == C.ERR_BAD_PAGE
    assert errcode(api, listing, {"cal_id": cal_id, "limit": 1000}) == 0
    assert errcode(api, listing, {"cal_id": "wcunknown"}) == C.ERR_BAD_CAL_ID
    assert errcode(api, listing, {}) == C.ERR_INVALID_PARAMETER


def test_cancelled_schedule_refuses_changes(api: Api) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, attendees=[{"userid": "a"}])
    api.ok(C.SCHEDULE_DEL, {"schedule_id": sid})
    who = {"schedule_id": sid, "attendees": [{"userid": "b"}]}
    assert errcode(api, C.SCHEDULE_ADD_ATTENDEES, who) == C.ERR_SCHEDULE_DELETED
    assert errcode(api, C.SCHEDULE_DEL_ATTENDEES, who) == C.ERR_SCHEDULE_DELETED
    assert errcode(api, C.SCHEDULE_DEL, {"schedule_id": sid}) == C.ERR_SCHEDULE_DELETED
    assert api.get(sid)["status"] == 1


def test_other_apps_calendars_and_schedules(api: Api, emulator_server: Any) -> None:
    emulator_server.admin("POST", "apps", {"corpsecret": "second-secret", "agentid": 1000003})
    other = Api(api.client, corpsecret="second-secret")
    their_cal = other.add_calendar()
    their_sid = other.add_schedule(their_cal)
    mine = api.add_calendar()
    for path, body in [
        (C.CALENDAR_GET, {"cal_id_list": [mine, their_cal]}),
        (C.CALENDAR_UPDATE, {"calendar": {"cal_id": their_cal, "summary": "x",
                                          "color": "#000000"}}),
        (C.CALENDAR_DEL, {"cal_id": their_cal}),
        (C.SCHEDULE_ADD, sched(their_cal)),
        (C.SCHEDULE_GET_BY_CALENDAR, {"cal_id": their_cal}),
        (C.SCHEDULE_GET, {"schedule_id_list": [their_sid]}),
        (C.SCHEDULE_UPDATE, {"schedule": {"schedule_id": their_sid, "start_time": T0,
                                          "end_time": T0}}),
        (C.SCHEDULE_DEL, {"schedule_id": their_sid}),
        (C.SCHEDULE_ADD_ATTENDEES, {"schedule_id": their_sid, "attendees": [{"userid": "a"}]}),
    ]:
        assert errcode(api, path, body) == C.ERR_OTHER_APP, path
    assert other.get(their_sid)["status"] == 0


def test_op_mode_errors(api: Api) -> None:
    cal_id = api.add_calendar()
    single = api.add_schedule(cal_id)
    series = api.add_schedule(cal_id, reminders=daily())

    def update(sid: str, start: int = T0 + 2 * DAY, **top: Any) -> int:
        return errcode(api, C.SCHEDULE_UPDATE, {**top, "schedule": {
            "schedule_id": sid, "start_time": start, "end_time": start + HOUR,
            **top.pop("fields", {})}})

    assert update(single, op_mode=1, op_start_time=T0) == C.ERR_BAD_OP_MODE
    assert update(series, op_mode=3, op_start_time=T0) == C.ERR_BAD_OP_MODE
    assert update(series, op_mode=1, op_start_time=T0 + HOUR) == C.ERR_BAD_OP_START_TIME
    assert update(series, op_mode=1) == C.ERR_BAD_OP_START_TIME
    assert update(series, op_mode=1, op_start_time=T0 + 2 * DAY,
                  fields={"reminders": daily()}) == C.ERR_OP_THIS_NOT_REPEAT
    assert update(series, start=T0 + DAY, op_mode=1,
                  op_start_time=T0 + 2 * DAY) == C.ERR_START_BEFORE_OP_START
    assert update(series, start=T0 + DAY, op_mode=2,
                  op_start_time=T0 + 2 * DAY) == C.ERR_START_BEFORE_OP_START
    # earlier on the same local day (UTC+8) is still allowed
    assert update(series, start=T0 + 2 * DAY - 7 * HOUR, op_mode=1,
                  op_start_time=T0 + 2 * DAY) == 0
    assert errcode(api, C.SCHEDULE_DEL, {"schedule_id": single, "op_mode": 1,
                                         "op_start_time": T0}) == C.ERR_BAD_OP_MODE
    assert errcode(api, C.SCHEDULE_DEL, {"schedule_id": series, "op_mode": 2,
                                         "op_start_time": T0 + 1}) == C.ERR_BAD_OP_START_TIME
    # an excluded occurrence is no longer an occurrence
    assert errcode(api, C.SCHEDULE_DEL, {"schedule_id": series, "op_mode": 1,
                                         "op_start_time": T0 + 2 * DAY}) == C.ERR_BAD_OP_START_TIME


def test_one_off_start_cannot_move_into_the_past(api: Api, emulator_server: Any) -> None:
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id)
    series = api.add_schedule(cal_id, reminders=daily())
    emulator_server.admin("POST", "clock", {"now": T0 + 10 * DAY})
    api.gettoken()  # the old token expired when the clock jumped

    def move(schedule_id: str, start: int, **rem: Any) -> int:
        return errcode(api, C.SCHEDULE_UPDATE, {"schedule": {
            "schedule_id": schedule_id, "start_time": start, "end_time": start + HOUR, **rem}})

    assert move(sid, T0 + DAY) == C.ERR_START_IN_PAST
    assert move(sid, T0) == 0  # unchanged start in the past is fine
    assert move(sid, T0 + 11 * DAY) == 0  # into the future is fine
    assert move(series, T0 - DAY, reminders=daily()) == 0  # recurring may move


UINT32_MAX = 2**32 - 1  # 2106-02-07T06:28:15Z


def test_times_are_uint32(api: Api) -> None:
    """WeCom's times are uint32 Unix seconds: nothing before 1970 or after
    2106-02-07T06:28:15Z gets in, on add, update or del."""
    cal_id = api.add_calendar()

    def add(**fields: Any) -> int:
        return errcode(api, C.SCHEDULE_ADD, sched(cal_id, **fields))

    assert add(start_time=-1) == C.ERR_INVALID_PARAMETER
    assert add(start_time=-86400, end_time=0) == C.ERR_INVALID_PARAMETER
    assert add(start_time=UINT32_MAX, end_time=UINT32_MAX + 1) == C.ERR_INVALID_PARAMETER
    assert add(reminders=daily(repeat_until=UINT32_MAX + 1)) == C.ERR_INVALID_PARAMETER
    assert add(reminders=daily(repeat_until=-1)) == C.ERR_INVALID_PARAMETER
    # the ends of the range themselves are fine
    assert add(start_time=0, end_time=UINT32_MAX) == 0
    assert add(reminders=daily(repeat_until=UINT32_MAX)) == 0
    series = api.add_schedule(cal_id, reminders=daily())
    body = {"schedule": {"schedule_id": series, "start_time": T0, "end_time": T0 + HOUR,
                         "reminders": daily()}}
    for start in (-DAY, UINT32_MAX + 1):
        assert errcode(api, C.SCHEDULE_UPDATE, {**body, "schedule": {
            **body["schedule"], "start_time": start}}) == C.ERR_INVALID_PARAMETER
        for mode in (0, 1, 2):
            assert errcode(api, C.SCHEDULE_UPDATE, {
                **body, "op_mode": mode, "op_start_time": start}) == C.ERR_INVALID_PARAMETER
            assert errcode(api, C.SCHEDULE_DEL, {
                "schedule_id": series, "op_mode": mode, "op_start_time": start,
            }) == C.ERR_INVALID_PARAMETER
    assert api.get(series)["status"] == 0 and not api.get(series)["reminders"].get(
        "exclude_time_list")
