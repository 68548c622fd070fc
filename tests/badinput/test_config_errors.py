"""A config with a mistake: `wesync sync` exits 2 with a message naming the file and the key.

Every case starts from one valid config and changes one thing, so a case that
passes for the wrong reason (some other key being wrong) cannot hide.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from wesync.cli import cli

GOOD_WECOM = """[wecom]
corpid = "wwemulator"
corpsecret = "emulator-secret"
base_url = "http://127.0.0.1:9"
"""
GOOD_PAIR = """[[pairs]]
name = "team"
local = "cal"
cal_id = "wcAAAA"
"""
GOOD = GOOD_WECOM + '[state]\ndir = "state"\n[daemon]\ninterval = "5m"\n' + GOOD_PAIR
KEY43 = "A" * 43


def _edit(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


#: id -> (config text, what the message must name besides the file)
CASES: dict[str, tuple[str, list[str]]] = {
    "not-toml": ("[wecom\ncorpid = ", ["not valid TOML"]),
    "not-toml-value": (_edit('dir = "state"', "dir = state"), ["not valid TOML"]),
    "unknown-top-key": (GOOD + "colour = 1\n", ["'colour'"]),
    "unknown-top-table": (
        GOOD.replace("[[pairs]]", "[logging]\nlevel = 1\n[[pairs]]"),
        ["'logging'"],
    ),
    "unknown-wecom-key": (_edit("[wecom]\n", "[wecom]\ncorp_id = 'x'\n"), ["'corp_id'", "[wecom]"]),
    "unknown-state-key": (
        _edit('dir = "state"', 'directory = "state"'),
        ["'directory'", "[state]"],
    ),
    "unknown-daemon-key": (
        _edit('interval = "5m"', 'intervall = "5m"'),
        ["'intervall'", "[daemon]"],
    ),
    "unknown-callback-key": (
        _edit(
            '[daemon]\ninterval = "5m"\n',
            '[daemon]\ninterval = "5m"\n[daemon.callback]\nlisten = "127.0.0.1:8080"\n'
            f'token = "abc"\nencoding_aes_key = "{KEY43}"\naes_key = "x"\n',
        ),
        ["'aes_key'", "callback"],
    ),
    "unknown-pair-key": (
        _edit('cal_id = "wcAAAA"', 'cal_id = "wcAAAA"\ncalid = "wcAAAA"'),
        ["'calid'"],
    ),
    "unknown-pair-key-named": (GOOD + "colour = 'red'\n", ["'colour'", "team"]),
    "wrong-type-window": (GOOD + 'expand_window_days = "365"\n', ["'expand_window_days'"]),
    "wrong-type-rate": (_edit("[wecom]\n", '[wecom]\nrate_limit = "fast"\n'), ["'rate_limit'"]),
    "wrong-type-corpid": (_edit('corpid = "wwemulator"', "corpid = 42"), ["'corpid'"]),
    "wrong-type-pairs": (GOOD.replace(GOOD_PAIR, 'pairs = "team"\n'), ["'pairs'"]),
    "wrong-type-state": (_edit('[state]\ndir = "state"\n', 'state = "here"\n'), ["'state'"]),
    "wrong-type-users": (GOOD + '[pairs.users]\n"a@example.com" = 7\n', ["a@example.com"]),
    "bad-enum-direction": (GOOD + 'direction = "both"\n', ["'direction'", "two-way"]),
    "bad-enum-conflict": (GOOD + 'conflict = "newest"\n', ["'conflict'", "keep-both"]),
    "bad-enum-fallback": (GOOD + 'fallback = "drop"\n', ["'fallback'", "expand"]),
    "bad-enum-backend": (_edit("[wecom]\n", '[wecom]\nbackend = "mock"\n'), ["'backend'"]),
    "bad-duration-words": (_edit('interval = "5m"', 'interval = "5 minutes"'), ["interval"]),
    "bad-duration-negative": (_edit('interval = "5m"', "interval = -3"), ["interval"]),
    "bad-duration-unit": (_edit('interval = "5m"', 'interval = "5w"'), ["interval"]),
    "bad-duration-timeout": (_edit("[wecom]\n", '[wecom]\ntimeout = "soon"\n'), ["timeout"]),
    "bad-pair-name": (_edit('name = "team"', 'name = "my team"'), ["my team"]),
    "bad-pair-name-slash": (_edit('name = "team"', 'name = "../team"'), ["../team"]),
    "duplicate-pair": (GOOD + GOOD_PAIR, ["'team'", "twice"]),
    "missing-cal-id": (_edit('cal_id = "wcAAAA"\n', ""), ["'cal_id'"]),
    "missing-local": (_edit('local = "cal"\n', ""), ["'local'"]),
    "missing-name": (_edit('name = "team"\n', ""), ["'name'"]),
    "missing-corpid": (_edit('corpid = "wwemulator"\n', ""), ["'corpid'"]),
    "unknown-timezone": (GOOD + 'default_timezone = "Mars/Olympus_Mons"\n', ["'default_timezone'"]),
    "bad-base-url-scheme": (_edit("http://127.0.0.1:9", "ftp://127.0.0.1:9"), ["'base_url'"]),
    "bad-base-url-bare": (_edit("http://127.0.0.1:9", "qyapi.weixin.qq.com"), ["'base_url'"]),
    "bad-health-listen": (
        _edit('interval = "5m"', 'health_listen = "localhost"'),
        ["health_listen"],
    ),
    "bad-callback-token": (
        _edit(
            '[daemon]\ninterval = "5m"\n',
            '[daemon]\n[daemon.callback]\nlisten = "127.0.0.1:8080"\n'
            f'token = "not a token!"\nencoding_aes_key = "{KEY43}"\n',
        ),
        ["'token'"],
    ),
    "bad-callback-key": (
        _edit(
            '[daemon]\ninterval = "5m"\n',
            '[daemon]\n[daemon.callback]\nlisten = "127.0.0.1:8080"\n'
            'token = "abc"\nencoding_aes_key = "short"\n',
        ),
        ["'encoding_aes_key'"],
    ),
    "missing-callback-token": (
        _edit(
            '[daemon]\ninterval = "5m"\n',
            '[daemon]\n[daemon.callback]\nlisten = "127.0.0.1:8080"\n'
            f'encoding_aes_key = "{KEY43}"\n',
        ),
        ["'token'"],
    ),
}


def _sync(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-c", str(config), "sync", "--json", *args])
    return result.exit_code, result.stderr


@pytest.fixture(autouse=True)
def _no_outside_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WESYNC_CORPSECRET", "CREDENTIALS_DIRECTORY", "WESYNC_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_the_base_config_is_valid(tmp_path: Path) -> None:
    """The cases each change one thing in this config; it must itself load."""
    from wesync.config import load_config

    path = tmp_path / "wesync.toml"
    path.write_text(GOOD)
    assert load_config(path).pair("team").cal_id == "wcAAAA"


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_mistake_exits_2_naming_file_and_key(tmp_path: Path, case: str) -> None:
    text, names = CASES[case]
    path = tmp_path / "wesync.toml"
    path.write_text(text)
    path.chmod(0o600)
    code, stderr = _sync(path)
    assert code == 2, (code, stderr)
    assert str(path) in stderr, stderr
    for name in names:
        assert name in stderr, (name, stderr)
    assert "Traceback" not in stderr
    # nothing was started: no state directory, no token cache
    assert not (tmp_path / "state").exists()


def test_missing_secret_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "wesync.toml"
    path.write_text(_edit('corpsecret = "emulator-secret"', 'corpsecret_file = "secret.txt"'))
    code, stderr = _sync(path)
    assert code == 2, stderr
    assert str(tmp_path / "secret.txt") in stderr and "secret" in stderr


def test_empty_secret_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("\n")
    path = tmp_path / "wesync.toml"
    path.write_text(_edit('corpsecret = "emulator-secret"', 'corpsecret_file = "secret.txt"'))
    code, stderr = _sync(path)
    assert code == 2, stderr
    assert str(tmp_path / "secret.txt") in stderr and "empty" in stderr


def test_unknown_pair_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "wesync.toml"
    path.write_text(GOOD)
    path.chmod(0o600)
    code, stderr = _sync(path, "team", "nosuch")
    assert code == 2, stderr
    assert "'nosuch'" in stderr and "team" in stderr


def test_missing_config_file(tmp_path: Path) -> None:
    code, stderr = _sync(tmp_path / "absent.toml")
    assert code == 2
    assert str(tmp_path / "absent.toml") in stderr


def test_config_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "wesync.toml"
    path.write_bytes(GOOD.replace("team", "t\xe9am").encode("latin-1"))
    code, stderr = _sync(path)
    assert code == 2, stderr
    assert str(path) in stderr


@pytest.mark.parametrize(
    "value",
    [
        "0",
        '"0s"',
        "-1",
        '""',
        "false",
    ],
)
def test_interval_that_is_not_a_positive_duration(tmp_path: Path, value: str) -> None:
    path = tmp_path / "wesync.toml"
    path.write_text(_edit('interval = "5m"', f"interval = {value}"))
    path.chmod(0o600)
    code, stderr = _sync(path)
    assert code == 2, (value, stderr)
    assert "interval" in stderr and str(path) in stderr


def test_no_secret_anywhere_names_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "wesync.toml"
    path.write_text(_edit('corpsecret = "emulator-secret"\n', ""))
    code, stderr = _sync(path)
    assert code == 2, stderr
    assert re.search(r"corpsecret", stderr), stderr
    assert str(path) in stderr, stderr
