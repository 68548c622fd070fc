"""oa/schedule/* on the emulator's state.

`sequence` is the emulator's choice (its real meaning is unconfirmed): each
calendar keeps a counter, and a schedule takes the next value whenever it is
created or changed in any way (update, cancellation, exclusion, trimming,
attendees added or removed, an attendee's answer, an admin's edit). The
variants (variants.py) select the other plausible answers: `frozen` keeps the
value given at creation, `absent` leaves it out of the listing.

schedule/update is a full replace, as documented ("覆盖式，而不是增量式"):
the stored schedule is rebuilt from the body alone, so a field left out is
reset to its default; only skip_attendees=1 keeps the attendees, and
exclude_time_list (read-only) is kept or cleared by the `update-exclusions`
variant.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from wesync.emulator import validate as v
from wesync.emulator.calendars import Call, default_calendar, own_calendar
from wesync.emulator.errors import ERR_NO_DEFAULT_CALENDAR, ApiError
from wesync.emulator.recurrence import Rule, is_occurrence, last_before, local_day_start, rule_of
from wesync.emulator.state import Json, State, new_schedule_id
from wesync.wecom import constants as C

#: the fields the documented get_by_calendar sample leaves out
SAMPLE_OMITS = ("is_whole_day",)
SAMPLE_OMITS_REMINDERS = ("remind_time_diffs", "exclude_time_list")


def copy_json(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, scalars): what copy.deepcopy gives,
    three times as fast (listing pages copy a thousand schedules each)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def touch(state: State, rec: Json) -> None:
    if state.variants.sequence == "frozen" and rec["sequence"]:
        return  # set once, at creation (a creation counter rather than a revision)
    cal = state.calendars[rec["data"]["cal_id"]]
    cal["last_sequence"] += 1
    rec["sequence"] = cal["last_sequence"]


def lookup(state: State, app: str, schedule_id: Any, *, writable: bool) -> Json:
    rec = state.schedules.get(schedule_id) if isinstance(schedule_id, str) else None
    if rec is None:
        raise ApiError(C.ERR_BAD_SCHEDULE_ID, "unknown schedule_id")
    if rec["app"] != app:
        raise ApiError(C.ERR_OTHER_APP, "schedule belongs to another app")
    if state.calendars[rec["data"]["cal_id"]]["deleted"]:
        raise ApiError(C.ERR_CALENDAR_DELETED, "the schedule's calendar was deleted")
    if writable and rec["data"]["status"] == 1:
        raise ApiError(C.ERR_SCHEDULE_DELETED, "schedule was cancelled")
    return rec


def create(state: State, app: str, cal_id: str, fields: Json,
           statuses: dict[str, int] | None = None) -> str:
    schedule_id = new_schedule_id()
    rec = {"app": app, "sequence": 0, "data": {"schedule_id": schedule_id, "status": 0}}
    write(rec, fields, statuses or {}, cal_id=cal_id)
    state.schedules[schedule_id] = rec
    touch(state, rec)
    return schedule_id


def write(rec: Json, fields: Json, statuses: dict[str, int], *, cal_id: str,
           excluded: list[Json] | None = None) -> None:
    data = rec["data"]
    reminders = dict(fields["reminders"])
    reminders["exclude_time_list"] = excluded or []
    data.update(
        admins=list(fields["admins"]),
        attendees=[{"userid": u, "response_status": statuses.get(u, C.RESPONSE_NONE)}
                   for u in fields["attendees"]],
        summary=fields["summary"],
        description=fields["description"],
        reminders=reminders,
        location=fields["location"],
        cal_id=cal_id,
        start_time=fields["start_time"],
        end_time=fields["end_time"],
        is_whole_day=fields["is_whole_day"],
    )


def _statuses(data: Json) -> dict[str, int]:
    return {a["userid"]: a["response_status"] for a in data["attendees"]}


def exclude(data: Json, instant: int) -> None:
    listed = data["reminders"]["exclude_time_list"]
    if all(x["start_time"] != instant for x in listed):
        listed.append({"start_time": instant})
        listed.sort(key=lambda x: x["start_time"])


def trim(data: Json, rule: Rule, before: int) -> None:
    """End the series with the last occurrence before `before` (repeat_until is inclusive)."""
    last = last_before(replace(rule, excluded=frozenset()), before)
    rem = data["reminders"]
    rem["repeat_until"] = last if last is not None else rule.start_time
    rem["exclude_time_list"] = [x for x in rem["exclude_time_list"] if x["start_time"] < before]


def _occurrence(rule: Rule | None, body: Json) -> tuple[Rule, int]:
    if rule is None:
        raise ApiError(C.ERR_BAD_OP_MODE, "op_mode needs a recurring schedule")
    op_start = v.op_start_time(body)
    if not is_occurrence(rule, op_start):
        raise ApiError(C.ERR_BAD_OP_START_TIME, "op_start_time is not an occurrence")
    return rule, op_start


# --- endpoints -------------------------------------------------------------------------


def add(call: Call, body: Json) -> Json:
    sched = v.obj(body, "schedule")
    fields = v.schedule_fields(sched)
    if sched.get("cal_id") is None:
        cal_id = default_calendar(call.state, call.app)
        if cal_id is None:
            raise ApiError(ERR_NO_DEFAULT_CALENDAR, "cal_id is required")
    else:
        cal_id = v.identifier(sched, "cal_id", max_bytes=C.CAL_ID_MAX_BYTES)
        own_calendar(call.state, call.app, cal_id)
    return {"schedule_id": create(call.state, call.app, cal_id, fields)}


def update(call: Call, body: Json) -> Json:
    sched = v.obj(body, "schedule")
    schedule_id = v.identifier(sched, "schedule_id")
    rec = lookup(call.state, call.app, schedule_id, writable=True)
    data = rec["data"]
    mode = v.op_mode(body)
    keep = [a["userid"] for a in data["attendees"]] if v.flag(body, "skip_attendees") else None
    fields = v.schedule_fields(sched, attendees=keep)
    statuses = _statuses(data)
    rule = rule_of(data)
    repeating = bool(fields["reminders"]["is_repeat"])
    if mode != C.OP_ALL:
        rule, op_start = _occurrence(rule, body)
        if fields["start_time"] < local_day_start(op_start, rule.tz_hours):
            raise ApiError(C.ERR_START_BEFORE_OP_START, "start_time before op_start_time's day")
        if mode == C.OP_THIS:
            if repeating:
                raise ApiError(C.ERR_OP_THIS_NOT_REPEAT, "only-this update cannot repeat")
            exclude(data, op_start)
            touch(call.state, rec)
            return {"schedule_id": create(call.state, call.app, data["cal_id"], fields, statuses)}
        if op_start != data["start_time"]:
            trim(data, rule, op_start)
            touch(call.state, rec)
            return {"schedule_id": create(call.state, call.app, data["cal_id"], fields, statuses)}
    elif (rule is None and not repeating and fields["start_time"] != data["start_time"]
          and fields["start_time"] < call.now):
        raise ApiError(C.ERR_START_IN_PAST, "start_time moved into the past")
    # exclude_time_list is read-only: whether an edit of the whole series keeps it is
    # undocumented (the `update-exclusions` variant)
    keep_excluded = repeating and call.state.variants.update_exclusions == "keep"
    excluded = data["reminders"]["exclude_time_list"] if keep_excluded else []
    write(rec, fields, statuses, cal_id=data["cal_id"], excluded=excluded)
    touch(call.state, rec)
    return {"schedule_id": schedule_id}


def delete(call: Call, body: Json) -> Json:
    rec = lookup(call.state, call.app, v.identifier(body, "schedule_id"), writable=True)
    data = rec["data"]
    mode = v.op_mode(body)
    if mode == C.OP_ALL:
        data["status"] = 1
    else:
        rule, op_start = _occurrence(rule_of(data), body)
        if mode == C.OP_THIS:
            exclude(data, op_start)
        elif op_start == data["start_time"]:
            data["status"] = 1
        else:
            trim(data, rule, op_start)
    touch(call.state, rec)
    return {}


def get(call: Call, body: Json) -> Json:
    ids = v.id_list(body, "schedule_id_list", empty_code=C.ERR_EMPTY_SCHEDULE_ID_LIST)
    if call.state.variants.get == "partial":
        # the `partial` variant: an id that cannot be read is left out, not an error
        recs = []
        for sid in ids:
            try:
                recs.append(lookup(call.state, call.app, sid, writable=False))
            except ApiError:
                continue
    else:
        recs = [lookup(call.state, call.app, sid, writable=False) for sid in ids]
    return {"schedule_list": [copy_json(rec["data"]) for rec in recs]}


def get_by_calendar(call: Call, body: Json) -> Json:
    cal_id = v.identifier(body, "cal_id", max_bytes=C.CAL_ID_MAX_BYTES)
    own_calendar(call.state, call.app, cal_id)
    offset, limit = v.page(body)
    variants = call.state.variants
    listed = call.state.calendar_schedules(cal_id)
    if variants.order == "start-time":
        # sorted stably, so equal starts stay in creation order; an add or a move
        # anywhere before the client's offset shifts every later page
        listed = sorted(listed, key=lambda rec: rec["data"]["start_time"])
    return {"schedule_list": [listing_item(rec, variants.listing, variants.sequence)
                              for rec in listed[offset:offset + limit]]}


def listing_item(rec: Json, listing: str, sequence: str = "per-change") -> Json:
    data = copy_json(rec["data"])
    item: Json = {"schedule_id": data.pop("schedule_id"), "sequence": rec["sequence"], **data}
    if sequence == "absent":
        del item["sequence"]
    if listing == "sample":
        for key in SAMPLE_OMITS:
            item.pop(key, None)
        for key in SAMPLE_OMITS_REMINDERS:
            item["reminders"].pop(key, None)
    return item


def add_attendees(call: Call, body: Json) -> Json:
    rec = lookup(call.state, call.app, v.identifier(body, "schedule_id"), writable=True)
    added = v.userids(body, "attendees", max_items=C.ATTENDEES_MAX,
                      over_code=C.ERR_TOO_MANY_ATTENDEES)
    if not added:
        raise v.bad("attendees is required")
    attendees = rec["data"]["attendees"]
    present = {a["userid"] for a in attendees}
    new = [u for u in added if u not in present]
    if len(attendees) + len(new) > C.ATTENDEES_MAX:
        raise ApiError(C.ERR_TOO_MANY_ATTENDEES, f"more than {C.ATTENDEES_MAX} attendees in all")
    attendees.extend({"userid": u, "response_status": C.RESPONSE_NONE} for u in new)
    touch(call.state, rec)
    return {}


def del_attendees(call: Call, body: Json) -> Json:
    rec = lookup(call.state, call.app, v.identifier(body, "schedule_id"), writable=True)
    removed = set(v.userids(body, "attendees", max_items=C.ATTENDEES_MAX,
                            over_code=C.ERR_TOO_MANY_ATTENDEES))
    if not removed:
        raise v.bad("attendees is required")
    data = rec["data"]
    data["attendees"] = [a for a in data["attendees"] if a["userid"] not in removed]
    # an admin must be an attendee, so removing one removes the admin too
    data["admins"] = [a for a in data["admins"] if a not in removed]
    touch(call.state, rec)
    return {}
