"""Choosing variants: `wesync emulator --variant`, `[wecom] emulator_variants`, --help."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from tests.emulator.test_cli import start
from wesync.cli import cli
from wesync.config import load_config
from wesync.emulator import inprocess
from wesync.emulator.variants import CHOICES, Variants, parse_assignments
from wesync.errors import ConfigError
from wesync.wecom.connect import open_client


def test_variant_is_repeatable_and_listing_stays_an_alias() -> None:
    proc, url = start("--variant", "sequence=frozen", "--variant", "order=start-time",
                      "--variant", "daily-add-quota=3", "--listing", "full")
    try:
        shown = httpx.get(f"{url}/_emulator/config").json()["variants"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert shown == {**Variants().to_json(), "sequence": "frozen", "order": "start-time",
                     "daily-add-quota": 3, "listing": "full"}


def test_assignments_later_ones_win() -> None:
    chosen = parse_assignments(["get=partial", "get=all-or-nothing", "callbacks = all"])
    assert (chosen.get, chosen.callbacks) == ("all-or-nothing", "all")


@pytest.mark.parametrize(("args", "named"), [
    (["--variant", "sequence=sometimes"], "'sequence'"),
    (["--variant", "colour=red"], "'colour'"),
    (["--variant", "order"], "KEY=VALUE"),
    (["--variant", "daily-add-quota=-5"], "'daily-add-quota'"),
    (["--variant", "quota-errcode=lots"], "'quota-errcode'"),
    (["--variant", "listing=full", "--listing", "sample"], "contradicts"),
    (["--listing", "everything"], "--listing"),
])
def test_bad_variants_exit_2(args: list[str], named: str) -> None:
    result = CliRunner().invoke(cli, ["emulator", "--port", "0", *args])
    assert result.exit_code == 2, result.output
    assert named in result.output


def test_help_lists_every_key_and_value() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wesync", "emulator", "--help"], capture_output=True, text=True,
        timeout=30,
    )
    assert result.returncode == 0
    lines = [line.split() for line in result.stdout.splitlines()]
    for key, values in CHOICES.items():
        shown = " | ".join(values) if values else "a number (default"
        assert [key, *shown.split()] in [line[:len(shown.split()) + 1] for line in lines], key
    assert "--variant KEY=VALUE" in result.stdout


# --- [wecom] emulator_variants ------------------------------------------------------


def write(tmp_path: Path, wecom: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[wecom]\n{wecom}\n[state]\ndir = "st"\n', encoding="utf-8")
    return path


def test_config_variants_reach_the_in_process_emulator(tmp_path: Path) -> None:
    path = write(tmp_path, 'backend = "emulator"\n'
                 'emulator_variants = {sequence = "absent", get = "partial", '
                 '"daily-add-quota" = 5, "quota-errcode" = "45033"}')
    config = load_config(path)
    assert config.wecom.emulator_variants == (
        ("sequence", "absent"), ("get", "partial"), ("daily-add-quota", 5),
        ("quota-errcode", 45033))
    open_client(config)
    assert config.wecom.emulator_state is not None
    emulator = inprocess._shared[config.wecom.emulator_state.resolve()]
    assert emulator.variants == Variants(sequence="absent", get="partial",
                                         daily_add_quota=5, quota_errcode=45033)


def test_no_config_variants_means_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, 'backend = "emulator"')).wecom.emulator_variants == ()


@pytest.mark.parametrize(("line", "named"), [
    ('emulator_variants = {colour = "red"}', "'colour'"),
    ('emulator_variants = {order = "random"}', "'order'"),
    ('emulator_variants = {"daily-add-quota" = -1}', "'daily-add-quota'"),
    ('emulator_variants = {listing = true}', "'listing'"),
    ('emulator_variants = "sequence=frozen"', "'emulator_variants'"),
])
def test_bad_config_variants_name_file_and_key(tmp_path: Path, line: str, named: str) -> None:
    path = write(tmp_path, f'backend = "emulator"\n{line}')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and "[wecom]" in message and named in message


def test_config_variants_need_the_in_process_emulator(tmp_path: Path) -> None:
    path = write(tmp_path, 'corpid = "ww1"\ncorpsecret = "s"\n'
                 'emulator_variants = {sequence = "frozen"}')
    with pytest.raises(ConfigError, match="emulator_variants"):
        load_config(path)
