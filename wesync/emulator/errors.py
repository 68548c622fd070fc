"""Errors the emulated API answers with, shaped like WeCom's own error bodies."""

from __future__ import annotations

import time

from wesync.errors import WesyncError
from wesync.wecom import constants as C

MORE_INFO_URL = "https://open.work.weixin.qq.com/devtool/query?e="
#: WeCom names the caller's address in every errmsg; the emulator's callers are local
FROM_IP = "127.0.0.1"

# Codes the emulator answers that the shared constants do not name (wecom-api.md §2).
ERR_ADMIN_NOT_MEMBER = 90492
ERR_NO_DEFAULT_CALENDAR = 90708

_TEXT: dict[int, str] = {
    C.ERR_BUSY: "system busy",
    C.ERR_INVALID_SECRET: "invalid credential",
    C.ERR_INVALID_CORPID: "invalid corpid",
    C.ERR_INVALID_TOKEN: "invalid access_token",
    C.ERR_MISSING_TOKEN: "access_token missing",
    C.ERR_TOKEN_EXPIRED: "access_token expired",
    C.ERR_INVALID_PARAMETER: "invalid Request Parameter",
    C.ERR_RATE_LIMITED: "api freq out of limit",
    C.ERR_CONCURRENCY: "api concurrent out of limit",
    C.ERR_BAD_CAL_ID: "invalid cal_id",
    C.ERR_EMPTY_CAL_ID_LIST: "empty cal_id list",
    C.ERR_CALENDAR_DELETED: "calendar has been deleted",
    C.ERR_SCHEDULE_DELETED: "schedule has been deleted",
    C.ERR_BAD_SCHEDULE_ID: "invalid schedule_id",
    C.ERR_EMPTY_SCHEDULE_ID_LIST: "empty schedule_id list",
    C.ERR_TOO_MANY_ATTENDEES: "too many attendees",
    C.ERR_BAD_REPEAT_TYPE: "unsupported repeat_type",
    C.ERR_OTHER_APP: "cannot operate on another app's calendar or schedule",
    C.ERR_BAD_WEEKDAY: "invalid repeat_day_of_week",
    C.ERR_PAGE_SIZE: "page size too large",
    C.ERR_BAD_PAGE: "invalid page",
    C.ERR_BAD_REMINDER: "invalid remind_before_event_secs",
    C.ERR_BAD_COLOR: "invalid color",
    C.ERR_BAD_TIMEZONE: "invalid timezone",
    C.ERR_BAD_OP_START_TIME: "invalid op_start_time",
    C.ERR_PUBLIC_NEEDS_RANGE: "public calendar needs public_range",
    C.ERR_OP_THIS_NOT_REPEAT: "only-this mode cannot produce a recurring schedule",
    C.ERR_BAD_OP_MODE: "invalid op_mode",
    C.ERR_MISSING_REPEAT_INTERVAL: "repeat_interval missing",
    C.ERR_BAD_DAY_OF_MONTH: "invalid repeat_day_of_month",
    C.ERR_START_BEFORE_OP_START: "start_time must be after op_start_time",
    C.ERR_BAD_REMIND_TIME_DIFFS: "invalid remind_time_diffs",
    C.ERR_START_IN_PAST: "cannot move a non-recurring schedule's start into the past",
    ERR_ADMIN_NOT_MEMBER: "admin is not a member",
    ERR_NO_DEFAULT_CALENDAR: "no default calendar, cal_id required",
}


class EmulatorError(WesyncError):
    """The emulator itself is misconfigured (bad option, unreadable state file)."""


class AdminRequestError(EmulatorError):
    """An administration request was malformed or named something unknown."""


class ApiError(Exception):
    """One API call fails with `errcode`; `detail` says which field or id, never a secret."""

    def __init__(self, errcode: int, detail: str = "") -> None:
        self.errcode = errcode
        self.detail = detail
        super().__init__(f"errcode {errcode}: {detail}" if detail else f"errcode {errcode}")


def errmsg(errcode: int, detail: str = "") -> str:
    """WeCom's errmsg layout (live captures, wecom-findings §8): text, a hint with a
    request id, the caller's address and the lookup URL."""
    text = _TEXT.get(errcode, "error")
    if detail:
        text = f"{text}: {detail}"
    import secrets  # here: the config parser loads this module, the CLI should not pay

    hint = f"{int(time.time())}_{secrets.randbelow(1000)}_{secrets.token_hex(16)}"
    return f"{text}, hint: [{hint}], from ip: {FROM_IP}, more info at {MORE_INFO_URL}{errcode}"


def error_body(errcode: int, detail: str = "") -> dict[str, object]:
    return {"errcode": errcode, "errmsg": errmsg(errcode, detail)}
