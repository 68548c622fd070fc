"""oa/calendar/{add,update,get,del} on the emulator's state."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from wesync.emulator import validate as v
from wesync.emulator.errors import ApiError
from wesync.emulator.state import Json, State, new_cal_id
from wesync.wecom import constants as C


@dataclass(frozen=True)
class Call:
    """One authenticated API call: whose token, at what emulator time."""

    state: State
    app: str
    now: int


def own_calendar(state: State, app: str, cal_id: Any) -> Json:
    """The calendar record the calling app may use, or the errcode WeCom gives."""
    rec = state.calendars.get(cal_id) if isinstance(cal_id, str) else None
    if rec is None:
        raise ApiError(C.ERR_BAD_CAL_ID, "unknown cal_id")
    if rec["app"] != app:
        raise ApiError(C.ERR_OTHER_APP, "calendar belongs to another app")
    if rec["deleted"]:
        raise ApiError(C.ERR_CALENDAR_DELETED, "calendar was deleted")
    return rec


def render(rec: Json) -> Json:
    fields = rec["fields"]
    out: Json = {"cal_id": rec["cal_id"]}
    for key in ("admins", "summary", "color", "description", "shares", "is_public",
                "public_range", "is_corp_calendar"):
        out[key] = copy.deepcopy(fields[key])
    return out


def default_calendar(state: State, app: str) -> str | None:
    for cal_id, rec in state.calendars.items():
        if rec["app"] == app and not rec["deleted"] and rec["fields"].get("set_as_default"):
            return cal_id
    return None


def add(call: Call, body: Json) -> Json:
    fields = v.calendar_fields(v.obj(body, "calendar"), creating=True)
    if fields["set_as_default"]:
        for rec in call.state.calendars.values():
            if rec["app"] == call.app:
                rec["fields"]["set_as_default"] = 0
    cal_id = new_cal_id()
    call.state.calendars[cal_id] = {
        "cal_id": cal_id,
        "app": call.app,
        "deleted": False,
        "last_sequence": 0,
        "fields": fields,
    }
    return {"cal_id": cal_id}


def update(call: Call, body: Json) -> Json:
    cal = v.obj(body, "calendar")
    cal_id = v.identifier(cal, "cal_id", max_bytes=C.CAL_ID_MAX_BYTES)
    rec = own_calendar(call.state, call.app, cal_id)
    skip_range = v.flag(body, "skip_public_range")
    fields = v.calendar_fields(cal, creating=False)
    old = rec["fields"]
    # is_public and is_corp_calendar cannot change after creation; the rest is overwritten
    for key in ("is_public", "is_corp_calendar", "set_as_default"):
        fields[key] = old[key]
    if skip_range:
        fields["public_range"] = old["public_range"]
    if old["is_corp_calendar"] and not fields["color"]:
        fields["color"] = old["color"]
    rec["fields"] = fields
    return {}


def get(call: Call, body: Json) -> Json:
    ids = v.id_list(body, "cal_id_list", empty_code=C.ERR_EMPTY_CAL_ID_LIST)
    recs = [own_calendar(call.state, call.app, cal_id) for cal_id in ids]
    return {"calendar_list": [render(rec) for rec in recs]}


def delete(call: Call, body: Json) -> Json:
    rec = own_calendar(call.state, call.app,
                       v.identifier(body, "cal_id", max_bytes=C.CAL_ID_MAX_BYTES))
    rec["deleted"] = True
    return {}
