"""Draft digests are built without dataclasses.asdict, but must give the very
same text: digests stored in status databases by earlier versions stay valid."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from wesync.translate.canonical import Recurrence, ScheduleDraft


def _asdict_digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


REC = Recurrence(
    repeat_type=1,
    is_custom_repeat=True,
    repeat_interval=2,
    repeat_day_of_week=(1, 3),
    repeat_day_of_month=(),
    repeat_until=0,
    timezone=8,
    exclude_times=(1799024400,),
)
DRAFT = ScheduleDraft(
    summary="周会 weekly",
    description="a\nb",
    location="room",
    start_time=1799024400,
    end_time=1799028000,
    is_whole_day=False,
    remind_time_diffs=(-900, 0),
    attendees=("lisi", "zhangsan"),
    admins=("zhangsan",),
    recurrence=REC,
    responses=(("lisi", 2),),
)


def test_digests_equal_the_asdict_form() -> None:
    for draft in (DRAFT, dataclasses.replace(DRAFT, recurrence=None, responses=())):
        full = dataclasses.asdict(draft)
        assert draft.digest() == _asdict_digest(full)
        full.pop("responses")
        assert draft.content_digest() == _asdict_digest(full)


def test_every_field_is_digested() -> None:
    # a field added to the dataclasses must reach the digest
    assert set(DRAFT._fields()) | {"responses"} == {f.name for f in dataclasses.fields(DRAFT)}
    recurrence = DRAFT._fields()["recurrence"]
    assert isinstance(recurrence, dict)
    assert set(recurrence) == {f.name for f in dataclasses.fields(REC)}


def test_equal_drafts_equal_digests_and_changes_show() -> None:
    same = dataclasses.replace(DRAFT)
    assert same.digest() == DRAFT.digest() and same.content_digest() == DRAFT.content_digest()
    answered = dataclasses.replace(DRAFT, responses=(("lisi", 4),))
    assert answered.content_digest() == DRAFT.content_digest()
    assert answered.digest() != DRAFT.digest()
    moved = dataclasses.replace(DRAFT, recurrence=dataclasses.replace(REC, exclude_times=()))
    assert moved.content_digest() != DRAFT.content_digest()
