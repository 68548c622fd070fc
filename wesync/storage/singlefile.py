"""Many events in one .ics file; the href of an event is its UID.

The file is read and indexed once per instance (vdirsyncer re-split it per
item and took hours on 1,822 events, their issue #818). Writes are kept in
memory and `flush()` rewrites the file in one atomic replace, and only when
something changed. Everything the sync did not touch (other components,
VTIMEZONEs, calendar properties, unchanged events, even the line breaks)
is copied from the original bytes, not re-serialized.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from wesync.errors import (
    DuplicateUidError,
    ItemNotFound,
    ItemParseError,
    PreconditionFailed,
    StorageError,
)
from wesync.storage import atomic, ics_split
from wesync.storage.base import Etag, Href

EMPTY_CALENDAR = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//wesync//wesync//EN\r\nEND:VCALENDAR\r\n"
)
_LINE_BREAK = re.compile(rb"\r?\n")

FileState = tuple[int, int, int]  # (mtime_ns, size, inode)


def _state(st: os.stat_result) -> FileState:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@dataclass(frozen=True)
class _Item:
    uid: str
    calendar: int  #: which VCALENDAR of the file it belongs to
    events: tuple[bytes, ...]  #: VEVENT blocks, verbatim
    tzids: frozenset[str]
    timezones: tuple[tuple[str, bytes], ...]  #: (TZID, VTIMEZONE) it adds to the file
    data: bytes  #: the item as a VCALENDAR
    etag: Etag


@dataclass(frozen=True)
class _Loaded:
    data: bytes
    split: ics_split.Split
    state: FileState | None  #: None when the file did not exist
    items: dict[str, _Item]
    timezones: dict[str, bytes]  #: TZID -> the file's VTIMEZONE block (first one wins)
    duplicates: dict[str, DuplicateUidError]
    problems: tuple[StorageError, ...]


class SingleFileStorage:
    """All events of one .ics file; see wesync.storage.base for the interface.

    `problems` lists what the file holds but the storage cannot offer as an
    item: UIDs used by two masters or twice for one RECURRENCE-ID
    (DuplicateUidError, not listed) and VEVENTs without a usable UID
    (ItemParseError). Those are left in the file exactly as they are.
    """

    def __init__(self, path: Path, *, create_if_missing: bool = False) -> None:
        self.path = Path(path)
        self.create_if_missing = create_if_missing
        self._loaded: _Loaded | None = None
        # uid -> new item, or None for a deletion; applied to the file by flush()
        self._changes: dict[str, _Item | None] = {}
        self.problems: list[StorageError] = []

    def __repr__(self) -> str:
        return f"SingleFileStorage({str(self.path)!r})"

    # -- loading ---------------------------------------------------------

    def _read(self) -> tuple[bytes, FileState | None]:
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
                return data, _state(os.fstat(handle.fileno()))
        except FileNotFoundError:
            if self.create_if_missing and self.path.parent.is_dir():
                return EMPTY_CALENDAR, None
            raise StorageError("file does not exist", path=self.path) from None
        except IsADirectoryError:
            raise StorageError("is a folder, not an .ics file", path=self.path) from None
        except OSError as exc:
            raise StorageError(f"cannot read: {exc.strerror}", path=self.path) from exc

    def _load(self) -> _Loaded:
        data, state = self._read()
        if not data.strip():
            if not self.create_if_missing:
                raise ItemParseError("empty file (no VCALENDAR)", path=self.path)
            data = EMPTY_CALENDAR
        return self._index(data, state)

    def _index(self, data: bytes, state: FileState | None) -> _Loaded:
        split = ics_split.split_calendar(data, source=str(self.path))
        timezones: dict[str, bytes] = {}
        groups: dict[str, list[ics_split.Component]] = {}
        problems: list[StorageError] = []
        for comp in split.components:
            if comp.name == "VTIMEZONE" and comp.tzid and comp.tzid not in timezones:
                timezones[comp.tzid] = data[comp.start : comp.end]
            elif comp.name == "VEVENT":
                if comp.uid is None:
                    why = comp.uid_problem or "has no UID"
                    problems.append(
                        ItemParseError(
                            f"VEVENT on line {comp.line} {why}; left as it is", path=self.path
                        )
                    )
                else:
                    groups.setdefault(comp.uid, []).append(comp)
        items: dict[str, _Item] = {}
        duplicates: dict[str, DuplicateUidError] = {}
        for uid, comps in groups.items():
            clash = _clashing(comps)
            if clash:
                error = DuplicateUidError(uid, [f"{self.path}:{c.line}" for c in clash])
                duplicates[uid] = error
                problems.append(error)
                continue
            events = tuple(data[c.start : c.end] for c in comps)
            tzids = frozenset().union(*(c.tzids for c in comps))
            items[uid] = self._make_item(
                split=split,
                file_timezones=timezones,
                uid=uid,
                calendar=comps[0].calendar,
                events=events,
                tzids=tzids,
                brought={},
            )
        return _Loaded(data, split, state, items, timezones, duplicates, tuple(problems))

    def _make_item(
        self,
        *,
        split: ics_split.Split,
        file_timezones: dict[str, bytes],
        uid: str,
        calendar: int,
        events: tuple[bytes, ...],
        tzids: frozenset[str],
        brought: dict[str, bytes],
    ) -> _Item:
        nl = split.newline
        zones = [file_timezones.get(tz) or brought.get(tz) for tz in sorted(tzids)]
        data = b"".join(
            (
                b"BEGIN:VCALENDAR" + nl,
                split.calendars[calendar].header,
                *(zone for zone in zones if zone),
                *events,
                b"END:VCALENDAR" + nl,
            )
        )
        return _Item(
            uid=uid,
            calendar=calendar,
            events=events,
            tzids=tzids,
            timezones=tuple(
                (tz, block)
                for tz, block in brought.items()
                if tz in tzids and tz not in file_timezones
            ),
            data=data,
            etag=hashlib.sha256(data).hexdigest(),
        )

    def _state(self) -> _Loaded:
        if self._loaded is None:
            self._loaded = self._load()
            self.problems = list(self._loaded.problems)
        return self._loaded

    def _refresh_if_changed(self) -> _Loaded:
        """Re-read the file if someone changed it since, unless we hold unflushed writes."""
        loaded = self._loaded
        if loaded is None:
            return self._state()
        if self._changes:
            return loaded
        try:
            now: FileState | None = _state(os.stat(self.path))
        except FileNotFoundError:
            now = None
        except OSError as exc:
            raise StorageError(f"cannot stat: {exc.strerror}", path=self.path) from exc
        if now != loaded.state:
            self._loaded = None
        return self._state()

    def _current(self, uid: str) -> _Item | None:
        loaded = self._state()
        if uid in self._changes:
            return self._changes[uid]
        return loaded.items.get(uid)

    def _require(self, href: Href) -> _Item:
        loaded = self._state()
        if href in loaded.duplicates:
            raise loaded.duplicates[href]
        item = self._current(href)
        if item is None:
            raise ItemNotFound(f"no event with UID {href!r}", path=self.path)
        return item

    # -- the storage interface ---------------------------------------------

    def list(self) -> Iterator[tuple[Href, Etag]]:
        """Every usable event's UID and content hash (UIDs in `problems` are left out)."""
        loaded = self._refresh_if_changed()
        listing = [
            (uid, item.etag) for uid, item in loaded.items.items() if uid not in self._changes
        ]
        listing.extend((uid, item.etag) for uid, item in self._changes.items() if item is not None)
        return iter(listing)

    def get(self, href: Href) -> tuple[bytes, Etag]:
        item = self._require(href)
        return item.data, item.etag

    def _item_from(self, uid: str, data: bytes, calendar: int) -> _Item:
        loaded = self._state()
        try:
            split = ics_split.split_calendar(data, source=f"{self.path} (new data for {uid!r})")
        except ItemParseError as exc:
            raise StorageError(f"refusing to write unparsable data for UID {uid!r}: {exc}") from exc
        nl = loaded.split.newline
        events: list[bytes] = []
        timezones: dict[str, bytes] = {}
        tzids: set[str] = set()
        for comp in split.components:
            block = _LINE_BREAK.sub(nl, data[comp.start : comp.end])
            if comp.name == "VEVENT":
                if comp.uid != uid:
                    raise StorageError(
                        f"item for UID {uid!r} holds a VEVENT with UID {comp.uid!r}", path=self.path
                    )
                events.append(block)
                tzids |= comp.tzids
            elif comp.name == "VTIMEZONE":
                if comp.tzid:
                    timezones.setdefault(comp.tzid, block)
            else:
                raise StorageError(
                    f"item for UID {uid!r} holds a {comp.name}; "
                    "only VEVENT and VTIMEZONE belong in an item",
                    path=self.path,
                )
        if not events:
            raise StorageError(f"item for UID {uid!r} holds no VEVENT", path=self.path)
        _reject_clashes(uid, split.components, self.path)
        return self._make_item(
            split=loaded.split,
            file_timezones=loaded.timezones,
            uid=uid,
            calendar=calendar,
            events=tuple(events),
            tzids=frozenset(tzids),
            brought=timezones,
        )

    def create(self, uid: str, data: bytes) -> tuple[Href, Etag]:
        """Add an event; a UID already in the file is refused (href = UID, never overwritten)."""
        loaded = self._state()
        if uid in loaded.duplicates:
            raise loaded.duplicates[uid]
        if self._current(uid) is not None:
            raise DuplicateUidError(uid, [str(self.path)])
        item = self._item_from(uid, data, len(loaded.split.calendars) - 1)
        self._changes[uid] = item
        return uid, item.etag

    def update(self, href: Href, data: bytes, etag: Etag) -> Etag:
        current = self._require(href)
        if current.etag != etag:
            raise PreconditionFailed(
                f"event {href!r} changed since it was read (etag mismatch)", path=self.path
            )
        item = self._item_from(href, data, current.calendar)
        self._changes[href] = item
        return item.etag

    def delete(self, href: Href, etag: Etag) -> None:
        current = self._require(href)
        if current.etag != etag:
            raise PreconditionFailed(
                f"event {href!r} changed since it was read (etag mismatch)", path=self.path
            )
        self._changes[href] = None

    def flush(self) -> None:
        """Rewrite the file atomically if anything changed, refusing if it changed on disk."""
        if not self._changes:
            return
        loaded = self._state()
        data = render(loaded.data, loaded.split, loaded.items, self._changes)
        if data == loaded.data:
            self._changes.clear()
            return
        self._write(data, loaded.state)
        self._changes.clear()
        # Read back lazily: a sync usually ends with its flush, so re-indexing
        # here would double the cost of a write for nothing.
        self._loaded = None

    def _write(self, data: bytes, expected: FileState | None) -> None:
        try:
            before: os.stat_result | None = os.stat(self.path)
        except FileNotFoundError:
            before = None
        except OSError as exc:
            raise StorageError(f"cannot stat: {exc.strerror}", path=self.path) from exc
        if (before and _state(before)) != expected:
            raise PreconditionFailed(
                "the file changed on disk since it was read; nothing was written", path=self.path
            )
        try:
            if before is None:
                atomic.create_new(self.path, data)
            else:
                atomic.replace(self.path, data, mode=before.st_mode & 0o7777)
        except FileExistsError:
            raise PreconditionFailed(
                "the file appeared on disk meanwhile; nothing was written", path=self.path
            ) from None
        except OSError as exc:
            raise StorageError(f"cannot write: {exc.strerror}", path=self.path) from exc


def _clashing(comps: list[ics_split.Component]) -> list[ics_split.Component]:
    """Components that make a UID ambiguous: two masters. One RECURRENCE-ID twice
    is two revisions of one occurrence, which SEQUENCE tells apart (translate/ics.py)."""
    masters = [comp for comp in comps if comp.recurrence_id is None]
    return masters if len(masters) > 1 else []


def _reject_clashes(uid: str, comps: tuple[ics_split.Component, ...], path: Path) -> None:
    clash = _clashing([c for c in comps if c.name == "VEVENT"])
    if clash:
        raise DuplicateUidError(uid, [f"{path} (new data, line {c.line})" for c in clash])


def render(
    original: bytes,
    split: ics_split.Split,
    items: dict[str, _Item],
    changes: dict[str, _Item | None],
) -> bytes:
    """The file with `changes` applied; every byte outside changed events is kept."""
    # (offset, order, end, replacement): insertions sort before a replacement at the same offset
    edits: list[tuple[int, int, int, bytes]] = []
    placed: set[str] = set()
    for comp in split.components:
        if comp.name != "VEVENT" or comp.uid is None or comp.uid not in changes:
            continue
        if comp.uid not in items:
            continue  # a duplicate UID: never ours to rewrite
        new = changes[comp.uid]
        text = b""
        if new is not None and comp.uid not in placed:
            text = b"".join(new.events)
            placed.add(comp.uid)
        edits.append((comp.start, 1, comp.end, text))
    added = [item for uid, item in changes.items() if item is not None and uid not in placed]
    last = split.calendars[-1]
    if added:
        edits.append((last.end_line, 0, last.end_line, b"".join(b"".join(i.events) for i in added)))
    zones: dict[str, bytes] = {}
    for item in changes.values():
        if item is not None:
            for tzid, block in item.timezones:
                zones.setdefault(tzid, block)
    if zones:
        first = split.calendars[-1].body_start
        edits.append((first, -1, first, b"".join(zones.values())))
    edits.sort(key=lambda edit: (edit[0], edit[1]))
    out: list[bytes] = []
    pos = 0
    for start, _order, end, text in edits:
        out.append(original[pos:start])
        out.append(text)
        pos = end
    out.append(original[pos:])
    return b"".join(out)
