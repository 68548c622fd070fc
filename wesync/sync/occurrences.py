"""Merging an expanded event occurrence by occurrence (pure).

An event on the `expand` fallback is one WeCom schedule per occurrence (slots
"X:<start>"). A WeCom user edits or deletes those one at a time, while the file
changes as a whole (and the rolling window adds occurrences every few days), so
comparing the event as one digest would turn every WeCom edit into a conflict
with the window. Here each occurrence is compared on its own, three-way:

- changed on one side only: that side's version wins (a WeCom edit is pulled
  into the file, a file change pushed);
- changed on both sides to different versions: the pair's conflict policy
  decides for that occurrence alone; a change always beats a deletion, as for
  whole events;
- the same on both sides: nothing to do.

Occurrences are compared by content digest (attendees' answers left out): the
file holds no answers for single occurrences of a rule it cannot express.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wesync.config import ConflictPolicy
from wesync.translate.canonical import SlotKey


@dataclass(frozen=True, kw_only=True)
class OccurrenceMerge:
    #: WeCom's version goes into the file (absent from `remote`: an EXDATE)
    pull: tuple[SlotKey, ...] = ()
    #: keep-both: the file's version is saved as an event of its own, WeCom's pulled
    copies: tuple[SlotKey, ...] = ()
    #: the file still differs from WeCom somewhere after the pulls
    push: bool = False
    conflicts: int = 0


def merge_occurrences(
    local: Mapping[SlotKey, str],
    remote: Mapping[SlotKey, str],
    last_local: Mapping[SlotKey, str],
    last_remote: Mapping[SlotKey, str],
    *,
    policy: ConflictPolicy | None,
) -> OccurrenceMerge:
    """Decide each occurrence of an expanded event.

    The maps are slot -> content digest: the file's translation now, WeCom's
    schedules now, and both as the last sync left them. `policy` None is the
    direction from-wecom: WeCom's changes come in, nothing is pushed."""
    pull: list[SlotKey] = []
    copies: list[SlotKey] = []
    push = False
    conflicts = 0
    for key in sorted(set(local) | set(remote) | set(last_local) | set(last_remote)):
        mine, theirs = local.get(key), remote.get(key)
        if mine == theirs:
            continue
        remote_changed = theirs != last_remote.get(key)
        local_changed = mine != last_local.get(key)
        take = False
        if policy is None:
            take = remote_changed  # WeCom's edits come in; the file's own stay local
        elif not remote_changed:
            take = False  # a file change, or an occurrence not sent yet
        elif not local_changed:
            # WeCom's edit or deletion; an occurrence the file never had is one
            # only wesync's status could give WeCom (a killed run): the file wins
            take = mine is not None or last_local.get(key) is not None
        elif theirs is None or mine is None:
            take = theirs is not None  # a change beats a deletion
        else:
            conflicts += 1
            take = policy is not ConflictPolicy.LOCAL_WINS
            if policy is ConflictPolicy.KEEP_BOTH:
                copies.append(key)
        if take:
            pull.append(key)
        else:
            push = True
    return OccurrenceMerge(
        pull=tuple(pull),
        copies=tuple(copies),
        push=push and policy is not None,
        conflicts=conflicts,
    )
