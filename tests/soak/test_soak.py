"""The soak in the test suite: a short fixed-seed run always, the long one on request."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.soak.harness import Soak


def _soak(server: Any, tmp_path: Path, *, cycles: int, seed: int, policy: str) -> None:
    soak = Soak(server.url, tmp_path, seed=seed, policy=policy, check_every=cycles // 2 or 1)
    try:
        figures = soak.run(cycles)
    finally:
        soak.close()
    print(figures.text())
    assert figures.cycles == cycles
    # the run must have exercised what it is there to exercise
    assert sum(figures.faults.values()) > 0 and figures.syncs > cycles
    assert not figures.crashes, figures.text()
    assert not figures.mismatches, figures.text()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("policy", ["keep-both", "wecom-wins"])
def test_short_soak(emulator_server: Any, tmp_path: Path, policy: str) -> None:
    _soak(emulator_server, tmp_path, cycles=24, seed=20261122, policy=policy)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.skipif(os.environ.get("WESYNC_SLOW") != "1", reason="set WESYNC_SLOW=1")
@pytest.mark.parametrize("policy", ["keep-both", "wecom-wins", "local-wins"])
def test_long_soak(emulator_server: Any, tmp_path: Path, policy: str) -> None:
    seed = int(os.environ.get("WESYNC_SOAK_SEED", "7"))
    cycles = int(os.environ.get("WESYNC_SOAK_CYCLES", "500"))
    _soak(emulator_server, tmp_path, cycles=cycles, seed=seed, policy=policy)
