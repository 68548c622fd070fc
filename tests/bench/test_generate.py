from __future__ import annotations

import collections
import shutil
from pathlib import Path

import icalendar
import pytest
from dateutil.rrule import rrulestr

from bench import vdirsyncer_baseline
from bench.generate import fold, write_single_file, write_vdir
from wesync.storage import SingleFileStorage, VdirStorage


def features(folder: Path) -> collections.Counter[str]:
    seen: collections.Counter[str] = collections.Counter()
    for path in sorted(folder.iterdir()):
        events = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
        master = events[0]
        assert path.name == f"{master['UID']}.ics"
        assert {str(e["UID"]) for e in events} == {str(master["UID"])}
        seen["override"] += len(events) - 1
        start = master.decoded("DTSTART")
        if not hasattr(start, "hour"):
            seen["all-day"] += 1
        elif str(start.tzinfo) == "UTC":
            seen["utc"] += 1
        else:
            seen[str(start.tzinfo)] += 1
        if "RRULE" in master:
            rule = master["RRULE"]
            seen[f"freq {rule['FREQ'][0]}"] += 1
            if "BYDAY" in rule:
                seen["byday"] += 1
            for override in events[1:]:
                # every override replaces a real occurrence of the series
                series = rrulestr(rule.to_ical().decode(), dtstart=start, forceset=True)
                original = override.decoded("RECURRENCE-ID")
                assert series.before(original, inc=True) == original
        seen["exdate"] += "EXDATE" in master
        seen["alarm"] += bool(master.walk("VALARM"))
        attendees = master.get("ATTENDEE", [])
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert all(str(a).startswith("mailto:user") for a in attendees)
        seen["attendees"] += bool(attendees)
    return seen


def test_generated_vdir_has_the_promised_mix(tmp_path: Path) -> None:
    write_vdir(tmp_path / "cal", 400, seed=7)
    seen = features(tmp_path / "cal")
    for feature in (
        "override",
        "all-day",
        "utc",
        "Asia/Shanghai",
        "exdate",
        "alarm",
        "attendees",
        "byday",
        "freq DAILY",
        "freq WEEKLY",
        "freq MONTHLY",
        "freq YEARLY",
    ):
        assert seen[feature] > 0, feature
    assert len(list(VdirStorage(tmp_path / "cal").list())) == 400


def test_generation_is_deterministic(tmp_path: Path) -> None:
    write_vdir(tmp_path / "a", 50, seed=3)
    write_vdir(tmp_path / "b", 50, seed=3)
    write_vdir(tmp_path / "c", 50, seed=4)

    def read(name: str) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in (tmp_path / name).iterdir()}

    assert read("a") == read("b")
    assert read("a") != read("c")


def test_single_file_holds_the_same_events(tmp_path: Path) -> None:
    write_vdir(tmp_path / "cal", 60)
    write_single_file(tmp_path / "all.ics", 60)
    storage = SingleFileStorage(tmp_path / "all.ics")
    assert sorted(href for href, _ in storage.list()) == sorted(
        p.stem for p in (tmp_path / "cal").iterdir()
    )
    assert storage.problems == []
    assert icalendar.Calendar.from_ical((tmp_path / "all.ics").read_bytes())


@pytest.mark.parametrize("text", ["x" * 200, "中文" * 60, "a" * 74 + "é" * 10])
def test_fold_keeps_lines_short_and_characters_whole(text: str) -> None:
    folded = fold("DESCRIPTION:" + text)
    lines = folded.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    assert "".join([lines[0], *(line[1:] for line in lines[1:])]) == "DESCRIPTION:" + text


@pytest.mark.skipif(
    vdirsyncer_baseline.find_vdirsyncer() is None, reason="vdirsyncer not installed"
)
def test_vdirsyncer_baseline_runs(tmp_path: Path) -> None:
    write_vdir(tmp_path / "src", 20)
    (tmp_path / "work").mkdir()
    exe = vdirsyncer_baseline.find_vdirsyncer()
    assert exe is not None
    figures = vdirsyncer_baseline.run_baseline(exe, tmp_path / "src", tmp_path / "work", repeat=1)
    assert figures.events == 20
    assert len(figures.noop_sync_s) == 1
    assert figures.noop_median_s > 0
    assert shutil.which(exe)
