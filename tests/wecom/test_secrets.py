"""Neither the corpsecret nor an access token reaches a log line, an error or a repr,
even with everything (httpx and httpcore included) logging at DEBUG."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from wesync.config import Secret
from wesync.wecom import constants as C
from wesync.wecom.client import WeComClient
from wesync.wecom.errors import CredentialsError, InvalidParameterError, WeComTransportError
from wesync.wecom.models import Calendar
from wesync.wecom.retry import RetryPolicy

SECRET = "emulator-secret"
WRONG_SECRET = "a-wrong-but-secret-value"
FAST = RetryPolicy(attempts=3, base=0.0, cap=0.0)


def fault(server: Any, path: str, kind: str, **detail: Any) -> None:
    server.admin("POST", "/_emulator/faults", {"path": path, "times": 1, "kind": kind, **detail})


async def test_nothing_secret_in_logs_errors_or_reprs(
    emulator_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[BaseException] = []
    reprs: list[str] = []
    with (
        caplog.at_level(logging.DEBUG),
        caplog.at_level(logging.DEBUG, logger="httpx"),
        caplog.at_level(logging.DEBUG, logger="httpcore"),
    ):
        async with WeComClient(
            corpid="wwemulator",
            corpsecret=Secret(SECRET),
            base_url=emulator_server.url,
            retry=FAST,
        ) as client:
            reprs.append(repr(client))
            await client.check_credentials()
            cal_id = await client.calendar_add(Calendar(summary="s", color="#000000"))
            # an expired token, a refused parameter, a lost answer
            emulator_server.admin("POST", "/_emulator/clock", {"advance": 7300})
            await client.calendar_get([cal_id])
            fault(emulator_server, C.CALENDAR_UPDATE, "errcode", errcode=40058)
            with pytest.raises(InvalidParameterError) as bad:
                await client.calendar_update(Calendar(cal_id=cal_id, summary="s", color="#000000"))
            errors.append(bad.value)
            fault(emulator_server, C.CALENDAR_ADD, "drop_after_commit")
            with pytest.raises(WeComTransportError) as lost:
                await client.calendar_add(Calendar(summary="t", color="#000000"))
            errors.append(lost.value)
            reprs.append(repr(client))
            reprs.append(repr(client.stats))
        async with WeComClient(
            corpid="wwemulator",
            corpsecret=Secret(WRONG_SECRET),
            base_url=emulator_server.url,
            retry=FAST,
        ) as wrong:
            with pytest.raises(CredentialsError) as refused:
                await wrong.check_credentials()
            errors.append(refused.value)
            reprs.append(repr(wrong))

    tokens = list(emulator_server.emulator.state.tokens)
    assert len(tokens) >= 2
    secrets = [SECRET, WRONG_SECRET, *tokens]
    lines = [caplog.text, *(r.getMessage() for r in caplog.records)]
    texts = lines + [str(e) for e in errors] + [repr(e) for e in errors] + reprs
    for text in texts:
        for secret in secrets:
            assert secret not in text

    # the test can fail: httpx did log the request lines, with the query scrubbed
    assert "HTTP Request: GET" in caplog.text
    assert "corpsecret=***" in caplog.text
    assert "access_token=***" in caplog.text
    assert any(r.name.startswith("httpcore") for r in caplog.records)
