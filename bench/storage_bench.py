"""Time the local storages on generated calendars and print the figures.

    python -m bench.storage_bench [--events 10000] [--repeat 5] [--workdir DIR]

For a vdir of N files: `list()` (the whole cost of a no-op sync on the local
side: stat calls only) and `get()` of every file. For one .ics file of N
events: open + `list()` (read and split once), `get()` of every event, and
one update + `flush()` (a full atomic rewrite).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.generate import write_single_file, write_vdir
from wesync.storage import SingleFileStorage, VdirStorage


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best, median) wall time in seconds over `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def report(label: str, figures: tuple[float, float]) -> None:
    best, median = figures
    print(f"{label:<48} best {best * 1000:9.1f} ms   median {median * 1000:9.1f} ms")


def bench_vdir(folder: Path, repeat: int) -> None:
    storage = VdirStorage(folder)
    count = sum(1 for _ in storage.list())
    report(f"vdir list() of {count} files", timed(lambda: list(storage.list()), repeat))

    def get_all() -> None:
        for href, _ in storage.list():
            storage.get(href)

    report(f"vdir list() + get() of {count} files", timed(get_all, max(1, repeat // 2)))


def bench_single(path: Path, repeat: int) -> None:
    count = sum(1 for _ in SingleFileStorage(path).list())
    report(
        f"single file: open + list() of {count} events",
        timed(lambda: list(SingleFileStorage(path).list()), repeat),
    )

    def get_all() -> None:
        storage = SingleFileStorage(path)
        for href, _ in storage.list():
            storage.get(href)

    report(f"single file: open + get() of {count} events", timed(get_all, repeat))
    summary = 0

    def update_one() -> None:
        nonlocal summary
        storage = SingleFileStorage(path)
        href, etag = next(iter(storage.list()))
        data, _ = storage.get(href)
        summary += 1
        new = data.replace(b"SUMMARY:", f"SUMMARY:[{summary}] ".encode(), 1)
        storage.update(href, new, etag)
        storage.flush()

    report(f"single file: update 1 of {count} + flush()", timed(update_one, repeat))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time the local storages")
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, help="where to generate (default: a temp dir)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        root = Path(tmp)
        write_vdir(root / "vdir", args.events)
        write_single_file(root / "single.ics", args.events)
        bench_vdir(root / "vdir", args.repeat)
        bench_single(root / "single.ics", args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
