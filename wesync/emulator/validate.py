"""Request validation: raw JSON in, normalised dicts or an `ApiError` out.

The emulator keeps its own reading of wecom-api.md here instead of reusing
the client's models, so a misreading on one side shows up as a failing test.
Booleans are not integers here: WeCom's fields are uint32 and `true` is a
type error (40058). So are times outside uint32 (before 1970, after
2106-02-07T06:28:15Z): start_time, end_time, repeat_until, op_start_time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from wesync.emulator.errors import ERR_ADMIN_NOT_MEMBER, ApiError
from wesync.wecom import constants as C

Json = dict[str, Any]

_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_PERMISSIONS = frozenset({1, 3})
PUBLIC_RANGE_USERIDS_MAX = 1000
PUBLIC_RANGE_PARTYIDS_MAX = 100
#: WeCom's times (start_time, end_time, repeat_until, op_start_time, an
#: exclusion's start_time) are uint32 Unix seconds
UINT32_MAX = 2**32 - 1


def bad(detail: str) -> ApiError:
    return ApiError(C.ERR_INVALID_PARAMETER, detail)


def parse_body(raw: bytes) -> Json:
    """The request body as a JSON object, or 40058."""
    try:
        value = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, ValueError):
        raise bad("body is not valid JSON") from None
    if not isinstance(value, dict):
        raise bad("body must be a JSON object")
    return value


# --- field readers ----------------------------------------------------------------


def obj(body: Mapping[str, Any], key: str, *, required: bool = True) -> Json:
    value = body.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise bad(f"{key} must be an object")
    return value


def integer(body: Mapping[str, Any], key: str, *, required: bool = False, default: int = 0,
            minimum: int | None = None, maximum: int | None = None) -> int:
    value = body.get(key)
    if value is None:
        if required:
            raise bad(f"{key} is required")
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"{key} must be an integer")
    if minimum is not None and value < minimum:
        raise bad(f"{key} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise bad(f"{key} must be at most {maximum}")
    return value


def instant(body: Mapping[str, Any], key: str, *, required: bool = False) -> int:
    """A time field: uint32 Unix seconds."""
    return integer(body, key, required=required, minimum=0, maximum=UINT32_MAX)


def flag(body: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = integer(body, key, default=default)
    if value not in (0, 1):
        raise bad(f"{key} must be 0 or 1")
    return value


def text(body: Mapping[str, Any], key: str, *, max_chars: int, required: bool = False,
         min_chars: int = 0) -> str:
    value = body.get(key)
    if value is None:
        if required:
            raise bad(f"{key} is required")
        return ""
    if not isinstance(value, str):
        raise bad(f"{key} must be a string")
    if len(value) > max_chars:
        raise bad(f"{key} longer than {max_chars} characters")
    if len(value) < min_chars:
        raise bad(f"{key} is required")
    return value


def identifier(body: Mapping[str, Any], key: str, *, max_bytes: int = 128) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise bad(f"{key} is required")
    if len(value.encode("utf-8")) > max_bytes:
        raise bad(f"{key} too long")
    return value


def string_list(body: Mapping[str, Any], key: str, *, max_items: int,
                over_code: int = C.ERR_INVALID_PARAMETER) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise bad(f"{key} must be a list of strings")
    if len(value) > max_items:
        raise ApiError(over_code, f"{key} has more than {max_items} entries")
    return _unique(value)


def int_list(body: Mapping[str, Any], key: str) -> list[int]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise bad(f"{key} must be a list of integers")
    return list(value)


def userids(body: Mapping[str, Any], key: str, *, max_items: int, over_code: int) -> list[str]:
    """`[{userid}, ...]` as a list of distinct userids, in order."""
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad(f"{key} must be a list")
    ids = []
    for item in value:
        if not isinstance(item, dict):
            raise bad(f"{key} entries must be objects")
        ids.append(identifier(item, "userid", max_bytes=C.USERID_MAX_BYTES))
    ids = _unique(ids)
    if len(ids) > max_items:
        raise ApiError(over_code, f"{key} has more than {max_items} entries")
    return ids


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


# --- calendars ---------------------------------------------------------------------


def calendar_fields(cal: Mapping[str, Any], *, creating: bool) -> Json:
    """The stored form of a calendar body (add or update)."""
    is_corp = flag(cal, "is_corp_calendar") if creating else 0
    summary = text(cal, "summary", max_chars=C.SUMMARY_MAX, required=True, min_chars=1)
    color = cal.get("color")
    if color is None:
        if not is_corp:
            raise bad("color is required")
        color = ""
    elif not isinstance(color, str) or not _COLOR.fullmatch(color):
        raise ApiError(C.ERR_BAD_COLOR, "color must be #RRGGBB")
    shares = _shares(cal)
    admins = string_list(cal, "admins", max_items=C.ADMINS_MAX)
    shared = {s["userid"] for s in shares}
    for admin in admins:
        if admin not in shared:
            raise ApiError(ERR_ADMIN_NOT_MEMBER, "calendar admins must be in shares")
    fields: Json = {
        "admins": admins,
        "summary": summary,
        "color": color,
        "description": text(cal, "description", max_chars=C.CALENDAR_DESCRIPTION_MAX),
        "shares": shares,
        "public_range": _public_range(cal),
    }
    if creating:
        fields["is_public"] = flag(cal, "is_public")
        fields["is_corp_calendar"] = is_corp
        fields["set_as_default"] = flag(cal, "set_as_default")
        if (fields["is_public"] or is_corp) and not _has_range(fields["public_range"]):
            raise ApiError(C.ERR_PUBLIC_NEEDS_RANGE, "public_range is required")
    return fields


def _shares(cal: Mapping[str, Any]) -> list[Json]:
    value = cal.get("shares")
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad("shares must be a list")
    if len(value) > C.SHARES_MAX:
        raise bad(f"shares has more than {C.SHARES_MAX} entries")
    shares: dict[str, Json] = {}
    for item in value:
        if not isinstance(item, dict):
            raise bad("shares entries must be objects")
        userid = identifier(item, "userid", max_bytes=C.USERID_MAX_BYTES)
        permission = integer(item, "permission", default=1)
        if permission not in _PERMISSIONS:
            raise bad("share permission must be 1 or 3")
        shares[userid] = {"userid": userid, "permission": permission}
    return list(shares.values())


def _public_range(cal: Mapping[str, Any]) -> Json:
    rng = obj(cal, "public_range", required=False)
    partyids = int_list(rng, "partyids")
    if len(partyids) > PUBLIC_RANGE_PARTYIDS_MAX:
        raise bad("public_range.partyids too long")
    return {
        "userids": string_list(rng, "userids", max_items=PUBLIC_RANGE_USERIDS_MAX),
        "partyids": partyids,
    }


def _has_range(rng: Mapping[str, Any]) -> bool:
    return bool(rng.get("userids") or rng.get("partyids"))


def id_list(body: Mapping[str, Any], key: str, *, empty_code: int) -> list[str]:
    value = body.get(key)
    if value is None or value == []:
        raise ApiError(empty_code, f"{key} is empty")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(f"{key} must be a list of strings")
    if len(value) > C.GET_IDS_MAX:
        raise bad(f"{key} has more than {C.GET_IDS_MAX} entries")
    return _unique(value)


# --- schedules ---------------------------------------------------------------------


def schedule_fields(sched: Mapping[str, Any], *, attendees: list[str] | None = None) -> Json:
    """The stored form of a schedule body, without ids and status.

    `attendees` given means skip_attendees: keep those instead of reading the body.
    """
    start = instant(sched, "start_time", required=True)
    end = instant(sched, "end_time", required=True)
    if end < start:
        raise bad("end_time is before start_time")
    whole_day = flag(sched, "is_whole_day")
    if attendees is None:
        attendees = userids(sched, "attendees", max_items=C.ATTENDEES_MAX,
                            over_code=C.ERR_TOO_MANY_ATTENDEES)
    admins = string_list(sched, "admins", max_items=C.ADMINS_MAX)
    for admin in admins:
        if admin not in attendees:
            raise ApiError(ERR_ADMIN_NOT_MEMBER, "schedule admins must be attendees")
    return {
        "admins": admins,
        "attendees": attendees,
        "summary": text(sched, "summary", max_chars=C.SUMMARY_MAX),
        "description": text(sched, "description", max_chars=C.DESCRIPTION_MAX),
        "location": text(sched, "location", max_chars=C.LOCATION_MAX),
        "start_time": start,
        "end_time": end,
        "is_whole_day": whole_day,
        "reminders": reminders(obj(sched, "reminders", required=False), whole_day=whole_day),
    }


def reminders(rem: Mapping[str, Any], *, whole_day: int) -> Json:
    """Stored reminders; `exclude_time_list` is read-only and never taken from a request."""
    allowed = C.REMIND_TIME_DIFFS_WHOLE_DAY if whole_day else C.REMIND_TIME_DIFFS
    diffs = list(dict.fromkeys(int_list(rem, "remind_time_diffs")))
    if any(d not in allowed for d in diffs):
        raise ApiError(C.ERR_BAD_REMIND_TIME_DIFFS, "remind_time_diffs value not allowed")
    before = rem.get("remind_before_event_secs")
    before_secs = integer(rem, "remind_before_event_secs")
    if before is not None and before_secs not in C.REMIND_BEFORE_EVENT_SECS:
        raise ApiError(C.ERR_BAD_REMINDER, "remind_before_event_secs value not allowed")
    if before is None and diffs and diffs[0] <= 0 and -diffs[0] in C.REMIND_BEFORE_EVENT_SECS:
        before_secs = -diffs[0]
    is_remind = flag(rem, "is_remind", default=1 if diffs else 0)
    if is_remind and not diffs and before is not None:
        # the deprecated field alone still means one reminder that long before
        diffs = [-before_secs]
    is_repeat = flag(rem, "is_repeat")
    repeat_type = integer(rem, "repeat_type")
    if (is_repeat or "repeat_type" in rem) and repeat_type not in C.REPEAT_TYPES:
        raise ApiError(C.ERR_BAD_REPEAT_TYPE, f"repeat_type {repeat_type}")
    custom = flag(rem, "is_custom_repeat")
    interval = integer(rem, "repeat_interval")
    if interval < 0:
        raise bad("repeat_interval must not be negative")
    if is_repeat and custom and interval < 1:
        raise ApiError(C.ERR_MISSING_REPEAT_INTERVAL, "custom repeat needs repeat_interval")
    weekdays = int_list(rem, "repeat_day_of_week")
    if any(not 1 <= d <= 7 for d in weekdays):
        raise ApiError(C.ERR_BAD_WEEKDAY, "repeat_day_of_week must be 1..7")
    monthdays = int_list(rem, "repeat_day_of_month")
    if any(not 1 <= d <= 31 for d in monthdays):
        raise ApiError(C.ERR_BAD_DAY_OF_MONTH, "repeat_day_of_month must be 1..31")
    timezone = integer(rem, "timezone", default=C.TIMEZONE_DEFAULT)
    if not C.TIMEZONE_MIN <= timezone <= C.TIMEZONE_MAX:
        raise ApiError(C.ERR_BAD_TIMEZONE, "timezone must be -12..12")
    return {
        "is_remind": is_remind,
        "remind_before_event_secs": before_secs,
        "remind_time_diffs": diffs,
        "is_repeat": is_repeat,
        "repeat_type": repeat_type,
        "repeat_until": instant(rem, "repeat_until"),
        "is_custom_repeat": custom,
        "repeat_interval": interval,
        "repeat_day_of_week": sorted(set(weekdays)),
        "repeat_day_of_month": sorted(set(monthdays)),
        "timezone": timezone,
        "exclude_time_list": [],
    }


def op_mode(body: Mapping[str, Any]) -> int:
    value = body.get("op_mode", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value not in (
        C.OP_ALL, C.OP_THIS, C.OP_THIS_AND_FOLLOWING
    ):
        raise ApiError(C.ERR_BAD_OP_MODE, "op_mode must be 0, 1 or 2")
    start = body.get("op_start_time")
    if isinstance(start, int) and not isinstance(start, bool):
        # not a uint32: the body itself is invalid, whatever op_mode says
        instant(body, "op_start_time")
    return value


def op_start_time(body: Mapping[str, Any]) -> int:
    value = body.get("op_start_time")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(C.ERR_BAD_OP_START_TIME, "op_start_time is required with op_mode 1 or 2")
    return value


def page(body: Mapping[str, Any]) -> tuple[int, int]:
    offset = integer(body, "offset")
    limit = integer(body, "limit", default=C.PAGE_LIMIT_DEFAULT)
    if offset < 0:
        raise ApiError(C.ERR_BAD_PAGE, "offset must not be negative")
    if limit > C.PAGE_LIMIT_MAX:
        raise ApiError(C.ERR_PAGE_SIZE, f"limit above {C.PAGE_LIMIT_MAX}")
    if limit < 1:
        raise ApiError(C.ERR_BAD_PAGE, "limit must be at least 1")
    return offset, limit
