"""The plan as data: what one sync will do, item by item, before anything is done.

A plan can be printed (``wesync sync --dry-run``), counted (the report), or
executed (wesync.sync.execute). Actions name a `Side` instead of coming in
local/remote pairs, so the executor has one code path per kind of action.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field

from wesync.translate.canonical import SlotKey

Uid = str


class Side(enum.Enum):
    """Where an action writes."""

    LOCAL = "local"  #: the iCalendar files
    REMOTE = "remote"  #: the WeCom calendar

    def opposite(self) -> Side:
        return Side.REMOTE if self is Side.LOCAL else Side.LOCAL


@dataclass(frozen=True, kw_only=True)
class Create:
    """The item exists only on the other side: create it on `side`."""

    side: Side
    uid: Uid
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Update:
    """Make `side` hold the other side's version of the item."""

    side: Side
    uid: Uid
    reason: str = ""
    conflict: bool = False  #: both sides changed; the policy chose the other side
    #: after writing WeCom, write WeCom's version back into the file too: it carries
    #: the attendees' answers the local version does not have yet
    pull_answers: bool = False


@dataclass(frozen=True, kw_only=True)
class Delete:
    """The item was deleted on the other side: delete it on `side`."""

    side: Side
    uid: Uid
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class KeepBoth:
    """Conflict under keep-both: WeCom's version goes into the file, and the
    local version is saved beside it as a new event `copy_uid` (pushed too)."""

    uid: Uid
    copy_uid: Uid
    reason: str = "changed on both sides"


@dataclass(frozen=True, kw_only=True)
class Merge:
    """An event on the `expand` fallback (one WeCom schedule per occurrence), merged
    occurrence by occurrence: WeCom's versions of the `pull` slots go into the file
    (an edit becomes a RECURRENCE-ID override, a deletion an EXDATE); the file's
    versions of the `copies` slots are first saved as new events (keep-both); then,
    when `push`, what the file still holds differently goes to WeCom."""

    uid: Uid
    pull: tuple[SlotKey, ...]
    #: (slot, copy_uid): a conflict under keep-both; the local version of that
    #: occurrence is saved as the single event `copy_uid` (pushed too)
    copies: tuple[tuple[SlotKey, Uid], ...] = ()
    push: bool = False
    #: occurrences changed differently on both sides (the event counts as one conflict)
    conflicts: int = 0
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Record:
    """Both sides already agree: only the status changes (no write anywhere)."""

    uid: Uid
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Forget:
    """Gone from both sides: drop the status row."""

    uid: Uid
    reason: str = "deleted on both sides"


@dataclass(frozen=True, kw_only=True)
class Skip:
    """Left alone on purpose this run (direction, untranslatable, unreadable)."""

    uid: Uid
    reason: str


Action = Create | Update | Delete | KeepBoth | Merge | Record | Forget | Skip


@dataclass(frozen=True, kw_only=True)
class Plan:
    actions: tuple[Action, ...] = ()
    #: messages about items the plan noticed but cannot act on
    notes: tuple[str, ...] = field(default=())

    def __iter__(self) -> Iterator[Action]:
        return iter(self.actions)

    def __len__(self) -> int:
        return len(self.actions)

    def writes(self) -> tuple[Action, ...]:
        """The actions that write to a side (what a dry run lists)."""
        return tuple(
            a for a in self.actions if isinstance(a, Create | Update | Delete | KeepBoth | Merge)
        )

    def count(self, kind: type[Create | Update | Delete], side: Side) -> int:
        n = sum(1 for a in self.actions if isinstance(a, kind) and a.side is side)
        merges = [a for a in self.actions if isinstance(a, Merge)]
        if kind is Update and side is Side.LOCAL:
            n += sum(1 for a in self.actions if isinstance(a, KeepBoth)) + len(merges)
        if kind is Update and side is Side.REMOTE:
            n += sum(1 for a in merges if a.push)
        if kind is Create:
            # the saved local copy of a keep-both conflict is new on both sides
            n += sum(1 for a in self.actions if isinstance(a, KeepBoth))
            n += sum(len(a.copies) for a in merges)
        return n

    @property
    def conflicts(self) -> int:
        return sum(
            1
            for a in self.actions
            if isinstance(a, KeepBoth)
            or (isinstance(a, Merge) and a.conflicts)
            or (isinstance(a, Update) and a.conflict)
        )

    @property
    def skipped(self) -> int:
        return sum(1 for a in self.actions if isinstance(a, Skip))
