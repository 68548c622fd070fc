"""The end-to-end benchmark: wesync against the WeCom emulator over loopback.

    python -m bench.run [--sizes 1000,10000,50000] [--quick] [--json-out FILE]

For each size it generates a calendar (bench.generate), starts a separate
`wesync emulator` process (free loopback port, `--listing sample`, state in
memory) and runs `python -m wesync -c CFG sync --json` as a child process for:

    first      the first sync to WeCom (an empty calendar)
    noop-1st   the sync right after it (nothing changed)
    noop       a sync with nothing changed, median of --noop-repeat runs
    change     after 1% of the files were edited and 1% of the schedules were
               updated through the API by another client (schedule/update)
    noop-after a sync right after that (nothing should move)

Each is measured alone: wall time, CPU (user+sys) and peak RSS of the wesync
process from wait4, and the API calls by endpoint from the emulator's request
log (cleared before each run; gettoken apart). In these phases the quota is
set out of reach on both sides, so they measure wesync, not the quota; the
quota is measured on its own (see `rate_test`). The same run times vdirsyncer
(bench.vdirsyncer_baseline) on the same 10,000-event folder for the ratio.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.generate import write_vdir
from bench.harness import (
    ADD,
    ERR_RATE_LIMITED,
    UNBOUNDED_RATE,
    UPDATE,
    CallTimeline,
    EmulatorProcess,
    SyncRun,
    WeComAdmin,
    busiest_minute,
    compile_wesync,
    run_sync,
    update_body,
    windows,
    write_config,
)
from bench.vdirsyncer_baseline import find_vdirsyncer, run_baseline

DEFAULT_SIZES = (1000, 10000, 50000)
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "results.json"
PHASES = ("first", "noop-1st", "noop", "change", "noop-after")
CHANGED = 0.01  #: share of events edited locally and of schedules edited in WeCom
SUMMARY_MAX = 128
EVENT_INDEX = re.compile(r"#(\d+)$")
ENDPOINT_NAMES = {"schedule/get_by_calendar": "list", "schedule/get": "get",
                  "schedule/add": "add", "schedule/update": "update", "schedule/del": "del"}
#: the rate test: the limit is the first sync's schedule/add calls divided by
#: this, so the sync needs more than one minute's quota but less than two
RATE_SPLIT = 1.5

# Targets from issue 6; reported against, never asserted.
TARGET_NOOP_SIZE = 10000
TARGET_NOOP_CALLS = 11
TARGET_NOOP_WALL_S = 1.0
TARGET_RSS_SIZE = 50000
TARGET_RSS_MB = 200.0
TARGET_RATE_RATIO = 0.10


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- changes made between syncs ---------------------------------------------------------


def edit_local(folder: Path, events: int, rng: random.Random) -> set[int]:
    """Change the SUMMARY of 1% of the files (a content change WeCom holds).

    Written the way editors do (temp file, rename), so size, mtime and inode move.
    """
    chosen = set(rng.sample(range(events), max(1, round(events * CHANGED))))
    for i in sorted(chosen):
        path = folder / f"bench-{i:06d}@wesync.example.ics"
        data = path.read_bytes()
        edited = data.replace(b"\r\nSUMMARY:", b"\r\nSUMMARY:[edited] ", 1)
        if edited == data:
            raise RuntimeError(f"{path} has no SUMMARY to edit")
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(edited)
        tmp.replace(path)
    return chosen


def edit_remote(
    admin: WeComAdmin, cal_id: str, rng: random.Random, *, avoid: set[int]
) -> int:
    """Update the summary of 1% of the live schedules through the API, as another
    client would (gettoken, get, schedule/update), leaving alone the events edited
    locally so that the figures are of changes, not of conflicts."""
    live = [s for s in admin.list_schedules(cal_id) if s.get("status") != 1]
    candidates = []
    for schedule in live:
        match = EVENT_INDEX.search(schedule.get("summary", ""))
        if match is None or int(match.group(1)) not in avoid:
            candidates.append(schedule["schedule_id"])
    count = min(len(candidates), max(1, round(len(live) * CHANGED)))
    chosen = sorted(rng.sample(candidates, count))
    # the listing (sample mode) lacks fields an update would otherwise reset
    for schedule in admin.get_schedules(chosen):
        summary = f"{schedule.get('summary', '')} (edited in WeCom)"[-SUMMARY_MAX:]
        admin.call(UPDATE, update_body(schedule, summary))
    return count


# --- one calendar size -----------------------------------------------------------------


def phase_json(run: SyncRun, events: int) -> dict[str, Any]:
    per = events / 1000
    total_calls = run.api_calls + run.gettoken
    return {
        **run.to_json(),
        "per_1000_events": {
            "wall_s": run.wall_s / per,
            "cpu_s": run.cpu_s / per,
            "api_calls": total_calls / per,
        },
    }


def bench_size(
    events: int,
    workdir: Path,
    *,
    noop_repeat: int,
    vdirsyncer: str | None,
    vdirsyncer_repeat: int,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Every phase for one calendar size; and the vdirsyncer baseline when asked."""
    root = workdir / f"size-{events}"
    root.mkdir()
    local = root / "calendar"
    started = time.perf_counter()
    size_bytes = write_vdir(local, events)
    log(f"{events} events: generated {size_bytes / 1e6:.1f} MB "
        f"in {time.perf_counter() - started:.1f} s")
    baseline: dict[str, Any] | None = None
    if vdirsyncer is not None:
        # before wesync touches the folder, so both tools start from the same bytes
        log(f"{events} events: vdirsyncer baseline")
        work = root / "vdirsyncer"
        work.mkdir()
        figures = run_baseline(vdirsyncer, local, work, vdirsyncer_repeat)
        shutil.rmtree(work)
        baseline = {
            "events": figures.events,
            "version": figures.version,
            "first_sync_s": figures.first_sync_s,
            "noop_sync_s": list(figures.noop_sync_s),
            "noop_median_s": figures.noop_median_s,
        }

    result: dict[str, Any] = {"events": events, "bytes": size_bytes, "phases": {}}
    phases = result["phases"]
    rng = random.Random(events)
    with EmulatorProcess(root) as emulator:
        admin = WeComAdmin(emulator.url)
        try:
            cal_id = admin.create_calendar(f"bench {events}")
            config = write_config(
                root / "config.toml",
                url=emulator.url,
                cal_id=cal_id,
                local=local,
                state=root / "state",
                rate_limit=UNBOUNDED_RATE,
            )

            def measure(name: str) -> SyncRun:
                run = run_sync(config, admin, root)
                log(f"{events} events: {name}: {run.wall_s:.2f} s wall, "
                    f"{run.api_calls + run.gettoken} calls")
                return run

            phases["first"] = phase_json(measure("first"), events)
            result["schedules"] = sum(
                1 for s in admin.list_schedules(cal_id) if s.get("status") != 1
            )
            phases["noop-1st"] = phase_json(measure("noop-1st"), events)
            runs = [measure("noop") for _ in range(noop_repeat)]
            median = sorted(runs, key=lambda r: r.wall_s)[(len(runs) - 1) // 2]
            phases["noop"] = {
                **phase_json(median, events),
                "runs_wall_s": [r.wall_s for r in runs],
            }
            edited = edit_local(local, events, rng)
            remote = edit_remote(admin, cal_id, rng, avoid=edited)
            phases["change"] = {
                **phase_json(measure("change"), events),
                "local_edits": len(edited),
                "remote_edits": remote,
            }
            phases["noop-after"] = phase_json(measure("noop-after"), events)
        finally:
            admin.close()
    return result, baseline


# --- the quota ------------------------------------------------------------------------


def rate_test(workdir: Path, events: int) -> dict[str, Any]:
    """Achieved schedule/add calls per minute when the quota is the bound.

    A first, unthrottled sync of the same calendar counts the schedule/add calls
    (A) the first sync needs. The limit L is then A / 1.5 on both sides (the
    emulator's --rate-limit and wesync's [wecom] rate_limit), so the measured
    first sync must wait for a second minute's quota and lasts just over 60 s.

    A sliding window lets L calls go at once and the next L a minute later, so
    calls per elapsed minute over such a short run says little. What shows
    whether the pipe is kept full is how long L consecutive calls take: for
    every run of L+1 consecutive adds, the span from the first to the last.
    A client that uses all its quota and resumes at once needs 60 s for each;
    achieved = L * 60 / mean(span) calls per minute.
    """
    root = workdir / "rate"
    root.mkdir()
    probe_local, local = root / "probe-calendar", root / "calendar"
    write_vdir(probe_local, events)
    write_vdir(local, events)

    with EmulatorProcess(root) as emulator:
        admin = WeComAdmin(emulator.url)
        try:
            config = write_config(
                root / "probe.toml", url=emulator.url, cal_id=admin.create_calendar("probe"),
                local=probe_local, state=root / "probe-state", rate_limit=UNBOUNDED_RATE,
            )
            probe = run_sync(config, admin, root)
        finally:
            admin.close()
    needed = probe.calls.get("schedule/add", 0)
    limit = max(1, int(needed / RATE_SPLIT))
    log(f"rate: the first sync of {events} events needs {needed} schedule/add calls; "
        f"limit {limit}/min")

    with EmulatorProcess(root, rate_limit=limit) as emulator:
        admin = WeComAdmin(emulator.url)
        try:
            config = write_config(
                root / "config.toml", url=emulator.url, cal_id=admin.create_calendar("rate"),
                local=local, state=root / "state", rate_limit=limit,
            )
            timeline = CallTimeline(emulator.url)
            run = run_sync(config, admin, root, timeline=timeline)
        finally:
            admin.close()
    times = timeline.times.get(ADD, [])
    spans = list(windows(times, limit))
    achieved = limit * 60 / statistics.fmean(spans) if spans else None
    add_phase = times[-1] - times[0] if len(times) > 1 else 0.0
    result = {
        "events": events,
        "limit_per_min": limit,
        "adds": len(times),
        "adds_unthrottled_probe": needed,
        "sync_wall_s": run.wall_s,
        "add_phase_s": add_phase,
        "span_of_limit_calls_s": {
            "mean": statistics.fmean(spans) if spans else None,
            "min": min(spans) if spans else None,
            "max": max(spans) if spans else None,
            "runs": len(spans),
        },
        "achieved_per_min": achieved,
        "ratio_to_limit": achieved / limit if achieved else None,
        "busiest_60s_adds": busiest_minute(times),
        "rate_limited_answers": timeline.errcodes.get((ADD, ERR_RATE_LIMITED), 0),
        "calls": run.calls,
        "errcodes": run.errcodes,
        "poll_interval_s": timeline.interval,
    }
    log(f"rate: {len(times)} adds in {add_phase:.1f} s, achieved "
        f"{achieved or 0:.0f}/min against {limit}/min")
    return result


# --- report ---------------------------------------------------------------------------


def targets(sizes: dict[str, Any], ratio: float | None, rate: dict[str, Any] | None
            ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, target: str, measured: float | None, met: bool | None) -> None:
        out.append({"name": name, "target": target, "measured": measured, "met": met})

    noop = sizes.get(str(TARGET_NOOP_SIZE), {}).get("phases", {}).get("noop")
    calls = noop["api_calls"] + noop["gettoken"] if noop else None
    add("no-op sync of 10,000 events: API calls", f"<= {TARGET_NOOP_CALLS}",
        calls, None if calls is None else calls <= TARGET_NOOP_CALLS)
    wall = noop["wall_s"] if noop else None
    add("no-op sync of 10,000 events: wall time (s)", f"< {TARGET_NOOP_WALL_S}",
        wall, None if wall is None else wall < TARGET_NOOP_WALL_S)
    big = sizes.get(str(TARGET_RSS_SIZE))
    rss = max(p["peak_rss_mb"] for p in big["phases"].values()) if big else None
    add("peak RSS at 50,000 events (MB)", f"< {TARGET_RSS_MB:.0f}",
        rss, None if rss is None else rss < TARGET_RSS_MB)
    add("no-op: wesync / vdirsyncer wall time (10,000 events)", "<= 1", ratio,
        None if ratio is None else ratio <= 1)
    got = rate.get("ratio_to_limit") if rate else None
    add("schedule/add per minute / limit, quota-bound first sync",
        f"1 +/- {TARGET_RATE_RATIO:.0%}", got,
        None if got is None else abs(got - 1) <= TARGET_RATE_RATIO)
    return out


def linearity(sizes: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per phase: cost per 1,000 events at the largest size / at the smallest.
    1.0 is linear; above it, cost grows faster than the calendar."""
    measured = sorted(sizes.values(), key=lambda s: s["events"])
    if len(measured) < 2:
        return {}
    small, large = measured[0], measured[-1]
    out: dict[str, dict[str, float]] = {}
    for phase in PHASES:
        a, b = small["phases"][phase]["per_1000_events"], large["phases"][phase]["per_1000_events"]
        out[phase] = {k: (b[k] / a[k] if a[k] else float("nan")) for k in ("wall_s", "cpu_s")}
    return out


def _calls_text(phase: dict[str, Any]) -> str:
    parts = [f"{ENDPOINT_NAMES.get(path, path)} {n}" for path, n in phase["calls"].items()]
    if phase["gettoken"]:
        parts.append(f"gettoken {phase['gettoken']}")
    if phase["errcodes"]:
        parts.append("errors " + ", ".join(f"{k}x{v}" for k, v in phase["errcodes"].items()))
    return ", ".join(parts) or "-"


def print_report(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    # wide enough for the table even when the output goes to a file
    console = Console(highlight=False, width=max(Console().width, 170))
    table = Table(title="wesync sync against the emulator (loopback)", title_justify="left")
    for column in ("events", "schedules", "phase", "wall s", "cpu s", "peak RSS MB",
                   "calls", "calls by endpoint", "wall/1k", "cpu/1k", "calls/1k"):
        table.add_column(column, justify="left" if column == "calls by endpoint" else "right")
    for size in results["sizes"].values():
        for name, phase in size["phases"].items():
            per = phase["per_1000_events"]
            table.add_row(
                f"{size['events']:,}", f"{size.get('schedules', 0):,}", name,
                f"{phase['wall_s']:.2f}", f"{phase['cpu_s']:.2f}", f"{phase['peak_rss_mb']:.0f}",
                f"{phase['api_calls'] + phase['gettoken']:,}", _calls_text(phase),
                f"{per['wall_s']:.3f}", f"{per['cpu_s']:.3f}", f"{per['api_calls']:.1f}",
            )
        table.add_section()
    console.print(table)

    vds = results["vdirsyncer"]
    if vds.get("skipped"):
        console.print(f"vdirsyncer: skipped ({vds['skipped']})")
    else:
        console.print(
            f"vdirsyncer ({vds['version']}), {vds['events']:,} events vdir<->vdir: first sync "
            f"{vds['first_sync_s']:.2f} s, no-op {vds['noop_median_s']:.2f} s (median of "
            f"{len(vds['noop_sync_s'])}); wesync no-op / vdirsyncer no-op = "
            f"{results['noop_ratio_vs_vdirsyncer']:.2f}"
        )
    rate = results["rate_limit"]
    if rate.get("skipped"):
        console.print(f"quota-bound throughput: skipped ({rate['skipped']})")
    else:
        span = rate["span_of_limit_calls_s"]
        achieved = rate["achieved_per_min"]
        console.print(
            f"quota-bound first sync ({rate['events']} events, limit {rate['limit_per_min']} "
            f"schedule/add a minute on both sides): {rate['adds']} adds in "
            f"{rate['add_phase_s']:.1f} s; {rate['limit_per_min']} consecutive adds take "
            f"{span['mean'] or 0:.1f} s on average (min {span['min'] or 0:.1f}, "
            f"max {span['max'] or 0:.1f}); achieved {achieved or 0:.0f}/min = "
            f"{rate['ratio_to_limit'] or 0:.2f} x the limit; busiest 60 s: "
            f"{rate['busiest_60s_adds']} adds; 45009 answers: {rate['rate_limited_answers']}"
        )
    lin = results["linearity"]
    if lin:
        console.print("cost per 1,000 events, largest size / smallest (1.0 = linear): " + "; ".join(
            f"{phase} wall {v['wall_s']:.2f} cpu {v['cpu_s']:.2f}" for phase, v in lin.items()
        ))
    ttable = Table(title="targets (reported, not asserted)", title_justify="left")
    for column in ("target", "wanted", "measured", "met"):
        ttable.add_column(column)
    for t in results["targets"]:
        measured = t["measured"]
        ttable.add_row(
            t["name"], t["target"],
            "not measured" if measured is None else f"{measured:,.2f}".rstrip("0").rstrip("."),
            "-" if t["met"] is None else ("yes" if t["met"] else "NO"),
        )
    console.print(ttable)


# --- command line ---------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(x.replace("_", "")) for x in text.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list like 1000,10000") from None
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError("sizes must be at least 100 events")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="wesync end-to-end benchmark")
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES),
                        help="calendar sizes in events, comma-separated (default 1000,10000,50000)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1,000 events, one no-op repeat, "
                        "no vdirsyncer, no quota test")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_OUT,
                        help=f"where to write the figures (default {DEFAULT_OUT})")
    parser.add_argument("--noop-repeat", type=int, default=3)
    parser.add_argument("--no-vdirsyncer", action="store_true")
    parser.add_argument("--rate-events", type=int, default=300,
                        help="events in the quota-bound first sync (default 300)")
    parser.add_argument("--no-rate", action="store_true", help="skip the quota-bound test")
    parser.add_argument("--workdir", type=Path,
                        help="keep calendars, configs and state here (default: a temp dir)")
    args = parser.parse_args(argv)
    if compile_wesync():
        log("could not byte-compile wesync: runs include compiling it")
    sizes: list[int] = [1000] if args.quick else args.sizes
    noop_repeat = 1 if args.quick else max(1, args.noop_repeat)

    vdirsyncer: str | None = None
    vds_size = TARGET_NOOP_SIZE if TARGET_NOOP_SIZE in sizes else max(sizes)
    skipped_vds: str | None = None
    if args.quick or args.no_vdirsyncer:
        skipped_vds = "--quick" if args.quick else "--no-vdirsyncer"
    else:
        vdirsyncer = find_vdirsyncer()
        if vdirsyncer is None:
            skipped_vds = "vdirsyncer is not installed (pip install vdirsyncer); no ratio"
            log(skipped_vds)

    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="wesync-bench-")
        workdir = Path(tmp.name)
    else:
        workdir = args.workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    try:
        results: dict[str, Any] = {
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": _cpus(),
            },
            "settings": {
                "sizes": sizes,
                "noop_repeat": noop_repeat,
                "changed_share": CHANGED,
                "listing": "sample",
                "rate_limit_in_phases": UNBOUNDED_RATE,
            },
            "sizes": {},
        }
        baseline: dict[str, Any] | None = None
        for events in sizes:
            result, found = bench_size(
                events, workdir, noop_repeat=noop_repeat,
                vdirsyncer=vdirsyncer if events == vds_size else None, vdirsyncer_repeat=3,
            )
            results["sizes"][str(events)] = result
            baseline = baseline or found
        results["vdirsyncer"] = baseline or {"skipped": skipped_vds}
        ratio = None
        if baseline is not None:
            noop = results["sizes"][str(vds_size)]["phases"]["noop"]["wall_s"]
            ratio = noop / baseline["noop_median_s"]
        results["noop_ratio_vs_vdirsyncer"] = ratio
        if args.quick or args.no_rate:
            results["rate_limit"] = {"skipped": "--quick" if args.quick else "--no-rate"}
        else:
            results["rate_limit"] = rate_test(workdir, args.rate_events)
        results["linearity"] = linearity(results["sizes"])
        results["targets"] = targets(
            results["sizes"], ratio,
            None if results["rate_limit"].get("skipped") else results["rate_limit"],
        )
    finally:
        if tmp is not None:
            tmp.cleanup()
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_report(results)
    print(f"figures written to {args.json_out}")
    return 0


def _cpus() -> int | None:
    import os

    return os.cpu_count()


if __name__ == "__main__":
    sys.exit(main())
