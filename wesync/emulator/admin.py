"""What people do in the WeCom app, as the emulator's administration endpoints act it out.

Each function changes the state and returns the callback events WeCom would
push, in order; bad requests raise AdminRequestError (HTTP 400), never an errcode.
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
from wesync.wecom import constants as C

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


def respond(state: State, body: Mapping[str, Any], now: int) -> list[Event]:
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
    return [_event(state, rec, "respond_schedule", userid, now, schedule_id=schedule_id)]


def _changes(body: Mapping[str, Any]) -> Json:
    changes = body.get("changes")
    if not isinstance(changes, dict):
        raise AdminRequestError("'changes' must be an object")
    return changes


#: what stays on the new single schedule of an "only this occurrence" edit
_SINGLE_REMINDERS = ("is_remind", "remind_before_event_secs", "remind_time_diffs", "timezone")


def _merged_fields(data: Json, changes: Json, *, start: int | None = None,
                   single: bool = False) -> Json:
    """The validated fields of `data` with `changes` merged in (`reminders` key by key).

    A person edits in the WeCom app: what they do not touch stays, unlike
    schedule/update. `start` moves the copy to one occurrence (keeping its
    length) before the changes apply; `single` drops the repeat.
    """
    merged: Json = {k: val for k, val in data.items() if k not in ("attendees", "reminders")}
    merged["attendees"] = [{"userid": a["userid"]} for a in data["attendees"]]
    merged["reminders"] = {k: val for k, val in data["reminders"].items()
                           if k != "exclude_time_list" and (not single or k in _SINGLE_REMINDERS)}
    if start is not None:
        merged["end_time"] = start + data["end_time"] - data["start_time"]
        merged["start_time"] = start
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
    if single and fields["reminders"]["is_repeat"]:
        raise AdminRequestError("an edit of only this occurrence cannot repeat")
    return fields


def _op_mode(body: Mapping[str, Any], data: Json) -> tuple[int, int]:
    """(op_mode, op_start_time) of a member's edit; op_start_time 0 for the whole series."""
    mode = body.get("op_mode", C.OP_ALL)
    if isinstance(mode, bool) or mode not in (C.OP_ALL, C.OP_THIS, C.OP_THIS_AND_FOLLOWING):
        raise AdminRequestError("'op_mode' must be 0 (all), 1 (only this) or 2 (this and future)")
    if mode == C.OP_ALL:
        return mode, 0
    rule = rule_of(data)
    op_start = body.get("op_start_time")
    if rule is None or isinstance(op_start, bool) or not isinstance(op_start, int) or \
            not is_occurrence(rule, op_start):
        raise AdminRequestError("'op_start_time' is not an occurrence of a recurring schedule")
    # "this and all future" from the first occurrence is an edit of the whole series
    # (as documented for schedule/update)
    return (C.OP_ALL, 0) if mode == C.OP_THIS_AND_FOLLOWING and op_start == data["start_time"] \
        else (mode, op_start)


def edit_schedule(state: State, body: Mapping[str, Any], now: int) -> list[Event]:
    """A member edits a schedule in the WeCom app: `changes` (API field names) merged in.

    `op_mode` 1 with `op_start_time` ("only this occurrence") excludes that
    occurrence from the series and makes a new single schedule of it; 2 ("this
    and all future") ends the series before it and makes a new series from it,
    taking along the exclusions still on it. Either way the same split that
    schedule/update makes, and the callbacks the emulator sends for it:
    modify_schedule for the series, then add_schedule for the new schedule
    (which events WeCom sends for a member's split is undocumented).
    """
    rec = _schedule(state, body)
    data = rec["data"]
    changes = _changes(body)
    user = _text(body, "userid", ADMIN_USER)
    mode, op_start = _op_mode(body, data)
    statuses = {a["userid"]: a["response_status"] for a in data["attendees"]}
    modified = _event(state, rec, "modify_schedule", user, now, schedule_id=data["schedule_id"])
    if mode == C.OP_ALL:
        fields = _merged_fields(data, changes)
        excluded = data["reminders"]["exclude_time_list"] if fields["reminders"]["is_repeat"] \
            else []
        s.write(rec, fields, statuses, cal_id=data["cal_id"], excluded=excluded)
        s.touch(state, rec)
        return [modified]
    fields = _merged_fields(data, changes, start=op_start, single=mode == C.OP_THIS)
    carried: list[Json] = []
    if mode == C.OP_THIS:
        s.exclude(data, op_start)
    else:
        rule = rule_of(data)
        assert rule is not None  # _op_mode checked it
        carried = [x for x in data["reminders"]["exclude_time_list"] if x["start_time"] > op_start]
        s.trim(data, rule, op_start)
    s.touch(state, rec)
    new_id = s.create(state, rec["app"], data["cal_id"], fields, statuses)
    new = state.schedules[new_id]
    new_rule = rule_of(new["data"])
    if new_rule is not None:
        # occurrences deleted before the split stay deleted, where the new series has them
        new["data"]["reminders"]["exclude_time_list"] = [
            x for x in carried if is_occurrence(new_rule, x["start_time"])]
    added = _event(state, new, "add_schedule", user, now, schedule_id=new_id)
    return [modified, added]


def cancel_schedule(state: State, body: Mapping[str, Any], now: int) -> list[Event]:
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
    return [_event(state, rec, name, user, now, schedule_id=data["schedule_id"])]


def edit_calendar(state: State, body: Mapping[str, Any], now: int) -> list[Event]:
    rec = _calendar(state, body)
    merged = {**rec["fields"], **_changes(body)}
    try:
        fields = v.calendar_fields(merged, creating=False)
    except ApiError as exc:
        raise AdminRequestError(f"invalid change: {exc.detail or exc.errcode}") from None
    for key in ("is_public", "is_corp_calendar", "set_as_default"):
        fields[key] = rec["fields"][key]
    rec["fields"] = fields
    return [_event(state, rec, "modify_calendar", _text(body, "userid", ADMIN_USER), now,
                   schedule_id=None)]


def delete_calendar(state: State, body: Mapping[str, Any], now: int) -> list[Event]:
    rec = _calendar(state, body)
    rec["deleted"] = True
    return [_event(state, rec, "delete_calendar", _text(body, "userid", ADMIN_USER), now,
                   schedule_id=None)]
