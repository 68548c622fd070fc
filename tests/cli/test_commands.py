"""The command line loads a command's module only when that command is asked for."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from wesync.cli import COMMAND_MODULES

CLI_DIR = Path(__file__).resolve().parents[2] / "wesync" / "cli"


def test_every_command_module_is_mapped_and_every_mapping_names_its_command() -> None:
    modules = sorted(p.stem for p in CLI_DIR.glob("*_cmd.py"))
    assert sorted(set(COMMAND_MODULES.values())) == modules
    for module in modules:
        defined = {c.name for c in importlib.import_module(f"wesync.cli.{module}").COMMANDS}
        mapped = {name for name, m in COMMAND_MODULES.items() if m == module}
        assert defined == mapped, module


def test_sync_loads_neither_the_emulator_nor_the_probe() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from wesync.cli import cli\n"
        "CliRunner().invoke(cli, ['sync', '--help'])\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('wesync'))))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "wesync.cli.sync_cmd" in loaded
    for module in ("wesync.cli.emulator_cmd", "wesync.cli.probe_cmd", "wesync.probe"):
        assert module not in loaded
