"""The soak in the test suite: a short fixed-seed run always, the long one on request."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.soak.harness import Soak
from tests.soak.model import BERLIN, CST, to_schedule


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
    assert not figures.refused, figures.text()


@pytest.mark.timeout(120)
def test_short_soak(emulator_server: Any, tmp_path: Path) -> None:
    _soak(emulator_server, tmp_path, cycles=24, seed=20261122, policy="keep-both")


@pytest.mark.timeout(180)
def test_short_soak_under_the_worst_answers(emulator_server: Any, tmp_path: Path) -> None:
    """The same, with WeCom answering every undocumented question the worst way
    (tests/e2e/conftest.py WORST): frozen sequence, the sample listing, exclusions
    cleared by an update, partial `get`, listing by start time, callbacks for all."""
    from tests.e2e.conftest import WORST

    emulator_server.emulator.configure(variants=WORST)
    _soak(emulator_server, tmp_path, cycles=24, seed=20261204, policy="wecom-wins")


def test_the_check_sees_a_lost_event_and_a_duplicate(emulator_server: Any, tmp_path: Path) -> None:
    """The oracle comparison is what the soak stands on: it must see what it is for."""
    soak = Soak(emulator_server.url, tmp_path, seed=5)
    try:
        soak.start()
        assert soak.compare() == []
        # a schedule WeCom holds twice
        entity = next(e for e in soak.entities.values() if e.master.rule is None)
        soak.api.ok(
            "/cgi-bin/oa/schedule/add",
            {"schedule": to_schedule(entity.master, cal_id=soak.cal_id)},
        )
        # and a file gone behind the oracle's back
        victim = next(
            p
            for p in soak.local.glob("*.ics")
            if entity.master.summary.encode() not in p.read_bytes()
        )
        victim.unlink()
        problems = soak.compare()
    finally:
        soak.close()
    assert any("in WeCom only" in p and entity.master.summary in p for p in problems), problems
    assert any("in the oracle only" in p and "vs files" in p for p in problems), problems


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.skipif(os.environ.get("WESYNC_SLOW") != "1", reason="set WESYNC_SLOW=1")
@pytest.mark.parametrize("policy", ["keep-both", "wecom-wins", "local-wins"])
def test_long_soak(emulator_server: Any, tmp_path: Path, policy: str) -> None:
    seed = int(os.environ.get("WESYNC_SOAK_SEED", "7"))
    cycles = int(os.environ.get("WESYNC_SOAK_CYCLES", "500"))
    _soak(emulator_server, tmp_path, cycles=cycles, seed=seed, policy=policy)


def test_the_check_sees_expanded_occurrences(emulator_server: Any, tmp_path: Path) -> None:
    """An expanded event is compared occurrence by occurrence: WeCom holds one single
    schedule per occurrence of the oracle's (on both sides of the daylight-saving
    change), and one edited behind the oracle's back is a finding."""
    soak = Soak(emulator_server.url, tmp_path, seed=5)
    try:
        soak.start()
        assert soak.compare() == []
        entity = next(e for e in soak.entities.values() if e.expanded)
        starts = entity.master.starts()
        zone = ZoneInfo(BERLIN)
        # the oracle's own reading: one wall time, two UTC offsets
        assert len({datetime.fromtimestamp(t, zone).strftime("%H:%M") for t in starts}) == 1
        assert len({datetime.fromtimestamp(t, zone).utcoffset() for t in starts}) == 2
        mine = [s for s in soak.api.schedules(soak.cal_id) if s["summary"] == entity.master.summary]
        assert sorted(s["start_time"] for s in mine) == starts
        assert all(not s["reminders"].get("is_repeat") for s in mine)
        victim = mine[len(mine) // 2]
        soak.api.ok(
            "/cgi-bin/oa/schedule/update",
            {
                "schedule": {
                    **{k: victim[k] for k in ("schedule_id", "start_time", "end_time")},
                    "summary": "behind its back",
                }
            },
        )
        problems = soak.compare()
        # and the file, read without wesync: an occurrence excluded behind its back
        mark = entity.master.summary.encode()
        path = next(p for p in soak.local.glob("*.ics") if mark in p.read_bytes())
        text = path.read_bytes()
        rid = datetime.fromtimestamp(starts[1], zone).strftime("%Y%m%dT%H%M%S")
        exdate = f"EXDATE;TZID=Europe/Berlin:{rid}\r\nEND:VEVENT".encode()
        path.write_bytes(text.replace(b"END:VEVENT", exdate, 1))
        rfc = soak._compare_expanded()
    finally:
        soak.close()
    assert len(rfc) == 1 and "in the oracle only" in rfc[0], rfc
    assert any("'behind its back'" in p and "in WeCom only" in p for p in problems), problems
    assert any(entity.master.summary in p and "in the oracle only" in p for p in problems)


def test_the_check_sees_a_birthday_lose_its_year(emulator_server: Any, tmp_path: Path) -> None:
    """A birthday from before 1970 is in WeCom from 1970 on; a file whose DTSTART moved
    there (the same occurrences WeCom can hold) is still a finding."""
    soak = Soak(emulator_server.url, tmp_path, seed=5)
    try:
        soak.start()
        assert soak.compare() == []
        entity = next(e for e in soak.entities.values() if e.birthday)
        born = datetime.fromtimestamp(entity.master.start, CST)
        assert born.year < 1970
        (mine,) = [
            s for s in soak.api.schedules(soak.cal_id) if s["summary"] == entity.master.summary
        ]
        assert datetime.fromtimestamp(mine["start_time"], CST).year == 1970
        mark = entity.master.summary.encode()
        path = next(p for p in soak.local.glob("*.ics") if mark in p.read_bytes())
        text = path.read_bytes().replace(f":{born.year}".encode(), b":1970")
        path.write_bytes(text)
        problems = soak.compare()
    finally:
        soak.close()
    assert problems and all("birthday" in p for p in problems), problems
