"""The shipped systemd units verify cleanly and keep a low exposure rating."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "systemd"
ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
SYSTEM_UNITS = next(
    (p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()),
    None,
)


def fake_root(tmp_path: Path) -> Path:
    """A root holding the units, the system's own units and a stand-in for the
    installed /usr/local/bin/wesync, so verify checks everything it can."""
    root = tmp_path / "root"
    (root / "usr/local/bin").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "etc/systemd/system").mkdir(parents=True)
    wesync = root / "usr/local/bin/wesync"
    wesync.write_text("#!/bin/sh\n")
    wesync.chmod(0o755)
    kill = shutil.which("kill") or "/bin/kill"
    shutil.copy(kill, root / "bin/kill")
    assert SYSTEM_UNITS is not None
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    for unit in UNITS.glob("wesync*"):
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
    return root


@pytest.mark.skipif(SYSTEM_UNITS is None, reason="no system unit directory")
def test_units_verify_clean(tmp_path: Path) -> None:
    assert ANALYZE is not None
    root = fake_root(tmp_path)
    names = sorted(p.name for p in UNITS.glob("wesync*"))
    assert names == ["wesync-sync.service", "wesync-sync.timer", "wesync.service"]
    result = subprocess.run(
        [ANALYZE, "verify", f"--root={root}", *names], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "" and result.stdout.strip() == ""


@pytest.mark.parametrize("unit", ["wesync.service", "wesync-sync.service"])
def test_exposure_is_at_most_2(unit: str) -> None:
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "security", "--offline=true", "--no-pager", str(UNITS / unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = result.stdout + result.stderr
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    assert m, out
    assert float(m.group(1)) <= 2.0, out


def test_service_has_the_promised_settings() -> None:
    text = (UNITS / "wesync.service").read_text()
    for line in [
        "Type=notify",
        "ExecStart=/usr/local/bin/wesync daemon",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "WatchdogSec=120s",
        "Restart=on-failure",
        "LoadCredential=corpsecret:/etc/wesync/corpsecret",
        "StateDirectory=wesync",
        "ConfigurationDirectory=wesync",
        "Environment=WESYNC_CONFIG=/etc/wesync/config.toml",
        "ProtectSystem=strict",
        "UMask=0077",
        "SystemCallFilter=@system-service",
    ]:
        assert line in text.splitlines(), line
