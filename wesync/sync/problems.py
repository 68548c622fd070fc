"""One thing a sync wants the user to know, as a record: its kind, what it is
about (file, UID, occurrence, WeCom schedule) and a message.

Records go to the log (the first `LOGGED_PROBLEMS` of a run), to `sync --json`
and to the status database, where `wesync status` reads them. The kinds are the
translator's (`ProblemKind`: what WeCom cannot hold of an event) and the sync's
own (`SyncKind`: files, schedules and writes); the README has the table.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from wesync.translate.canonical import Problem, ProblemKind, slot_start


class SyncKind(enum.Enum):
    """Problems of the sync itself (the translator's are `ProblemKind`)."""

    UNREADABLE_FILE = "unreadable-file"  #: a file that cannot be read (permissions, I/O)
    UNPARSABLE = "unparsable"  #: a file that is not valid iCalendar; left alone
    NO_UID = "no-uid"  #: an event without a usable UID in a single .ics file; left alone
    DUPLICATE_UID = "duplicate-uid"  #: one UID in two files (or twice in one); left alone
    UNREADABLE_SCHEDULE = "unreadable-schedule"  #: a WeCom schedule `get` cannot read
    ITEM_ERROR = "item-error"  #: a write to one side failed; retried next run
    CHANGED_MEANWHILE = "changed-meanwhile"  #: the file changed during the run; next run
    LOSSY_WRITE = "lossy-write"  #: the file cannot hold all WeCom has for the event
    INTERRUPTED_WRITE = "interrupted-write"  #: a killed run's write, settled by this one


Kind = ProblemKind | SyncKind

#: the order `wesync status` groups kinds in: what stops an event first, then losses
KIND_ORDER: tuple[str, ...] = tuple(
    k.value
    for k in (
        SyncKind.ITEM_ERROR,
        SyncKind.UNREADABLE_FILE,
        SyncKind.UNPARSABLE,
        SyncKind.NO_UID,
        SyncKind.DUPLICATE_UID,
        SyncKind.UNREADABLE_SCHEDULE,
        ProblemKind.INVALID,
        ProblemKind.OUT_OF_RANGE,
        ProblemKind.RECURRENCE_SKIPPED,
        ProblemKind.RECURRENCE_EXPANDED,
        ProblemKind.EXPANSION_CAPPED,
        ProblemKind.UNSUPPORTED,
        ProblemKind.ALARM_UNSUPPORTED,
        ProblemKind.ATTENDEE_UNMAPPED,
        ProblemKind.TRUNCATED,
        SyncKind.LOSSY_WRITE,
        SyncKind.CHANGED_MEANWHILE,
        SyncKind.INTERRUPTED_WRITE,
    )
)

#: the translator's kinds: facts about a file's content, true until the file changes
EVENT_KINDS = frozenset(k.value for k in ProblemKind)

FIELDS = ("kind", "message", "path", "uid", "recurrence_id", "schedule_id")


def recurrence_text(epoch: int) -> str:
    """An occurrence's original start as ISO 8601 UTC ("2027-01-05T04:00:00Z")."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slot_recurrence_id(slot: str) -> int | None:
    """The RECURRENCE-ID (epoch) an override's slot ("R:<epoch>") stands for; None
    for the master and for the occurrences wesync makes itself (expanded, off-rule)."""
    return slot_start(slot) if slot.startswith("R:") else None


@dataclass(frozen=True, kw_only=True, slots=True)
class SyncProblem:
    """A problem, with every fact known about what it is about (None: not known).

    `kind` is the kind's text ("truncated", "duplicate-uid"), so a record read
    back from an older or newer status database keeps a kind this wesync lacks.
    """

    kind: str
    message: str  #: what happened, without the file or UID (those are fields)
    path: str | None = None  #: the file (a vdir's .ics, or the single .ics file)
    uid: str | None = None
    recurrence_id: str | None = None  #: see `recurrence_text`
    schedule_id: str | None = None

    @classmethod
    def of(
        cls,
        kind: Kind,
        message: str,
        *,
        path: str | None = None,
        uid: str | None = None,
        recurrence_id: int | None = None,
        schedule_id: str | None = None,
    ) -> SyncProblem:
        return cls(
            kind=kind.value,
            message=message,
            path=path,
            uid=uid,
            recurrence_id=None if recurrence_id is None else recurrence_text(recurrence_id),
            schedule_id=schedule_id,
        )

    @classmethod
    def from_translation(cls, problem: Problem, *, path: str, uid: str) -> SyncProblem:
        return cls.of(
            problem.kind,
            problem.message,
            path=path,
            uid=uid,
            recurrence_id=problem.recurrence_id,
        )

    def to_json(self) -> dict[str, str | None]:
        """Every field, None where unknown: one shape for scripts to read."""
        return {f: getattr(self, f) for f in FIELDS}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SyncProblem:
        def text(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        return cls(
            kind=text("kind") or "unknown",
            message=text("message") or "",
            path=text("path"),
            uid=text("uid"),
            recurrence_id=text("recurrence_id"),
            schedule_id=text("schedule_id"),
        )

    def subject(self) -> str:
        """What the problem is about, as a log line names it."""
        parts = []
        if self.path:
            parts.append(self.path)
        if self.uid:
            parts.append(f"(UID {self.uid})" if self.path else f"UID {self.uid}")
        if self.recurrence_id:
            parts.append(f"RECURRENCE-ID {self.recurrence_id}")
        if self.schedule_id:
            parts.append(f"WeCom schedule {self.schedule_id}")
        return " ".join(parts)

    def __str__(self) -> str:
        subject = self.subject()
        return f"{subject}: {self.message}" if subject else self.message


def group_by_kind(problems: Iterable[SyncProblem]) -> dict[str, list[SyncProblem]]:
    """kind -> its problems, kinds in `KIND_ORDER` (unknown ones last, by name),
    each kind's problems by path, UID and occurrence."""
    groups: dict[str, list[SyncProblem]] = {}
    for p in problems:
        groups.setdefault(p.kind, []).append(p)
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    return {
        kind: sorted(
            groups[kind],
            key=lambda p: (p.path or "", p.uid or "", p.recurrence_id or "", p.message),
        )
        for kind in sorted(groups, key=lambda k: (rank.get(k, len(rank)), k))
    }
