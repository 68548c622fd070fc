"""Shared bits for the sync tests: a client on the loopback emulator, drafts, a journal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wesync.config import Secret
from wesync.sync.status import Intent
from wesync.translate.canonical import Recurrence, ScheduleDraft
from wesync.translate.remote import draft_from_schedule, schedule_from_draft
from wesync.wecom.client import WeComClient
from wesync.wecom.retry import RetryPolicy

FAST = RetryPolicy(attempts=3, base=0.0, cap=0.0, total=5.0)
#: 2027-01-04 09:00 +08:00, a Monday
MONDAY_9 = 1799024400
HOUR = 3600
DAY = 86400
WEEK = 7 * DAY


@asynccontextmanager
async def loopback_client(
    server: Any, *, token_cache: Path | None = None
) -> AsyncIterator[WeComClient]:
    async with WeComClient(
        corpid=server.corpid,
        corpsecret=Secret(server.corpsecret),
        base_url=server.url,
        retry=FAST,
        token_cache=token_cache,
    ) as client:
        yield client


def make_calendar(server: Any, summary: str = "Team") -> str:
    answer = server.call(
        "/cgi-bin/oa/calendar/add",
        {"calendar": {"summary": summary, "color": "#FF3030"}},
    )
    assert answer["errcode"] == 0, answer
    cal_id: str = answer["cal_id"]
    return cal_id


def know_sequence(state_dir: Path, pair: str, answer: str = "per-change") -> None:
    """Record the answer wesync learns about WeCom's listing `sequence`
    (wesync.sync.sequence) in the pair's status database, before a sync."""
    from wesync.sync import sequence
    from wesync.sync.status import StatusDB, status_path

    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with StatusDB(status_path(state_dir, pair)) as db, db.transaction():
        db.set_meta(sequence.VERDICT_KEY, answer)


def writes(server: Any) -> list[str]:
    """Paths of the write calls the emulator served since the log was cleared."""
    log = server.admin("GET", "requests")["requests"]
    write_endpoints = ("/add", "/update", "/del", "_attendees")
    return [
        r["path"]
        for r in log
        if "/oa/schedule/" in r["path"] and r["path"].endswith(write_endpoints)
    ]


def draft(
    summary: str = "Weekly sync",
    start: int = MONDAY_9,
    *,
    hours: int = 1,
    weekly: bool = False,
    until: int = 0,
    exclude: tuple[int, ...] = (),
    description: str = "",
) -> ScheduleDraft:
    """A draft in the canonical (normalised) form, as the translator would make it."""
    recurrence = None
    if weekly:
        recurrence = Recurrence(
            repeat_type=1,
            is_custom_repeat=False,
            repeat_interval=1,
            repeat_day_of_week=(),
            repeat_day_of_month=(),
            repeat_until=until,
            timezone=8,
            exclude_times=exclude,
        )
    raw = ScheduleDraft(
        summary=summary,
        description=description,
        location="",
        start_time=start,
        end_time=start + hours * HOUR,
        is_whole_day=False,
        remind_time_diffs=(),
        attendees=(),
        admins=(),
        recurrence=recurrence,
    )
    return draft_from_schedule(schedule_from_draft(raw, cal_id="x"))


@dataclass
class MemoryJournal:
    intents: dict[int, Intent] = field(default_factory=dict)
    mapped: dict[str, str | None] = field(default_factory=dict)
    counter: int = 0

    def intend(self, intent: Intent) -> int:
        self.counter += 1
        self.intents[self.counter] = intent
        return self.counter

    def landed(self, intent_id: int, *, slot: str, schedule_id: str | None) -> None:
        del self.intents[intent_id]
        self.mapped[slot] = schedule_id

    def done(self, intent_id: int) -> None:
        del self.intents[intent_id]

    async def refused(self, exc: BaseException) -> bool:
        return False
