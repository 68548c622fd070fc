"""Where the corpsecret comes from, in which order, and the warning for readable configs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from wesync.cli import cli
from wesync.config import load_config, resolve_secret, warn_if_secret_exposed
from wesync.errors import ConfigError

CALLBACK = (
    '[daemon.callback]\nlisten = "127.0.0.1:18080"\ntoken = "tok"\n'
    'encoding_aes_key = "4Ma3YBrSBbX2aez8MJpXGBne5LSDwgGqHbhM9WPYIws"\n'
)


def config(tmp_path: Path, body: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[wecom]\ncorpid = "ww1"\n' + body)
    path.chmod(mode)
    return path


def test_order_credential_then_file_then_env_then_config(tmp_path: Path) -> None:
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "corpsecret").write_text("from-credential\n")
    (tmp_path / "secret.txt").write_text("from-file\n")
    cfg = load_config(
        config(tmp_path, 'corpsecret = "from-config"\ncorpsecret_file = "secret.txt"\n')
    ).wecom
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path / "creds"), "WESYNC_CORPSECRET": "from-env"}
    assert resolve_secret(cfg, env).reveal() == "from-credential"
    # a credentials directory without our credential is skipped
    env["CREDENTIALS_DIRECTORY"] = str(tmp_path)
    assert resolve_secret(cfg, env).reveal() == "from-file"
    no_file = load_config(config(tmp_path, 'corpsecret = "from-config"\n')).wecom
    assert resolve_secret(no_file, env).reveal() == "from-env"
    assert resolve_secret(no_file, {}).reveal() == "from-config"
    nothing = load_config(config(tmp_path, "")).wecom
    with pytest.raises(ConfigError, match="no corpsecret"):
        resolve_secret(nothing, {})


def test_unreadable_secret_file_is_a_config_error(tmp_path: Path) -> None:
    cfg = load_config(config(tmp_path, 'corpsecret_file = "missing.txt"\n')).wecom
    with pytest.raises(ConfigError, match=r"missing\.txt"):
        resolve_secret(cfg, {})


@pytest.mark.parametrize(
    ("body", "mode", "warns"),
    [
        ('corpsecret = "s3cret-value"\n', 0o644, True),
        ('corpsecret = "s3cret-value"\n', 0o600, False),
        ('corpsecret_file = "/etc/wesync/corpsecret"\n' + CALLBACK, 0o640, True),
        ('corpsecret_file = "/etc/wesync/corpsecret"\n', 0o644, False),
    ],
)
def test_warning_when_a_config_with_secrets_is_readable(
    tmp_path: Path, body: str, mode: int, warns: bool
) -> None:
    path = config(tmp_path, body, mode)
    warning = warn_if_secret_exposed(load_config(path))
    assert (warning is not None) == warns
    if warning:
        assert f"chmod 600 {path}" in warning
        assert "s3cret-value" not in warning


def test_every_command_prints_the_warning(tmp_path: Path) -> None:
    path = config(tmp_path, 'corpsecret = "s3cret-value"\nbase_url = "http://127.0.0.1:9"\n', 0o644)
    # no pairs: `calendars list` needs no API call, only the config and the secret
    result = CliRunner().invoke(cli, ["-c", str(path), "calendars", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert "is readable by other users" in result.stderr
    assert "s3cret-value" not in result.output
