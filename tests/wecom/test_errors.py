"""errcodes become the right exception, with a message that helps and leaks nothing."""

from __future__ import annotations

import pytest

from wesync.errors import WesyncError
from wesync.wecom.errors import (
    BusyError,
    CredentialsError,
    InvalidParameterError,
    NotFoundError,
    RateLimitedError,
    StartInPastError,
    TokenError,
    UnknownUserError,
    WeComAPIError,
    WeComError,
    WeComTransportError,
    error_for,
)

ERRMSG_42001 = (
    "access_token expired, hint: [1700000000_11_0123456789abcdef], from ip: 203.0.113.7, "
    "more info at https://open.work.weixin.qq.com/devtool/query?e=42001"
)


@pytest.mark.parametrize(
    ("errcode", "cls"),
    [
        (40014, TokenError),
        (41001, TokenError),
        (42001, TokenError),
        (40001, CredentialsError),
        (40013, CredentialsError),
        (45009, RateLimitedError),
        (45033, RateLimitedError),
        (-1, BusyError),
        (6000, BusyError),
        (90457, NotFoundError),
        (90459, NotFoundError),
        (90460, NotFoundError),
        (90461, NotFoundError),
        (40058, InvalidParameterError),
        (90465, InvalidParameterError),
        (90482, InvalidParameterError),
        (90704, InvalidParameterError),
        (90706, StartInPastError),
        (60111, UnknownUserError),
        (40003, UnknownUserError),
        (48002, WeComAPIError),
        (301002, WeComAPIError),
    ],
)
def test_error_for_picks_the_class(errcode: int, cls: type[WeComAPIError]) -> None:
    error = error_for(errcode, "text", "/cgi-bin/oa/schedule/add")
    assert type(error) is cls
    assert isinstance(error, WeComError)
    assert isinstance(error, WesyncError)
    assert error.errcode == errcode
    assert error.errmsg == "text"
    assert error.endpoint == "/cgi-bin/oa/schedule/add"
    assert str(errcode) in str(error)


def test_start_in_past_is_a_parameter_error() -> None:
    assert isinstance(error_for(90706, "x", "/p"), InvalidParameterError)


def test_only_busy_and_rate_limit_are_retryable() -> None:
    retryable = {
        c
        for c in (-1, 6000, 45009, 45033, 40058, 90460, 42001, 40001, 60111)
        if error_for(c, "", "/p").retryable
    }
    assert retryable == {-1, 6000, 45009, 45033}


def test_message_keeps_the_first_clause_of_wecom_errmsg() -> None:
    error = error_for(42001, ERRMSG_42001, "/cgi-bin/oa/schedule/get")
    assert str(error).startswith(
        "/cgi-bin/oa/schedule/get: WeCom error 42001: access_token expired"
    )
    assert "hint" not in str(error)
    assert "203.0.113.7" not in str(error)
    assert error.errmsg == ERRMSG_42001  # the full text stays available


def test_credentials_error_says_what_to_check() -> None:
    error = error_for(40001, "invalid credential", "/cgi-bin/gettoken")
    assert "corpid" in str(error)
    assert "corpsecret" in str(error)


def test_empty_errmsg_still_reads() -> None:
    assert "(no message)" in str(error_for(40058, "", "/p"))


def test_transport_error_carries_endpoint_cause_and_maybe_applied() -> None:
    lost = WeComTransportError("/cgi-bin/oa/schedule/add", "ReadTimeout", maybe_applied=True)
    assert lost.errcode is None
    assert lost.endpoint == "/cgi-bin/oa/schedule/add"
    assert lost.cause == "ReadTimeout"
    assert lost.maybe_applied
    assert "may have been applied" in str(lost)
    refused = WeComTransportError("/cgi-bin/oa/schedule/get", "ConnectError")
    assert not refused.maybe_applied
    assert "applied" not in str(refused)
    assert not refused.retryable


def test_shared_errcode_groups_agree_with_the_exception_classes() -> None:
    # the emulator and the client read the same groups; each must map as documented
    from wesync.wecom import constants as C

    groups = [
        (C.TOKEN_ERRCODES, TokenError),
        (C.CREDENTIALS_ERRCODES, CredentialsError),
        (C.RATE_LIMIT_ERRCODES, RateLimitedError),
        (C.BUSY_ERRCODES, BusyError),
        (C.NOT_FOUND_ERRCODES, NotFoundError),
        (C.UNKNOWN_USER_ERRCODES, UnknownUserError),
    ]
    for codes, cls in groups:
        assert codes and all(type(error_for(c, "", "/p")) is cls for c in codes), cls
    retryable = {c for c in (-1, 6000, 45009, 45033, 40014, 90460)
                 if error_for(c, "", "/p").retryable}
    assert retryable == C.RETRYABLE_ERRCODES
    assert 41001 in C.TOKEN_ERRCODES
