"""Every problem reaches the user: `sync --json` has them all, `wesync status`
keeps listing what is still true (by kind), and a fixed file's problems go.

Real files, a real status database and the emulator over loopback, driven
through the command line as tests/e2e/test_cli.py does.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Env, calendar, vevent
from tests.e2e.test_cli import run
from tests.sync.helpers import writes
from wesync.sync.engine import LOGGED_PROBLEMS
from wesync.sync.problems import recurrence_text

#: "last weekday of the month": WeCom has no such rule, so it is expanded
LAST_WEEKDAY = "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"
#: 12 occurrences a month, well over the 500 an expanded event may send in a year
TWICE_DAILY = "FREQ=DAILY;BYHOUR=9,15"
#: the original start (Asia/Shanghai, +8) of the override in `weekly_with_override`
OVERRIDE_AT = "20270112T100000"
OVERRIDE_EPOCH = 1799719200


def expanded(i: int) -> bytes:
    return calendar(
        vevent(f"exp{i}@x", f"Close {i}", "20270129T170000", "20270129T180000", rrule=LAST_WEEKDAY)
    )


def truncated(i: int) -> bytes:
    return calendar(vevent(f"long{i}@x", "L" * 200, "20270105T090000", "20270105T100000"))


def unmapped(i: int) -> bytes:
    extra = f"ATTENDEE:mailto:guest{i}@elsewhere.org"
    return calendar(
        vevent(f"guest{i}@x", f"Guest {i}", "20270106T090000", "20270106T100000", extra=extra)
    )


def weekly_with_override() -> bytes:
    alarm = "BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:x\nTRIGGER:-PT7M\nEND:VALARM"
    return calendar(
        vevent("weekly@x", "Weekly", "20270105T100000", "20270105T110000", rrule="FREQ=WEEKLY"),
        vevent(
            "weekly@x",
            "Weekly, moved",
            "20270112T140000",
            "20270112T150000",
            recurrence_id=OVERRIDE_AT,
            extra=alarm,
        ),
    )


def plain(uid: str) -> bytes:
    return calendar(vevent(uid, "Plain", "20270107T090000", "20270107T100000"))


#: file name -> (kind, uid) of the one problem each file has
EXPECTED: dict[str, tuple[str, str | None]] = {
    **{f"exp{i:02}.ics": ("recurrence-expanded", f"exp{i}@x") for i in range(12)},
    **{f"long{i:02}.ics": ("truncated", f"long{i}@x") for i in range(6)},
    **{f"guest{i:02}.ics": ("attendee-unmapped", f"guest{i}@x") for i in range(5)},
    "weekly.ics": ("alarm-unsupported", "weekly@x"),
    # the file gives no UID: the status knows none yet either
    "broken.ics": ("unparsable", None),
}


def populate(env: Env) -> None:
    for i in range(12):
        env.write(f"exp{i:02}.ics", expanded(i))
    for i in range(6):
        env.write(f"long{i:02}.ics", truncated(i))
    for i in range(5):
        env.write(f"guest{i:02}.ics", unmapped(i))
    env.write("weekly.ics", weekly_with_override())
    env.write("broken.ics", b"BEGIN:VCALENDAR\r\nthis is not iCalendar\r\n")
    env.write(
        "capped.ics",
        calendar(
            vevent("capped@x", "Twice", "20250101T090000", "20250101T093000", rrule=TWICE_DAILY)
        ),
    )
    env.write("fine.ics", plain("fine@x"))


def by_path(problems: list[dict[str, Any]], env: Env) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for p in problems:
        assert p["path"] is not None, p
        out.setdefault(Path(p["path"]).name, []).append(p)
        assert Path(p["path"]).parent == env.local
    return out


def check_all_named(problems: list[dict[str, Any]], env: Env) -> None:
    """Each problem file's problem is there, of its kind, naming its file and UID."""
    found = by_path(problems, env)
    for name, (kind, uid) in EXPECTED.items():
        [p] = found[name]
        assert (p["kind"], p["uid"]) == (kind, uid), p
        assert set(p) == {"kind", "message", "path", "uid", "recurrence_id", "schedule_id"}
    capped = {p["kind"] for p in found["capped.ics"]}
    assert capped == {"recurrence-expanded", "expansion-capped"}
    assert all(p["uid"] == "capped@x" for p in found["capped.ics"])
    assert "fine.ics" not in found
    [alarm] = found["weekly.ics"]
    assert alarm["recurrence_id"] == recurrence_text(OVERRIDE_EPOCH) == "2027-01-12T02:00:00Z"
    assert "TRIGGER:-PT7M" in alarm["message"]


def status_json(config: Path, *pairs: str) -> dict[str, Any]:
    result = run(config, "status", *pairs, "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)["pairs"]
    return row  # type: ignore[no-any-return]


def flat(grouped: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    for kind, found in grouped.items():
        assert found and all(p["kind"] == kind for p in found), kind
    return [p for found in grouped.values() for p in found]


@pytest.fixture
def synced(env: Env, tmp_path: Path) -> tuple[Env, Path, dict[str, Any]]:
    config = env.write_config(tmp_path / "c.toml")
    populate(env)
    result = run(config, "sync", "--json")
    # the unparsable file is left alone and reported, which does not fail the pair
    assert result.exit_code == 0, result.output
    [pair] = json.loads(result.stdout)["pairs"]
    return env, config, pair


def test_first_sync_json_names_every_problem(synced: tuple[Env, Path, dict[str, Any]]) -> None:
    env, _, pair = synced
    assert pair["ok"] and pair["created_remote"] > len(EXPECTED)
    assert len(pair["problems"]) > LOGGED_PROBLEMS
    check_all_named(pair["problems"], env)


def test_status_lists_them_all_by_kind_also_after_a_no_op(
    synced: tuple[Env, Path, dict[str, Any]],
) -> None:
    env, config, first = synced
    row = status_json(config, "team")
    check_all_named(flat(row["problems"]), env)
    kinds = list(row["problems"])
    # grouped in the documented order: what stops an event before what it loses
    assert kinds.index("unparsable") < kinds.index("recurrence-expanded")
    assert kinds.index("recurrence-expanded") < kinds.index("truncated")

    again = run(config, "sync", "--json")
    assert again.exit_code == 0, again.output
    [second] = json.loads(again.stdout)["pairs"]
    assert second["created_remote"] == second["updated_remote"] == 0
    # translation problems are said once; the broken file is tried (and said) again
    assert [(p["kind"], Path(p["path"]).name) for p in second["problems"]] == [
        ("unparsable", "broken.ics")
    ]
    after = status_json(config)  # all pairs: the same one here
    assert sorted(map(json.dumps, flat(after["problems"]))) == sorted(
        map(json.dumps, flat(row["problems"]))
    )
    assert len(flat(after["problems"])) == len(first["problems"])

    table = run(config, "status", "team")
    assert table.exit_code == 0, table.output
    text = table.stdout
    for kind in {k for k, _ in EXPECTED.values()} | {"expansion-capped"}:
        assert f"  {kind} (" in text
    for name in (*EXPECTED, "capped.ics"):
        assert str(env.local / name) in text


def test_a_fixed_or_removed_file_drops_its_problems(
    synced: tuple[Env, Path, dict[str, Any]],
) -> None:
    env, config, _ = synced
    env.write(
        "long00.ics", calendar(vevent("long0@x", "Short", "20270105T090000", "20270105T100000"))
    )
    env.write("broken.ics", plain("mended@x"))
    (env.local / "guest00.ics").unlink()
    (env.local / "weekly.ics").unlink()
    # deleted in WeCom: this run deletes the file, and its problems with it
    [sid] = [s["schedule_id"] for s in env.schedules() if s["summary"] == "Guest 1"]
    assert env.server.call("/cgi-bin/oa/schedule/del", {"schedule_id": sid})["errcode"] == 0
    result = run(config, "sync", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pairs"][0]["deleted_local"] == 1
    assert not (env.local / "guest01.ics").exists()
    names = {Path(p["path"]).name for p in flat(status_json(config, "team")["problems"])}
    gone = {"long00.ics", "broken.ics", "guest00.ics", "weekly.ics", "guest01.ics"}
    assert not names & gone
    assert {"long01.ics", "guest02.ics", "exp00.ics", "capped.ics"} <= names
    assert "attendee-unmapped" in status_json(config)["problems"]


def test_a_status_from_before_kept_problems_learns_them_on_the_next_run(
    synced: tuple[Env, Path, dict[str, Any]],
) -> None:
    env, config, _ = synced
    before = flat(status_json(config, "team")["problems"])
    # what an older wesync left: no problems table rows and no marker
    with sqlite3.connect(env.state / "team.sqlite") as db:
        db.execute("DELETE FROM problems")
        db.execute("DELETE FROM meta WHERE key='file_problems_since'")
    assert {p["kind"] for p in flat(status_json(config, "team")["problems"])} == {"unparsable"}
    env.server.admin("DELETE", "requests")
    result = run(config, "sync", "--json")
    assert result.exit_code == 0, result.output
    [pair] = json.loads(result.stdout)["pairs"]
    assert pair["created_remote"] == pair["updated_remote"] == pair["updated_local"] == 0
    assert writes(env.server) == []
    after = flat(status_json(config, "team")["problems"])
    assert sorted(map(json.dumps, after)) == sorted(map(json.dumps, before))


def test_status_of_an_unknown_pair_is_a_usage_error(env: Env, tmp_path: Path) -> None:
    config = env.write_config(tmp_path / "c.toml")
    assert run(config, "status", "nosuchpair").exit_code == 2
    assert status_json(config, "team")["problems"] == {}


async def test_the_log_shows_twenty_and_points_to_status(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(LOGGED_PROBLEMS + 5):
        env.write(f"long{i:02}.ics", truncated(i))
    with caplog.at_level(logging.WARNING, logger="wesync.sync"):
        report = await env.sync_ok()
    assert len(report.problems) == LOGGED_PROBLEMS + 5
    lines = [r.getMessage() for r in caplog.records if r.name == "wesync.sync"]
    assert len(lines) == LOGGED_PROBLEMS + 1
    assert lines[-1] == "team: and 5 more problems; `wesync status team` lists them all"
    assert all("long" in line and "(UID long" in line for line in lines[:-1])
