"""open_client builds the client a config asks for."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from wesync.config import parse_config
from wesync.errors import ConfigError
from wesync.wecom.connect import EMULATOR_BASE_URL, open_client
from wesync.wecom.models import Calendar, Schedule


def config(tmp_path: Path, wecom: dict[str, Any]) -> Any:
    return parse_config(
        {"wecom": wecom, "state": {"dir": str(tmp_path / "state")}},
        path=tmp_path / "config.toml",
    )


async def test_emulator_backend_keeps_data_and_token_between_runs(tmp_path: Path) -> None:
    cfg = config(tmp_path, {"backend": "emulator"})
    async with open_client(cfg) as client:
        assert client.base_url == EMULATOR_BASE_URL
        cal_id = await client.calendar_add(Calendar(summary="try", color="#000000"))
        await client.schedule_add(
            Schedule(cal_id=cal_id, summary="x", start_time=1893456000, end_time=1893459600)
        )
        assert client.token_fetches == 1
    state_dir = tmp_path / "state"
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    token_file = state_dir / "token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert "emulator-secret" not in token_file.read_text()
    assert (state_dir / "wecom-emulator.json").exists()

    async with open_client(cfg) as again:
        [listed] = await again.schedule_list(cal_id)
        assert listed.summary == "x"
        assert again.token_fetches == 0  # the cached token is still good


async def test_http_backend_talks_to_base_url(
    tmp_path: Path, emulator_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WESYNC_CORPSECRET", "emulator-secret")
    cfg = config(tmp_path, {"corpid": "wwemulator", "base_url": emulator_server.url})
    async with open_client(cfg) as client:
        assert client.base_url == emulator_server.url
        await client.check_credentials()
    [gettoken] = emulator_server.admin("GET", "/_emulator/requests")["requests"]
    assert gettoken["path"] == "/cgi-bin/gettoken"
    assert gettoken["errcode"] == 0


def test_missing_secret_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WESYNC_CORPSECRET", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(ConfigError, match="corpsecret"):
        open_client(config(tmp_path, {"corpid": "wwx"}))
