from __future__ import annotations

from pathlib import Path

import pytest

from wesync.config import (
    Backend,
    ConflictPolicy,
    Direction,
    Fallback,
    load_config,
    parse_duration,
    resolve_secret,
)
from wesync.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    p.chmod(0o600)
    return p


def test_minimal_config_gets_contract_defaults(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            """
[wecom]
corpid = "ww1"
corpsecret = "s3cret"
[[pairs]]
name = "team"
local = "cal"
cal_id = "wc1"
""",
        )
    )
    pair = cfg.pair("team")
    assert pair.local == tmp_path / "cal"
    assert pair.direction is Direction.TWO_WAY
    assert pair.conflict is ConflictPolicy.KEEP_BOTH
    assert pair.fallback is Fallback.EXPAND
    assert pair.expand_window_days == 365
    assert pair.default_timezone == "Asia/Shanghai"
    assert cfg.daemon.interval == 300
    assert cfg.wecom.backend is Backend.HTTP
    assert "s3cret" not in repr(cfg)


def test_unknown_key_is_named(tmp_path: Path) -> None:
    p = write(tmp_path, '[wecom]\ncorpid = "x"\ncorpsecert = "typo"\n')
    with pytest.raises(ConfigError, match="corpsecert"):
        load_config(p)


def test_bad_enum_names_choices(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        '[wecom]\nbackend="emulator"\n[[pairs]]\nname="a"\nlocal="x"\ncal_id="c"\n'
        'direction="sideways"\n',
    )
    with pytest.raises(ConfigError, match="two-way"):
        load_config(p)


def test_emulator_backend_needs_no_credentials(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[wecom]\nbackend = "emulator"\n[state]\ndir = "st"\n'))
    assert cfg.wecom.corpid == "wwemulator"
    assert cfg.wecom.emulator_state == tmp_path / "st" / "wecom-emulator.json"


@pytest.mark.parametrize(
    ("value", "seconds"), [(300, 300.0), ("30s", 30.0), ("5m", 300.0), ("1h", 3600.0)]
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value, where="x") == seconds


def test_duplicate_pair_names(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        '[wecom]\nbackend="emulator"\n'
        '[[pairs]]\nname="a"\nlocal="x"\ncal_id="c"\n[[pairs]]\nname="a"\nlocal="y"\ncal_id="d"\n',
    )
    with pytest.raises(ConfigError, match="used twice"):
        load_config(p)


def test_secret_order(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file\n")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "corpsecret").write_text("from-credential")
    p = write(
        tmp_path,
        f'[wecom]\ncorpid="ww"\ncorpsecret="from-config"\ncorpsecret_file="{secret_file}"\n',
    )
    cfg = load_config(p).wecom
    assert resolve_secret(cfg, {"CREDENTIALS_DIRECTORY": str(creds)}).reveal() == "from-credential"
    assert resolve_secret(cfg, {"WESYNC_CORPSECRET": "env"}).reveal() == "from-file"
    cfg2 = load_config(write(tmp_path, '[wecom]\ncorpid="ww"\ncorpsecret="from-config"\n')).wecom
    assert resolve_secret(cfg2, {"WESYNC_CORPSECRET": "env"}).reveal() == "env"
    assert resolve_secret(cfg2, {}).reveal() == "from-config"
