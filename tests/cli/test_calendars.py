"""`wesync calendars ...` and `wesync export` against the emulator over loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from wesync.cli import cli


def write_config(tmp_path: Path, server: Any, pairs: dict[str, str] | None = None) -> Path:
    lines = [
        "[wecom]",
        f'corpid = "{server.corpid}"',
        f'corpsecret = "{server.corpsecret}"',
        f'base_url = "{server.url}"',
        "[state]",
        f'dir = "{tmp_path / "state"}"',
    ]
    for name, cal_id in (pairs or {}).items():
        (tmp_path / name).mkdir(exist_ok=True)
        lines += ["[[pairs]]", f'name = "{name}"', f'local = "{name}"', f'cal_id = "{cal_id}"']
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def run(config: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["-c", str(config), *args], input=input)


def create(config: Path, *args: str) -> str:
    result = run(config, "calendars", "create", *args)
    assert result.exit_code == 0, result.output
    cal_id = result.stdout.strip()
    assert cal_id and "\n" not in cal_id
    return cal_id


def test_create_show_update_keeps_what_is_not_named(tmp_path: Path, emulator_server: Any) -> None:
    cfg = write_config(tmp_path, emulator_server)
    cal_id = create(
        cfg,
        "--summary", "Team",
        "--color", "#1E90FF",
        "--description", "rota",
        "--share", "zhangsan",
        "--share", "lisi:busy",
        "--admin", "wangwu",
    )  # fmt: skip
    shown = run(cfg, "calendars", "show", cal_id, "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["summary"] == "Team" and data["color"] == "#1E90FF"
    assert data["admins"] == ["wangwu"]
    # admins must be shared in WeCom; create added the missing one
    assert {(s["userid"], s["permission"]) for s in data["shares"]} == {
        ("zhangsan", 1),
        ("lisi", 3),
        ("wangwu", 1),
    }
    updated = run(cfg, "calendars", "update", cal_id, "--color", "#FF0000")
    assert updated.exit_code == 0, updated.output
    after = json.loads(run(cfg, "calendars", "show", cal_id, "--json").stdout)
    # calendar/update overwrites: everything not named must have been sent back
    assert after == {**data, "color": "#FF0000"}
    text = run(cfg, "calendars", "show", cal_id)
    assert "lisi (free/busy)" in text.stdout and "#FF0000" in text.stdout


def test_update_replaces_shares_when_given(tmp_path: Path, emulator_server: Any) -> None:
    cfg = write_config(tmp_path, emulator_server)
    cal_id = create(cfg, "--summary", "A", "--color", "#000000", "--share", "u1")
    assert run(cfg, "calendars", "update", cal_id, "--share", "u2:3").exit_code == 0
    after = json.loads(run(cfg, "calendars", "show", cal_id, "--json").stdout)
    assert after["shares"] == [{"userid": "u2", "permission": 3}]
    assert after["summary"] == "A"


def test_list_shows_the_pairs_calendars(tmp_path: Path, emulator_server: Any) -> None:
    cfg = write_config(tmp_path, emulator_server)
    a = create(cfg, "--summary", "Alpha", "--color", "#111111")
    b = create(cfg, "--summary", "Beta", "--color", "#222222")
    cfg = write_config(tmp_path, emulator_server, {"alpha": a, "beta": b})
    result = run(cfg, "calendars", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["calendars"]
    assert [(r["pair"], r["cal_id"], r["summary"], r["error"]) for r in rows] == [
        ("alpha", a, "Alpha", None),
        ("beta", b, "Beta", None),
    ]
    table = run(cfg, "calendars", "list")
    assert table.exit_code == 0
    assert "Alpha" in table.stdout and "beta" in table.stdout


def test_list_names_a_calendar_wecom_does_not_know(tmp_path: Path, emulator_server: Any) -> None:
    cfg = write_config(tmp_path, emulator_server)
    good = create(cfg, "--summary", "Good", "--color", "#111111")
    cfg = write_config(tmp_path, emulator_server, {"good": good, "bad": "wcNOSUCHCALENDAR"})
    result = run(cfg, "calendars", "list", "--json")
    assert result.exit_code == 1
    rows = {r["pair"]: r for r in json.loads(result.stdout)["calendars"]}
    assert rows["good"]["error"] is None and rows["good"]["summary"] == "Good"
    assert rows["bad"]["error"]


def test_delete_refuses_without_yes_when_not_a_terminal(
    tmp_path: Path, emulator_server: Any
) -> None:
    cfg = write_config(tmp_path, emulator_server)
    cal_id = create(cfg, "--summary", "Doomed", "--color", "#111111")
    refused = run(cfg, "calendars", "delete", cal_id)
    assert refused.exit_code == 2
    assert "--yes" in refused.stderr
    assert run(cfg, "calendars", "show", cal_id, "--json").exit_code == 0
    assert run(cfg, "calendars", "delete", cal_id, "--yes").exit_code == 0
    gone = run(cfg, "calendars", "show", cal_id, "--json")
    assert gone.exit_code == 1


def test_delete_asks_on_a_terminal(
    tmp_path: Path, emulator_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wesync.cli import calendars_cmd

    monkeypatch.setattr(calendars_cmd, "_stdin_is_terminal", lambda: True)
    cfg = write_config(tmp_path, emulator_server)
    cal_id = create(cfg, "--summary", "Maybe", "--color", "#111111")
    no = run(cfg, "calendars", "delete", cal_id, input="n\n")
    assert no.exit_code != 0
    assert run(cfg, "calendars", "show", cal_id).exit_code == 0
    yes = run(cfg, "calendars", "delete", cal_id, input="y\n")
    assert yes.exit_code == 0, yes.output


def test_bad_options_are_usage_errors(tmp_path: Path, emulator_server: Any) -> None:
    cfg = write_config(tmp_path, emulator_server)
    bad_color = run(cfg, "calendars", "create", "--summary", "x", "--color", "blue")
    assert bad_color.exit_code == 2
    bad_share = run(
        cfg, "calendars", "create", "--summary", "x", "--color", "#000000", "--share", "u:7"
    )
    assert bad_share.exit_code == 2
    assert emulator_server.admin("GET", "requests")["requests"] == []


def test_secret_never_printed(tmp_path: Path, emulator_server: Any) -> None:
    cfg = write_config(tmp_path, emulator_server)
    result = run(cfg, "-v", "calendars", "show", "wcNOSUCH")
    assert result.exit_code == 1
    assert emulator_server.corpsecret not in result.output


def add_schedule(server: Any, cal_id: str, **fields: Any) -> str:
    body = {"schedule": {"cal_id": cal_id, **fields}}
    answer = server.call("/cgi-bin/oa/schedule/add", body)
    assert answer["errcode"] == 0, answer
    sid: str = answer["schedule_id"]
    return sid


def test_export_writes_every_live_schedule_once(tmp_path: Path, emulator_server: Any) -> None:
    pytest.importorskip("wesync.translate.to_ical")
    import icalendar

    cfg = write_config(tmp_path, emulator_server)
    cal_id = create(cfg, "--summary", "Exported", "--color", "#123456")
    keep = add_schedule(
        emulator_server, cal_id, summary="Standup", start_time=1893456000, end_time=1893457800
    )
    weekly = add_schedule(
        emulator_server,
        cal_id,
        summary="Weekly",
        start_time=1893459600,
        end_time=1893463200,
        reminders={"is_repeat": 1, "repeat_type": 1, "remind_time_diffs": [-900]},
    )
    gone = add_schedule(
        emulator_server, cal_id, summary="Cancelled", start_time=1893466800, end_time=1893470400
    )
    assert emulator_server.call("/cgi-bin/oa/schedule/del", {"schedule_id": gone})["errcode"] == 0
    out = tmp_path / "out" / "cal.ics"
    out.parent.mkdir()
    result = run(cfg, "export", "--cal-id", cal_id, "-o", str(out))
    assert result.exit_code == 0, result.output
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {f"{keep}@wecom", f"{weekly}@wecom"}
    assert str(events[f"{keep}@wecom"]["SUMMARY"]) == "Standup"
    assert "RRULE" in events[f"{weekly}@wecom"]
    assert events[f"{weekly}@wecom"].walk("VALARM")
    assert [p.name for p in out.parent.iterdir()] == ["cal.ics"]  # no temp file left
    stdout = run(cfg, "export", "--cal-id", cal_id)
    assert stdout.exit_code == 0

    def stable(data: bytes) -> list[bytes]:
        # DTSTAMP is the time of writing, so two exports differ only there
        return [line for line in data.splitlines() if not line.startswith(b"DTSTAMP")]

    assert stable(stdout.stdout_bytes) == stable(out.read_bytes())


async def test_export_refuses_listing_copies_the_full_read_did_not_return() -> None:
    # the listing leaves out is_whole_day; when `get` does not return a schedule,
    # exporting the listing's copy would silently make an all-day event timed
    from wesync.cli.export_ics import fetch_schedules
    from wesync.wecom.errors import WeComTransportError
    from wesync.wecom.models import Schedule

    class Client:
        async def schedule_list(self, cal_id: str) -> list[Schedule]:
            return [Schedule(schedule_id="s1", start_time=1893456000, end_time=1893542400,
                             status=0)]

        async def schedule_get(self, ids: list[str]) -> list[Schedule]:
            return []

    with pytest.raises(WeComTransportError, match="no full copy"):
        await fetch_schedules(Client(), "cal")  # type: ignore[arg-type]


async def test_export_refuses_a_schedule_it_cannot_read() -> None:
    # leaving it out would look like a complete export; reading it as 0 would be wrong
    from wesync.cli.export_ics import fetch_schedules
    from wesync.wecom.errors import WeComTransportError
    from wesync.wecom.models import BrokenSchedule, Schedule, ScheduleList

    class Client:
        async def schedule_list(self, cal_id: str) -> list[Schedule]:
            return ScheduleList([], [BrokenSchedule("s7", "start_time: expected an integer")])

        async def schedule_get(self, ids: list[str]) -> list[Schedule]:
            return []

    with pytest.raises(WeComTransportError, match="s7: start_time"):
        await fetch_schedules(Client(), "cal")  # type: ignore[arg-type]
