"""What people do in the WeCom app, as the emulator's administration endpoints act it out.

Each function changes the state and returns the callback event WeCom would
push; bad requests raise AdminRequestError (HTTP 400), never an errcode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wesync.emulator import schedules as s
from wesync.emulator import validate as v
from wesync.emulator.callbacks import Event
from wesync.emulator.errors import AdminRequestError, ApiError
from wesync.emulator.recurrence import is_occurrence, rule_of
from wesync.emulator.state import Json, State

ADMIN_USER = "emulator-admin"
RESPONSE_STATUSES = frozenset({0, 1, 2, 3, 4})


def _text(body: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or not value:
        raise AdminRequestError(f"'{key}' must be a non-empty string")
    return value


def _schedule(state: State, body: Mapping[str, Any]) -> Json:
    schedule_id = _text(body, "schedule_id")
    rec = state.schedules.get(schedule_id)
    if rec is None:
        raise AdminRequestError(f"unknown schedule_id {schedule_id!r}")
    if rec["data"]["status"] == 1:
        raise AdminRequestError("the schedule is cancelled")
    return rec


def _calendar(state: State, body: Mapping[str, Any]) -> Json:
    cal_id = _text(body, "cal_id")
    rec = state.calendars.get(cal_id)
    if rec is None or rec["deleted"]:
        raise AdminRequestError(f"unknown or deleted cal_id {cal_id!r}")
    return rec


def _event(state: State, rec: Json, name: str, user: str, now: int, *,
           schedule_id: str | None) -> Event:
    cal_id = rec["data"]["cal_id"] if schedule_id else rec["cal_id"]
    return Event(event=name, from_user=user, create_time=now, agentid=state.apps[rec["app"]],
                 cal_id=cal_id, schedule_id=schedule_id)


def respond(state: State, body: Mapping[str, Any], now: int) -> Event:
    rec = _schedule(state, body)
    userid = _text(body, "userid")
    status = body.get("response_status")
    if isinstance(status, bool) or status not in RESPONSE_STATUSES:
        raise AdminRequestError("'response_status' must be 0..4")
    for attendee in rec["data"]["attendees"]:
        if attendee["userid"] == userid:
            attendee["response_status"] = status
            break
    else:
        raise AdminRequestError(f"{userid!r} is not an attendee")
    s.touch(state, rec)
    schedule_id = rec["data"]["schedule_id"]
    return _event(state, rec, "respond_schedule", userid, now, schedule_id=schedule_id)


def _changes(body: Mapping[str, Any]) -> Json:
    changes = body.get("changes")
    if not isinstance(changes, dict):
        raise AdminRequestError("'changes' must be an object")
    return changes


def edit_schedule(state: State, body: Mapping[str, Any], now: int) -> Event:
    """Merge `changes` (API field names; `reminders` merged key by key) into a schedule."""
    rec = _schedule(state, body)
    data = rec["data"]
    changes = _changes(body)
    merged: Json = {k: val for k, val in data.items() if k not in ("attendees", "reminders")}
    merged["attendees"] = [{"userid": a["userid"]} for a in data["attendees"]]
    merged["reminders"] = {k: val for k, val in data["reminders"].items()
                           if k != "exclude_time_list"}
    for key, value in changes.items():
        if key == "reminders" and isinstance(value, dict):
            merged["reminders"].update(value)
        elif key in ("schedule_id", "cal_id", "status"):
            raise AdminRequestError(f"'{key}' cannot be edited")
        else:
            merged[key] = value
    try:
        fields = v.schedule_fields(merged)
    except ApiError as exc:
        raise AdminRequestError(f"invalid change: {exc.detail or exc.errcode}") from None
    excluded = data["reminders"]["exclude_time_list"] if fields["reminders"]["is_repeat"] else []
    statuses = {a["userid"]: a["response_status"] for a in data["attendees"]}
    s.write(rec, fields, statuses, cal_id=data["cal_id"], excluded=excluded)
    s.touch(state, rec)
    user = _text(body, "userid", ADMIN_USER)
    return _event(state, rec, "modify_schedule", user, now, schedule_id=data["schedule_id"])


def cancel_schedule(state: State, body: Mapping[str, Any], now: int) -> Event:
    """Cancel a schedule, or with `op_start_time` only that occurrence."""
    rec = _schedule(state, body)
    data = rec["data"]
    user = _text(body, "userid", ADMIN_USER)
    op_start = body.get("op_start_time")
    if op_start is None:
        data["status"] = 1
        name = "delete_schedule"
    else:
        rule = rule_of(data)
        if rule is None or isinstance(op_start, bool) or not isinstance(op_start, int) or \
                not is_occurrence(rule, op_start):
            raise AdminRequestError("'op_start_time' is not an occurrence of a recurring schedule")
        s.exclude(data, op_start)
        name = "modify_schedule"
    s.touch(state, rec)
    return _event(state, rec, name, user, now, schedule_id=data["schedule_id"])


def edit_calendar(state: State, body: Mapping[str, Any], now: int) -> Event:
    rec = _calendar(state, body)
    merged = {**rec["fields"], **_changes(body)}
    try:
        fields = v.calendar_fields(merged, creating=False)
    except ApiError as exc:
        raise AdminRequestError(f"invalid change: {exc.detail or exc.errcode}") from None
    for key in ("is_public", "is_corp_calendar", "set_as_default"):
        fields[key] = rec["fields"][key]
    rec["fields"] = fields
    return _event(state, rec, "modify_calendar", _text(body, "userid", ADMIN_USER), now,
                  schedule_id=None)


def delete_calendar(state: State, body: Mapping[str, Any], now: int) -> Event:
    rec = _calendar(state, body)
    rec["deleted"] = True
    return _event(state, rec, "delete_calendar", _text(body, "userid", ADMIN_USER), now,
                  schedule_id=None)
