"""The baseline: how long vdirsyncer takes for a sync that has nothing to do.

    python -m bench.vdirsyncer_baseline [--events 10000 | --source DIR] [--repeat 3]

It installs nothing: when the `vdirsyncer` command is not on PATH (or next
to this Python), it says so and exits 0 with no figure. Otherwise it copies
the calendar folder twice into a temp dir, configures one vdir-to-vdir pair
over the copies, runs `discover` and the first sync (which records the status of every
item), then times `vdirsyncer sync` again with nothing changed: wall time
of the whole command, as a user or a systemd timer would see it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.generate import write_vdir


@dataclass(frozen=True)
class Baseline:
    events: int
    version: str
    first_sync_s: float
    noop_sync_s: tuple[float, ...]  #: one figure per repeat

    @property
    def noop_median_s(self) -> float:
        return statistics.median(self.noop_sync_s)


def find_vdirsyncer() -> str | None:
    beside = Path(sys.executable).parent / "vdirsyncer"
    if beside.exists():
        return str(beside)
    return shutil.which("vdirsyncer")


CONFIG = """\
[general]
status_path = "{root}/status/"

[pair bench]
a = "bench_a"
b = "bench_b"
collections = null
conflict_resolution = "a wins"

[storage bench_a]
type = "filesystem"
path = "{root}/a/"
fileext = ".ics"

[storage bench_b]
type = "filesystem"
path = "{root}/b/"
fileext = ".ics"
"""


def _run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return elapsed


def _status_items(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        row = db.execute("SELECT count(*) FROM status").fetchone()
    return int(row[0])


def run_baseline(exe: str, source: Path, workdir: Path, repeat: int = 3) -> Baseline:
    """Time vdirsyncer's first and no-op syncs of a pair over two copies of `source`."""
    root = workdir.resolve()
    shutil.copytree(source, root / "a")
    shutil.copytree(source, root / "b")
    config = root / "config"
    config.write_text(CONFIG.format(root=root))
    # A clean environment: no user config, no network proxy settings.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "VDIRSYNCER_CONFIG": str(config),
        "LANG": "C.UTF-8",
    }
    version = subprocess.run(
        [exe, "--version"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    # Even with `collections = null` vdirsyncer wants its discovery step once.
    _run([exe, "discover", "bench"], env)
    first = _run([exe, "sync"], env)
    events = sum(1 for p in (root / "a").iterdir() if p.suffix == ".ics")
    recorded = _status_items(root / "status" / "bench.items")
    if recorded != events:
        # A figure for a sync that did not cover every item would mean nothing.
        raise RuntimeError(
            f"vdirsyncer recorded {recorded} items after the first sync, not {events}"
        )
    noop = tuple(_run([exe, "sync"], env) for _ in range(repeat))
    return Baseline(events=events, version=version, first_sync_s=first, noop_sync_s=noop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time a no-op vdirsyncer sync")
    parser.add_argument("--events", type=int, default=10000, help="generate this many events")
    parser.add_argument("--source", type=Path, help="use this vdir instead of generating one")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    exe = find_vdirsyncer()
    if exe is None:
        print("vdirsyncer is not installed (pip install vdirsyncer); no baseline measured")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        source = args.source
        if source is None:
            source = Path(tmp) / "source"
            write_vdir(source, args.events)
        work = Path(tmp) / "work"
        work.mkdir()
        figures = run_baseline(exe, source, work, args.repeat)
    if args.json:
        print(json.dumps({**asdict(figures), "noop_median_s": figures.noop_median_s}))
    else:
        print(f"{figures.version}, {figures.events} events, vdir <-> vdir")
        print(f"first sync          {figures.first_sync_s:8.2f} s")
        runs = ", ".join(f"{s:.2f}" for s in figures.noop_sync_s)
        print(f"no-op sync (median) {figures.noop_median_s:8.2f} s   (runs: {runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
