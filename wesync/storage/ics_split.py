"""Split iCalendar bytes into top-level components, keeping each one's exact bytes.

A full parser (icalendar) rebuilds components and loses their original
text, so the single-file storage could not leave untouched events
byte-for-byte as they were. This scanner reads only structure (BEGIN/END
nesting) and the few properties that identify an event (UID, RECURRENCE-ID,
TZID), and records byte offsets. Interpreting values is left to whoever
parses an item later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wesync.errors import ItemParseError

BOM = b"\xef\xbb\xbf"
_NAME = re.compile(rb"[A-Za-z0-9-]+")
_TEXT_ESCAPES = {b"\\\\": b"\\", b"\\;": b";", b"\\,": b",", b"\\n": b"\n", b"\\N": b"\n"}
_TEXT_ESCAPE = re.compile(rb"\\[\\;,nN]")
# Only these direct properties matter here; skipping the rest keeps a scan cheap.
_IDENTIFYING = (b"UID", b"RECURRENCE-ID", b"TZID")
_BEGIN_END_INITIALS = (b"B", b"E", b"b", b"e")


@dataclass(frozen=True)
class Component:
    """One component directly inside a VCALENDAR (a VEVENT, VTIMEZONE, VTODO, ...)."""

    name: str  #: upper case, e.g. "VEVENT"
    start: int  #: byte offset of its BEGIN line
    end: int  #: byte offset just past its END line and line break
    line: int  #: 1-based line number of its BEGIN line
    calendar: int  #: index of the VCALENDAR holding it
    uid: str | None  #: its own UID property (unescaped), None if absent or undecodable
    uid_problem: str | None  #: why a UID line was present but unusable
    recurrence_id: str | None  #: "TZID|VALUE" of its RECURRENCE-ID, None for a master
    tzid: str | None  #: a VTIMEZONE's own TZID
    tzids: frozenset[str]  #: TZID parameters used anywhere inside it


@dataclass(frozen=True)
class CalendarSpan:
    """One VCALENDAR: where it is, and its own property lines (VERSION, PRODID, X-WR-...)."""

    start: int
    end: int
    header: bytes  #: its property lines, verbatim, each ending with a line break
    body_start: int  #: where its first component starts (or its END line if it has none)
    end_line: int  #: byte offset of its END:VCALENDAR line


@dataclass(frozen=True)
class Split:
    calendars: tuple[CalendarSpan, ...]
    components: tuple[Component, ...]
    newline: bytes  #: the line break the data uses (b"\r\n" or b"\n")


_Line = tuple[int, int, int, bytes]  # (start, end, line number, unfolded text)


def _logical_lines(data: bytes) -> list[_Line]:
    """Unfold physical lines, remembering where each logical line starts and ends."""
    lines: list[_Line] = []
    pos = 0
    first_start = 0
    first_number = 0
    parts: list[bytes] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        start = pos
        pos += len(raw) + 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if parts and raw[:1] in (b" ", b"\t"):
            parts.append(raw[1:])
            continue
        if parts:
            text = parts[0] if len(parts) == 1 else b"".join(parts)
            lines.append((first_start, start, first_number, text))
        parts = [raw]
        first_start = start
        first_number = number
    if parts:
        text = parts[0] if len(parts) == 1 else b"".join(parts)
        lines.append((first_start, min(pos, len(data)), first_number, text))
    return lines


def _split_params(rest: bytes) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
    """Parse ';PARAM=value,...' up to the ':' that starts the value; quoted values may hold ':'."""
    params: list[tuple[bytes, bytes]] = []
    i = 0
    size = len(rest)
    while i < size and rest[i : i + 1] == b";":
        eq = rest.find(b"=", i + 1)
        if eq < 0:
            return None
        pname = rest[i + 1 : eq].upper()
        i = eq + 1
        while True:
            if rest[i : i + 1] == b'"':
                close = rest.find(b'"', i + 1)
                if close < 0:
                    return None
                params.append((pname, rest[i + 1 : close]))
                i = close + 1
            else:
                j = i
                while j < size and rest[j : j + 1] not in (b",", b";", b":"):
                    j += 1
                params.append((pname, rest[i:j]))
                i = j
            if rest[i : i + 1] == b",":
                i += 1
                continue
            break
    if rest[i : i + 1] != b":":
        return None
    return params, rest[i + 1 :]


def _content_line(text: bytes) -> tuple[bytes, list[tuple[bytes, bytes]], bytes] | None:
    match = _NAME.match(text)
    if match is None:
        return None
    parsed = _split_params(text[match.end() :])
    if parsed is None:
        return None
    return match.group().upper(), parsed[0], parsed[1]


def _unescape_text(value: bytes) -> bytes:
    return _TEXT_ESCAPE.sub(lambda m: _TEXT_ESCAPES[m.group()], value)


def _decode(value: bytes) -> str | None:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


class _Open:
    """A top-level component being scanned."""

    def __init__(self, name: str, start: int, line: int, calendar: int) -> None:
        self.name = name
        self.start = start
        self.line = line
        self.calendar = calendar
        self.uid: str | None = None
        self.uid_problem: str | None = None
        self.recurrence_id: str | None = None
        self.tzid: str | None = None
        self.tzids: set[str] = set()

    def close(self, end: int) -> Component:
        return Component(
            name=self.name,
            start=self.start,
            end=end,
            line=self.line,
            calendar=self.calendar,
            uid=self.uid,
            uid_problem=self.uid_problem,
            recurrence_id=self.recurrence_id,
            tzid=self.tzid,
            tzids=frozenset(self.tzids),
        )


def _note_property(
    comp: _Open, name: bytes, params: list[tuple[bytes, bytes]], value: bytes
) -> None:
    if name == b"UID":
        if comp.uid is not None or comp.uid_problem is not None:
            comp.uid_problem = "has more than one UID"
            comp.uid = None
            return
        uid = _decode(_unescape_text(value).strip())
        if uid is None:
            comp.uid_problem = "UID is not valid UTF-8"
        elif not uid:
            comp.uid_problem = "UID is empty"
        else:
            comp.uid = uid
    elif name == b"RECURRENCE-ID":
        tz = next((v for k, v in params if k == b"TZID"), b"")
        comp.recurrence_id = (tz + b"|" + value.strip().upper()).decode("utf-8", "replace")
    elif name == b"TZID" and comp.name == "VTIMEZONE":
        comp.tzid = _decode(value.strip())


def _begin_end(text: bytes) -> tuple[bytes, str] | None:
    """('BEGIN'|'END', component name) for a structural line, else None."""
    head = text[:6].upper()
    if not (head.startswith(b"BEGIN:") or head.startswith(b"END:")):
        return None
    keyword, _, value = text.partition(b":")
    name = value.strip().upper().decode("ascii", "replace")
    return keyword.upper(), name


def split_calendar(data: bytes, *, source: str) -> Split:
    """Index `data`; raises ItemParseError naming `source` if its structure is broken."""
    lines = _logical_lines(data)
    first_break = data.find(b"\n")
    newline = b"\r\n" if first_break > 0 and data[first_break - 1] == 0x0D else b"\n"
    calendars: list[CalendarSpan] = []
    components: list[Component] = []
    stack: list[tuple[str, int]] = []  # (name, line number)
    cal_start = 0
    cal_header: list[bytes] = []
    cal_body: int | None = None
    current: _Open | None = None

    def fail(message: str) -> ItemParseError:
        return ItemParseError(message, path=source)

    for index, (line_start, line_end, number, text) in enumerate(lines):
        if index == 0 and text.startswith(BOM):
            text = text[len(BOM) :]
        if not text or text.isspace():
            continue
        structural = _begin_end(text) if text[:1] in _BEGIN_END_INITIALS else None
        if structural is not None and structural[0] == b"BEGIN":
            name = structural[1]
            if not stack and name != "VCALENDAR":
                raise fail(f"line {number}: expected BEGIN:VCALENDAR, found BEGIN:{name}")
            if len(stack) == 1:
                if cal_body is None:
                    cal_body = line_start
                current = _Open(name, line_start, number, len(calendars))
            elif not stack:
                cal_start, cal_header, cal_body = line_start, [], None
            stack.append((name, number))
            continue
        if structural is not None and structural[0] == b"END":
            name = structural[1]
            if not stack:
                raise fail(f"line {number}: END:{name} without a matching BEGIN")
            open_name, open_line = stack[-1]
            if name != open_name:
                raise fail(
                    f"line {number}: END:{name} does not close BEGIN:{open_name} (line {open_line})"
                )
            stack.pop()
            if len(stack) == 1 and current is not None:
                components.append(current.close(line_end))
                current = None
            elif not stack:
                calendars.append(
                    CalendarSpan(
                        start=cal_start,
                        end=line_end,
                        header=b"".join(cal_header),
                        body_start=cal_body if cal_body is not None else line_start,
                        end_line=line_start,
                    )
                )
            continue
        if not stack:
            raise fail(f"line {number}: content outside BEGIN:VCALENDAR ... END:VCALENDAR")
        if len(stack) == 1:
            chunk = data[line_start:line_end]
            cal_header.append(chunk if chunk.endswith(b"\n") else chunk + newline)
            continue
        if current is None:
            continue
        direct = len(stack) == 2 and text[:13].upper().startswith(_IDENTIFYING)
        if direct or b"TZID" in text or b"tzid" in text:
            parsed = _content_line(text)
            if parsed is None:
                continue
            name_b, params, value = parsed
            for key, val in params:
                if key == b"TZID":
                    tzid = _decode(val)
                    if tzid:
                        current.tzids.add(tzid)
            if direct:
                _note_property(current, name_b, params, value)
    if stack:
        name, open_line = stack[-1]
        raise fail(f"truncated: BEGIN:{name} on line {open_line} is never closed")
    if not calendars:
        raise fail("no VCALENDAR in the file")
    return Split(tuple(calendars), tuple(components), newline)
