"""Reading the files' side of a pair: list, and parse only what changed.

A file whose href and etag equal the status's is not opened: its stored
per-slot digests stand for it. Expanded series depend on the date too (the
rolling window), so theirs stand for them only on the day (UTC) they were
confirmed for (`StatusItem.expand_day`): such a file is translated again at
most once a day, and when the stored digests equal the fresh ones the engine
stamps the day (`LocalScan.confirmed`). An occurrence entering the far end of
the window during a day is therefore sent on the next day's first run (or
sooner, with any other change of the event). A file that does not parse is
reported by path and its event is held (left alone, never counted as
deleted); so are UIDs found in two files.

What the translator reports about a file is a fact about its content: the
scan hands it on per file (`LocalScan.event_problems`) for the status database
to keep until the file changes or goes, and adds it to the run's problems only
when the file is new or changed, so a log does not repeat it every day.

Only what planning needs is kept per item: digests, summary, and for events
the status does not know yet the (summary, start, end) of each slot, which
pairing uses. The bytes are kept for at most `KEEP_LOADED` changed items; the
executor reads the others again when it has to write them (checking the
etag). Parsed calendars and translations are bigger still: only the
`HELD_FORMS` most recently used items hold theirs, the others derive them from
their bytes again when asked (so the executor's items stay small too).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wesync.errors import DuplicateUidError, ItemNotFound, StorageError
from wesync.storage.base import LocalStorage
from wesync.storage.singlefile import SingleFileStorage
from wesync.sync.problems import SyncKind, SyncProblem
from wesync.sync.slots import is_retired
from wesync.sync.status import StatusItem
from wesync.translate.canonical import EventTranslation, SlotKey
from wesync.translate.options import TranslateOptions

if TYPE_CHECKING:
    # the parser and translator (icalendar, dateutil) are imported when a file
    # is read: a sync where nothing changed needs neither
    from wesync.translate.ics import ParsedItem

log = logging.getLogger("wesync.sync")

DAY = 86400
#: changed items kept with their bytes, parsed form and translation after the scan
KEEP_LOADED = 500


def window_day(now: int) -> int:
    """The day (UTC, days since the epoch) of the expansion window at `now`."""
    return now // DAY


@dataclass(kw_only=True, slots=True)
class LocalItem:
    uid: str
    href: str
    etag: str
    #: slot -> content digest of the local draft (retired slots left out)
    digests: dict[SlotKey, str]
    summary: str = ""
    skipped: bool = False
    expanded: bool = False
    #: slot -> (summary, start, end), for pairing an event the status does not know
    matches: dict[SlotKey, tuple[str, int, int]] | None = None
    #: set when the file was read this run (and kept: see KEEP_LOADED)
    data: bytes | None = None
    #: (options, now, where): how `data` was parsed and translated, to do it again
    source: tuple[TranslateOptions, int, str] | None = field(default=None, repr=False)
    _parsed: ParsedItem | None = field(default=None, init=False, repr=False, compare=False)
    _translation: EventTranslation | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def parsed(self) -> ParsedItem | None:
        """The parsed file (None when its bytes are not held)."""
        if self._parsed is None:
            self._load()
        return self._parsed

    @property
    def translation(self) -> EventTranslation | None:
        """Its WeCom slots with the problems (None when its bytes are not held)."""
        if self._translation is None:
            self._load()
        return self._translation

    def _load(self) -> None:
        # the parsed form and the translation are big (an expanded series holds
        # hundreds of drafts): only the HELD_FORMS most recently used items keep
        # theirs, the others derive them again from their bytes when asked
        if self.data is None or self.source is None:
            return
        from wesync.translate.ics import parse_item
        from wesync.translate.to_wecom import translate_event

        options, now, where = self.source
        self._parsed = parse_item(self.data, where=where)
        self._translation = translate_event(self._parsed, options=options, now=now)
        _hold_forms(self)

    def unload(self) -> None:
        """Keep what planning needs; the executor reads the file again if it must."""
        self.data = None
        self._parsed = None
        self._translation = None


#: items holding their parsed form and translation at once (the least recent let go)
HELD_FORMS = 64
_holding: deque[LocalItem] = deque()


def _hold_forms(item: LocalItem) -> None:
    _holding.append(item)
    while len(_holding) > HELD_FORMS:
        old = _holding.popleft()
        if not any(x is old for x in _holding):
            old._parsed = None
            old._translation = None


@dataclass(kw_only=True)
class LocalScan:
    items: dict[str, LocalItem] = field(default_factory=dict)
    #: uid -> why it is left alone this run
    held: dict[str, str] = field(default_factory=dict)
    problems: list[SyncProblem] = field(default_factory=list)
    #: href -> the translator's problems, for every file read this run (empty: none)
    event_problems: dict[str, tuple[SyncProblem, ...]] = field(default_factory=dict)
    #: every href listed, so the status can drop what it keeps of files now gone
    hrefs: set[str] = field(default_factory=set)
    listed: int = 0  #: hrefs the storage listed (0 with a non-empty status is suspicious)
    parsed: int = 0  #: files read and translated this run
    #: expanded, unchanged items whose stored digests equal today's translation
    confirmed: list[str] = field(default_factory=list)


def item_path(storage: LocalStorage, where: str, href: str) -> str:
    """The file an item lives in: a vdir's file, or the single .ics file itself."""
    return where if isinstance(storage, SingleFileStorage) else f"{where}/{href}"


def translation_problems(item: LocalItem, path: str) -> tuple[SyncProblem, ...]:
    """What the translator said about an item read this run, as records."""
    if item.translation is None:
        return ()
    return tuple(
        SyncProblem.from_translation(p, path=path, uid=item.uid) for p in item.translation.problems
    )


def translate(
    data: bytes, *, href: str, etag: str, options: TranslateOptions, now: int, where: str
) -> LocalItem:
    """Parse and translate one item (raises ItemParseError)."""
    from wesync.translate.ics import parse_item
    from wesync.translate.to_wecom import translate_event

    parsed = parse_item(data, where=where)
    translation = translate_event(parsed, options=options, now=now)
    return _item(
        data, parsed, translation, href=href, etag=etag, source=(options, now, where), now=now
    )


def _item(
    data: bytes,
    parsed: ParsedItem,
    translation: EventTranslation,
    *,
    href: str,
    etag: str,
    source: tuple[TranslateOptions, int, str],
    now: int,
) -> LocalItem:
    digests = {
        k: d.content_digest() for k, d in translation.slots.items() if not is_retired(k, now)
    }
    master = translation.slots.get("") or next(iter(translation.slots.values()), None)
    summary = master.summary if master else _summary_of(parsed)
    item = LocalItem(
        uid=parsed.uid,
        href=href,
        etag=etag,
        digests=digests,
        summary=summary,
        skipped=translation.skipped,
        expanded=translation.expanded,
        data=data,
        source=source,
    )
    item._parsed = parsed
    item._translation = translation
    _hold_forms(item)
    return item


def _summary_of(parsed: ParsedItem) -> str:
    for event in parsed.events:
        if event.get("SUMMARY"):
            return str(event.get("SUMMARY"))
    return ""


def scan_local(
    storage: LocalStorage,
    status: Mapping[str, StatusItem],
    *,
    options: TranslateOptions,
    now: int,
    where: str,
    reread: bool = False,
) -> LocalScan:
    """`reread`: read every file, even unchanged ones (to learn their problems)."""
    scan = LocalScan()
    day = window_day(now)
    by_href = {item.href: item for item in status.values() if item.href}
    hrefs: dict[str, list[str]] = {}
    loaded = 0
    for href, etag in storage.list():
        scan.listed += 1
        scan.hrefs.add(href)
        known = by_href.get(href)
        same = known is not None and known.local_etag == etag and known.pending is None
        fresh = known is not None and (not known.expanded or known.expand_day == day)
        if same and fresh and not reread and known is not None:
            item = LocalItem(
                uid=known.uid,
                href=href,
                etag=etag,
                digests=_stored_digests(known, now),
                summary=known.summary,
                expanded=known.expanded,
            )
        else:
            path = item_path(storage, where, href)
            try:
                data, read_etag = storage.get(href)
            except ItemNotFound:
                continue  # deleted while we listed: next run sees it gone
            except StorageError as exc:
                scan.event_problems[href] = ()
                _hold(scan, known, SyncKind.UNREADABLE_FILE, f"cannot read: {_bare(exc)}", path)
                continue
            try:
                item = translate(
                    data,
                    href=href,
                    etag=read_etag,
                    options=options,
                    now=now,
                    where=f"{where}/{href}",
                )
            except StorageError as exc:
                scan.event_problems[href] = ()
                _hold(scan, known, SyncKind.UNPARSABLE, f"not synced: {_bare(exc)}", path)
                continue
            scan.parsed += 1
            assert item.translation is not None
            found = translation_problems(item, path)
            scan.event_problems[href] = found
            if known is None or known.local_etag != etag:
                # said once, when the file is new or changed (expanded series are
                # translated again every day and would repeat themselves)
                scan.problems.extend(found)
                for note in item.translation.notes:
                    log.info("%s/%s: %s", where, href, note)
            unchanged = (
                same
                and known is not None
                and read_etag == etag
                and item.digests == _stored_digests(known, now)
            )
            if unchanged and item.expanded:
                scan.confirmed.append(item.uid)
            if item.uid not in status:
                item.matches = {
                    k: (d.summary, d.start_time, d.end_time)
                    for k, d in item.translation.slots.items()
                }
            if unchanged or loaded >= KEEP_LOADED:
                item.unload()
            else:
                loaded += 1
        hrefs.setdefault(item.uid, []).append(href)
        scan.items[item.uid] = item

    for uid, names in hrefs.items():
        if len(names) > 1:
            err = DuplicateUidError(uid, [f"{where}/{n}" for n in sorted(names)])
            for name in sorted(names):
                scan.problems.append(
                    SyncProblem.of(
                        SyncKind.DUPLICATE_UID,
                        f"not synced: {err}",
                        path=item_path(storage, where, name),
                        uid=uid,
                    )
                )
            scan.held[uid] = "UID in more than one file"
            scan.items.pop(uid, None)
    for problem in getattr(storage, "problems", ()):
        if isinstance(problem, DuplicateUidError):
            scan.problems.append(
                SyncProblem.of(
                    SyncKind.DUPLICATE_UID, f"not synced: {problem}", path=where, uid=problem.uid
                )
            )
            scan.held[problem.uid] = "UID used twice in the file"
        else:
            scan.problems.append(
                SyncProblem.of(SyncKind.NO_UID, f"not synced: {_bare(problem)}", path=where)
            )
    return scan


def _stored_digests(known: StatusItem, now: int) -> dict[SlotKey, str]:
    return {
        k: s.local_digest
        for k, s in known.slots.items()
        if s.local_digest is not None and not is_retired(k, now)
    }


def _hold(
    scan: LocalScan,
    known: StatusItem | None,
    kind: SyncKind,
    message: str,
    path: str,
) -> None:
    # the UID is known only from the status: the file itself did not give one
    uid = known.uid if known is not None else None
    scan.problems.append(SyncProblem.of(kind, message, path=path, uid=uid))
    if known is not None:
        scan.held[known.uid] = "file cannot be read or parsed"


def _bare(exc: StorageError) -> str:
    """The error's message without the path it starts with (the record has the path)."""
    text = str(exc)
    prefix = f"{exc.path}: " if exc.path else ""
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text
