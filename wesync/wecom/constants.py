"""Facts about the WeCom API shared by the client and the emulator.

This is the only module the emulator imports from the client side, so that a
bug in one cannot hide a bug in the other (DESIGN.md). Values are from
shared/reference/wecom-api.md.
"""

from __future__ import annotations

from typing import Final

GETTOKEN_PATH: Final = "/cgi-bin/gettoken"
CALENDAR_ADD: Final = "/cgi-bin/oa/calendar/add"
CALENDAR_UPDATE: Final = "/cgi-bin/oa/calendar/update"
CALENDAR_GET: Final = "/cgi-bin/oa/calendar/get"
CALENDAR_DEL: Final = "/cgi-bin/oa/calendar/del"
SCHEDULE_ADD: Final = "/cgi-bin/oa/schedule/add"
SCHEDULE_UPDATE: Final = "/cgi-bin/oa/schedule/update"
SCHEDULE_GET: Final = "/cgi-bin/oa/schedule/get"
SCHEDULE_DEL: Final = "/cgi-bin/oa/schedule/del"
SCHEDULE_GET_BY_CALENDAR: Final = "/cgi-bin/oa/schedule/get_by_calendar"
SCHEDULE_ADD_ATTENDEES: Final = "/cgi-bin/oa/schedule/add_attendees"
SCHEDULE_DEL_ATTENDEES: Final = "/cgi-bin/oa/schedule/del_attendees"

API_PATHS: Final = (
    CALENDAR_ADD,
    CALENDAR_UPDATE,
    CALENDAR_GET,
    CALENDAR_DEL,
    SCHEDULE_ADD,
    SCHEDULE_UPDATE,
    SCHEDULE_GET,
    SCHEDULE_DEL,
    SCHEDULE_GET_BY_CALENDAR,
    SCHEDULE_ADD_ATTENDEES,
    SCHEDULE_DEL_ATTENDEES,
)

# --- limits -----------------------------------------------------------------
SUMMARY_MAX: Final = 128  # characters, schedule and calendar
LOCATION_MAX: Final = 128
DESCRIPTION_MAX: Final = 1000  # schedule
CALENDAR_DESCRIPTION_MAX: Final = 512
ATTENDEES_MAX: Final = 1000
ADMINS_MAX: Final = 3
USERID_MAX_BYTES: Final = 64
CAL_ID_MAX_BYTES: Final = 64
GET_IDS_MAX: Final = 1000  # ids per schedule/get and calendar/get
PAGE_LIMIT_MAX: Final = 1000
PAGE_LIMIT_DEFAULT: Final = 500
SHARES_MAX: Final = 2000
TIMEZONE_MIN: Final = -12
TIMEZONE_MAX: Final = 12
TIMEZONE_DEFAULT: Final = 8
CALLS_PER_MINUTE_PER_API: Final = 10_000

# --- recurrence -----------------------------------------------------------------
REPEAT_DAILY: Final = 0
REPEAT_WEEKLY: Final = 1
REPEAT_MONTHLY: Final = 2
REPEAT_YEARLY: Final = 5
REPEAT_WORKDAYS: Final = 7
REPEAT_TYPES: Final = frozenset({0, 1, 2, 5, 7})

# --- reminders ------------------------------------------------------------------
REMIND_TIME_DIFFS: Final = frozenset({0, -300, -900, -3600, -86400})
REMIND_TIME_DIFFS_WHOLE_DAY: Final = REMIND_TIME_DIFFS | {32400, -172800, -604800}
REMIND_BEFORE_EVENT_SECS: Final = frozenset({0, 300, 900, 3600, 86400})

# --- attendee responses -----------------------------------------------------------
RESPONSE_NONE: Final = 0
RESPONSE_TENTATIVE: Final = 1
RESPONSE_ACCEPT_ALL: Final = 2
RESPONSE_ACCEPT_ONCE: Final = 3
RESPONSE_DECLINED: Final = 4

# --- op_mode ---------------------------------------------------------------------
OP_ALL: Final = 0
OP_THIS: Final = 1
OP_THIS_AND_FOLLOWING: Final = 2

# --- errcodes ----------------------------------------------------------------------
ERR_OK: Final = 0
ERR_BUSY: Final = -1
ERR_INVALID_SECRET: Final = 40001
ERR_INVALID_CORPID: Final = 40013
ERR_INVALID_TOKEN: Final = 40014
ERR_MISSING_TOKEN: Final = 41001
ERR_TOKEN_EXPIRED: Final = 42001
ERR_INVALID_PARAMETER: Final = 40058
ERR_INVALID_USERID: Final = 40003
ERR_UNKNOWN_USERID: Final = 60111
ERR_RATE_LIMITED: Final = 45009
ERR_CONCURRENCY: Final = 45033
ERR_BAD_CAL_ID: Final = 90457
ERR_EMPTY_CAL_ID_LIST: Final = 90458
ERR_CALENDAR_DELETED: Final = 90459
ERR_SCHEDULE_DELETED: Final = 90460
ERR_BAD_SCHEDULE_ID: Final = 90461
ERR_EMPTY_SCHEDULE_ID_LIST: Final = 90462
ERR_TOO_MANY_ATTENDEES: Final = 90464
ERR_BAD_REPEAT_TYPE: Final = 90465
ERR_OTHER_APP: Final = 90466
ERR_BAD_WEEKDAY: Final = 90467
ERR_PAGE_SIZE: Final = 90469
ERR_BAD_PAGE: Final = 90470
ERR_BAD_REMINDER: Final = 90471
ERR_BAD_COLOR: Final = 90473
ERR_BAD_TIMEZONE: Final = 90480
ERR_BAD_OP_START_TIME: Final = 90482
ERR_PUBLIC_NEEDS_RANGE: Final = 90483
ERR_OP_THIS_NOT_REPEAT: Final = 90484
ERR_BAD_OP_MODE: Final = 90485
ERR_MISSING_REPEAT_INTERVAL: Final = 90486
ERR_BAD_DAY_OF_MONTH: Final = 90487
ERR_START_BEFORE_OP_START: Final = 90488
ERR_BAD_REMIND_TIME_DIFFS: Final = 90704
ERR_START_IN_PAST: Final = 90706

ERR_DATA_VERSION_CONFLICT: Final = 6000

# The groups wesync.wecom.errors turns into exception classes.
#: the access token must be fetched again (invalid, missing, expired)
TOKEN_ERRCODES: Final = frozenset({ERR_INVALID_TOKEN, ERR_MISSING_TOKEN, ERR_TOKEN_EXPIRED})
#: gettoken refused the corpid/corpsecret pair
CREDENTIALS_ERRCODES: Final = frozenset({ERR_INVALID_SECRET, ERR_INVALID_CORPID})
#: over the frequency or concurrency limit: back off
RATE_LIMIT_ERRCODES: Final = frozenset({ERR_RATE_LIMITED, ERR_CONCURRENCY})
#: WeCom is busy or hit a data version conflict: try again later
BUSY_ERRCODES: Final = frozenset({ERR_BUSY, ERR_DATA_VERSION_CONFLICT})
#: errcodes after which the same request may succeed if sent again later
RETRYABLE_ERRCODES: Final = RATE_LIMIT_ERRCODES | BUSY_ERRCODES
#: the calendar or schedule is unknown or gone
NOT_FOUND_ERRCODES: Final = frozenset(
    {ERR_BAD_CAL_ID, ERR_CALENDAR_DELETED, ERR_SCHEDULE_DELETED, ERR_BAD_SCHEDULE_ID}
)
#: a userid WeCom does not know or cannot see
UNKNOWN_USER_ERRCODES: Final = frozenset({ERR_INVALID_USERID, ERR_UNKNOWN_USERID})
