"""The problem record, its grouping, and how the status database keeps it."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from tests.translate.helpers import item, vevent
from wesync.sync.problems import (
    EVENT_KINDS,
    KIND_ORDER,
    SyncKind,
    SyncProblem,
    group_by_kind,
    recurrence_text,
    slot_recurrence_id,
)
from wesync.sync.report import PairReport
from wesync.sync.status import StatusDB
from wesync.translate.canonical import Problem, ProblemKind
from wesync.translate.options import TranslateOptions
from wesync.translate.to_wecom import translate_event


def test_a_record_keeps_every_fact_and_round_trips_through_json() -> None:
    p = SyncProblem.of(
        ProblemKind.ALARM_UNSUPPORTED,
        "VALARM TRIGGER:-PT7M is not a WeCom reminder",
        path="/cal/a.ics",
        uid="a@x",
        recurrence_id=1799719200,
        schedule_id="sid-1",
    )
    assert p.kind == "alarm-unsupported"
    assert p.recurrence_id == "2027-01-12T02:00:00Z"
    data = p.to_json()
    assert list(data) == ["kind", "message", "path", "uid", "recurrence_id", "schedule_id"]
    assert SyncProblem.from_json(data) == p
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.message = "changed"  # type: ignore[misc]


def test_unknown_facts_are_null_and_an_unknown_kind_survives() -> None:
    p = SyncProblem.of(SyncKind.UNREADABLE_SCHEDULE, "cannot be read", schedule_id="s9")
    assert p.to_json() == {
        "kind": "unreadable-schedule",
        "message": "cannot be read",
        "path": None,
        "uid": None,
        "recurrence_id": None,
        "schedule_id": "s9",
    }
    # a database written by a newer wesync may hold a kind this one does not know
    later = SyncProblem.from_json({"kind": "from-the-future", "message": "m", "uid": "u"})
    assert later.kind == "from-the-future" and later.uid == "u" and later.path is None


def test_the_log_line_names_what_the_problem_is_about() -> None:
    assert str(SyncProblem.of(ProblemKind.TRUNCATED, "SUMMARY cut", path="/c/a.ics", uid="a")) == (
        "/c/a.ics (UID a): SUMMARY cut"
    )
    assert str(SyncProblem.of(SyncKind.ITEM_ERROR, "not written", uid="a")) == (
        "UID a: not written"
    )
    assert str(
        SyncProblem.of(
            SyncKind.UNREADABLE_SCHEDULE,
            "cannot be read",
            uid="a",
            recurrence_id=0,
            schedule_id="s1",
        )
    ) == ("UID a RECURRENCE-ID 1970-01-01T00:00:00Z WeCom schedule s1: cannot be read")
    assert str(SyncProblem(kind="x", message="alone")) == "alone"


def test_a_translation_problem_takes_the_file_uid_and_override() -> None:
    found = Problem(kind=ProblemKind.TRUNCATED, message="m", recurrence_id=86400)
    p = SyncProblem.from_translation(found, path="/c/a.ics", uid="a")
    assert (p.kind, p.path, p.uid, p.recurrence_id) == (
        "truncated",
        "/c/a.ics",
        "a",
        "1970-01-02T00:00:00Z",
    )


def test_only_override_slots_are_a_recurrence_id() -> None:
    assert slot_recurrence_id("R:1799719200") == 1799719200
    assert slot_recurrence_id("") is None
    assert slot_recurrence_id("X:1799719200") is None  # an occurrence wesync expanded
    assert slot_recurrence_id("S:1799719200") is None  # an off-rule DTSTART
    assert recurrence_text(1799719200) == "2027-01-12T02:00:00Z"


def test_every_kind_has_a_place_in_the_grouping_order() -> None:
    every = {k.value for k in ProblemKind} | {k.value for k in SyncKind}
    assert set(KIND_ORDER) == every and len(KIND_ORDER) == len(every)
    assert {k.value for k in ProblemKind} == EVENT_KINDS


def test_group_by_kind_orders_kinds_and_sorts_each_group() -> None:
    problems = [
        SyncProblem(kind="truncated", message="m", path="/c/b.ics"),
        SyncProblem(kind="zz-unknown", message="m"),
        SyncProblem(kind="truncated", message="m", path="/c/a.ics"),
        SyncProblem(kind="unparsable", message="m", path="/c/c.ics"),
    ]
    groups = group_by_kind(problems)
    assert list(groups) == ["unparsable", "truncated", "zz-unknown"]
    assert [p.path for p in groups["truncated"]] == ["/c/a.ics", "/c/b.ics"]


def test_the_report_helper_adds_one_record_and_item_errors_fail_the_pair() -> None:
    report = PairReport(name="team")
    record = report.problem(ProblemKind.INVALID, "no DTSTART", path="/c/a.ics", uid="a")
    assert report.problems == [record] and report.ok
    report.item_error("not written to WeCom: boom", path="/c/b.ics", uid="b")
    assert not report.ok
    assert report.error == "/c/b.ics (UID b): not written to WeCom: boom"
    assert report.problems[-1].kind == "item-error"
    data = report.to_json()
    assert [p["uid"] for p in data["problems"]] == ["a", "b"]
    assert "problems" not in report.to_json(problems=False)


def test_an_overrides_problem_names_its_recurrence_id() -> None:
    master = vevent(
        "DTSTART;TZID=Asia/Shanghai:20270105T100000",
        "DTEND;TZID=Asia/Shanghai:20270105T110000",
        "RRULE:FREQ=WEEKLY",
        alarms=(":-PT7M",),
    )
    override = vevent(
        "RECURRENCE-ID;TZID=Asia/Shanghai:20270112T100000",
        "DTSTART;TZID=Asia/Shanghai:20270112T140000",
        "DTEND;TZID=Asia/Shanghai:20270112T150000",
        alarms=(":-PT7M",),
    )
    tr = translate_event(item(master, override), options=TranslateOptions(), now=1767225600)
    # the same trigger on master and override: two problems, each naming its own
    assert {(p.kind, p.recurrence_id) for p in tr.problems} == {
        (ProblemKind.ALARM_UNSUPPORTED, None),
        (ProblemKind.ALARM_UNSUPPORTED, 1799719200),
    }
    assert len(tr.problems) == 2


def p(href: str, kind: str = "truncated") -> SyncProblem:
    return SyncProblem(kind=kind, message=f"about {href}", path=f"/c/{href}", uid=href)


def test_status_keeps_file_problems_until_the_file_is_read_again_or_goes(tmp_path: Path) -> None:
    path = tmp_path / "team.sqlite"
    with StatusDB(path) as db, db.transaction():
        db.set_file_problems({"a.ics": (p("a.ics"), p("a.ics", "alarm-unsupported")), "b.ics": ()})
        db.set_file_problems({"c.ics": (p("c.ics"),)})
    with StatusDB(path, readonly=True) as db:
        assert db.file_problems() == [p("a.ics"), p("a.ics", "alarm-unsupported"), p("c.ics")]
    with StatusDB(path) as db, db.transaction():
        db.set_file_problems({"a.ics": ()})  # read again, and fixed
        db.keep_file_problems({"a.ics", "b.ics"})  # c.ics is gone
    with StatusDB(path) as db:
        assert db.file_problems() == []


def test_a_status_from_before_the_problems_table_reads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    with StatusDB(path, readonly=True) as db:
        assert db.file_problems() == []
    with StatusDB(path) as db:  # opened for a sync: the table is made
        assert db.file_problems() == []
        with db.transaction():
            db.set_file_problems({"a.ics": (p("a.ics"),)})
        assert db.file_problems() == [p("a.ics")]
