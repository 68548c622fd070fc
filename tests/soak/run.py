"""`python -m tests.soak.run --cycles 500 --seed N`: the soak against a `wesync emulator` process.

Prints the figures (cycles, faults by kind, kills, mismatches) at the end;
exits 1 when a checkpoint found a mismatch or a sync crashed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.soak.harness import POLICIES, Soak


@contextmanager
def emulator_process(state: Path) -> Iterator[str]:
    """A `wesync emulator` on a free loopback port, keeping its data in `state` for a
    post-mortem; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wesync", "emulator", "--port", "0", "--state", str(state)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        url = None
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError(f"the emulator exited with {proc.returncode}")
            found = re.search(r"(http://[\d.]+:\d+)", line)
            url = found.group(1) if found else None
        if url is None:
            raise RuntimeError("the emulator did not announce its URL")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak.run", description=__doc__)
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--policy", choices=POLICIES, default="keep-both")
    parser.add_argument("--check-every", type=int, default=25)
    parser.add_argument("--kill-probability", type=float, default=0.25)
    parser.add_argument("--fault-probability", type=float, default=0.6)
    parser.add_argument("--url", help="use an emulator already running there")
    parser.add_argument("--workdir", type=Path, help="keep the folders here (default: a temp dir)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per cycle")
    parser.add_argument(
        "--worst",
        action="store_true",
        help="the emulator answers WeCom's open questions the worst way (tests/e2e WORST)",
    )
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        if args.verbose or any(w in message for w in ("MISMATCH", "history:", "REFUSED")):
            print(message, flush=True)

    with tempfile.TemporaryDirectory(prefix="wesync-soak-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        emulator = emulator_process(workdir / "emulator.json") if args.url is None else None
        with emulator or _given(args.url) as url:
            if args.worst:
                from tests.e2e.conftest import WORST

                httpx.post(f"{url}/_emulator/config", json={"variants": WORST}).raise_for_status()
            soak = Soak(
                url,
                workdir,
                seed=args.seed,
                policy=args.policy,
                kill_probability=args.kill_probability,
                fault_probability=args.fault_probability,
                check_every=args.check_every,
                log=log,
            )
            began = time.monotonic()
            try:
                figures = soak.run(args.cycles)
            finally:
                soak.close()
    print(f"seed: {args.seed}, policy: {args.policy}, {time.monotonic() - began:.0f} s")
    print(figures.text())
    return 1 if figures.mismatches or figures.crashes or figures.refused else 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    sys.exit(main())
