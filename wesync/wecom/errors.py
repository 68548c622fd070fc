"""What the WeCom API said (or failed to say), as exceptions that carry the facts.

    WesyncError                        wesync.errors
    └── WeComError                     errcode, errmsg, endpoint (a path, never a query)
        ├── WeComAPIError              WeCom answered with a nonzero errcode
        │   ├── TokenError             40014 41001 42001: the token is refused; fetched again once
        │   ├── CredentialsError       40001 40013: the corpid/corpsecret pair is wrong
        │   ├── RateLimitedError       45009 45033: over quota or too many in flight; back off
        │   ├── BusyError              -1 6000: WeCom is busy; try again later
        │   ├── NotFoundError          90457 90459 90460 90461: calendar or schedule unknown/gone
        │   ├── InvalidParameterError  40058 and the 904xx/907xx validation codes
        │   │   └── StartInPastError   90706: a one-off schedule's start cannot move into the past
        │   └── UnknownUserError       40003 60111: a userid WeCom does not know (or cannot see)
        └── WeComTransportError        no usable answer: timeout, connection lost, HTTP 5xx,
                                       a body that is not JSON (after the retries allowed)

`error_for(errcode, errmsg, endpoint)` picks the class for an errcode.

`WeComTransportError.maybe_applied` is True when a write that cannot be sent
twice (schedule/add, calendar/add, an op_mode 1/2 edit) may have been carried
out although no answer came back: the caller must look before writing again.

Messages never hold the access token or the secret: the client only passes
the path of an endpoint, and WeCom's own errmsg carries neither.
"""

from __future__ import annotations

from wesync.errors import WesyncError
from wesync.wecom import constants as C


class WeComError(WesyncError):
    """Root of everything the WeCom client raises."""

    def __init__(self, message: str, *, errcode: int | None, errmsg: str, endpoint: str) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.endpoint = endpoint
        super().__init__(message)

    #: True when the same request may succeed if sent again later
    retryable: bool = False


class WeComAPIError(WeComError):
    """WeCom answered with a nonzero errcode."""

    errcode: int

    def __init__(self, errcode: int, errmsg: str, endpoint: str) -> None:
        message = f"{endpoint}: WeCom error {errcode}: {_short(errmsg)}"
        hint = self.hint()
        if hint:
            message = f"{message} ({hint})"
        super().__init__(message, errcode=errcode, errmsg=errmsg, endpoint=endpoint)

    def hint(self) -> str:
        """A few words on what to do about it, added to the message."""
        return ""


class TokenError(WeComAPIError):
    """The access token is invalid, missing or expired."""


class CredentialsError(WeComAPIError):
    """gettoken refused the corpid or the secret."""

    def hint(self) -> str:
        return "check corpid and corpsecret in the config, and that the app is enabled"


class RateLimitedError(WeComAPIError):
    """Over WeCom's call frequency (45009) or concurrency (45033) limit."""

    retryable = True

    def hint(self) -> str:
        return "rate limited by WeCom; lower rate_limit or max_concurrency"


class BusyError(WeComAPIError):
    """WeCom is busy (-1) or hit a data version conflict (6000)."""

    retryable = True


class NotFoundError(WeComAPIError):
    """The calendar or schedule does not exist, or was deleted."""


class InvalidParameterError(WeComAPIError):
    """WeCom rejected the request's content; sending it again will not help."""


class StartInPastError(InvalidParameterError):
    """A non-recurring schedule's start cannot be moved into the past (90706)."""


class UnknownUserError(WeComAPIError):
    """A userid WeCom does not know, or one outside the app's visible range."""

    def hint(self) -> str:
        return "check the userids in the pair's user mapping"


class WeComTransportError(WeComError):
    """No usable answer from WeCom: timeout, lost connection, HTTP error, bad body."""

    def __init__(self, endpoint: str, cause: str, *, maybe_applied: bool = False) -> None:
        self.cause = cause
        self.maybe_applied = maybe_applied
        message = f"{endpoint}: {cause}"
        if maybe_applied:
            message += " (the change may have been applied; check before writing again)"
        super().__init__(message, errcode=None, errmsg=cause, endpoint=endpoint)


# Meanings from wecom-api.md §2, kept in one place with the emulator's (constants).
_CLASSES: tuple[tuple[frozenset[int], type[WeComAPIError]], ...] = (
    (C.TOKEN_ERRCODES, TokenError),
    (C.CREDENTIALS_ERRCODES, CredentialsError),
    (C.RATE_LIMIT_ERRCODES, RateLimitedError),
    (C.BUSY_ERRCODES, BusyError),
    (C.NOT_FOUND_ERRCODES, NotFoundError),
    (C.UNKNOWN_USER_ERRCODES, UnknownUserError),
    (frozenset({C.ERR_START_IN_PAST}), StartInPastError),
)


def error_for(errcode: int, errmsg: str, endpoint: str) -> WeComAPIError:
    """The exception for a nonzero errcode from `endpoint` (a path)."""
    cls: type[WeComAPIError] = WeComAPIError
    for codes, candidate in _CLASSES:
        if errcode in codes:
            cls = candidate
            break
    else:
        if errcode == C.ERR_INVALID_PARAMETER or 90400 <= errcode <= 90799:
            cls = InvalidParameterError
    return cls(errcode, errmsg, endpoint)


def _short(errmsg: str) -> str:
    # WeCom appends ", hint: [...], from ip: ..., more info at https://..." to
    # every errmsg; the first clause is the part a person needs to read.
    text = errmsg.split(", hint:", 1)[0].strip()
    return text or "(no message)"
