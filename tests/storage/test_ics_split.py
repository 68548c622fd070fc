from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.storage.ics import SHANGHAI, calendar, vevent
from wesync.errors import ItemParseError
from wesync.storage.ics_split import split_calendar


def test_components_are_exact_byte_spans() -> None:
    data = calendar(SHANGHAI, vevent("a"), "BEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\n")
    split = split_calendar(data, source="x.ics")
    assert [c.name for c in split.components] == ["VTIMEZONE", "VEVENT", "VTODO"]
    assert data[split.components[1].start : split.components[1].end] == vevent("a").encode()
    assert split.components[0].tzid == "Asia/Shanghai"
    assert split.components[1].tzids == {"Asia/Shanghai"}
    assert split.newline == b"\r\n"
    [cal] = split.calendars
    assert cal.header == b"VERSION:2.0\r\nPRODID:-//tests//EN\r\n"
    assert data[cal.end_line :] == b"END:VCALENDAR\r\n"
    assert cal.body_start == split.components[0].start


def test_uid_is_unfolded_and_unescaped() -> None:
    data = (
        b"BEGIN:VCALENDAR\nBEGIN:VEVENT\n"
        b"UID:long-uid-that-\n wraps\\, and\\; more\\\\\n"
        b"END:VEVENT\nEND:VCALENDAR"
    )
    split = split_calendar(data, source="x.ics")
    assert split.components[0].uid == "long-uid-that-wraps, and; more\\"
    assert split.newline == b"\n"
    assert split.calendars[0].end == len(data)


def test_only_direct_properties_identify_an_event() -> None:
    data = calendar(
        "BEGIN:VEVENT\r\n"
        "DESCRIPTION:UID:fake\r\n"
        "BEGIN:VALARM\r\nUID:alarm-uid\r\nRECURRENCE-ID:20260101T000000Z\r\nEND:VALARM\r\n"
        'uid;X-P="q:uoted":real\r\n'
        "END:VEVENT\r\n"
    )
    [comp] = split_calendar(data, source="x.ics").components
    assert comp.uid == "real"
    assert comp.recurrence_id is None


def test_recurrence_id_key_includes_its_zone() -> None:
    data = calendar(
        vevent("s", recurrence_id="20260112T090000"),
        vevent("s", tzid=None, recurrence_id="20260112T010000Z", start="20260112T010000Z"),
    )
    keys = [c.recurrence_id for c in split_calendar(data, source="x.ics").components]
    assert keys == ["Asia/Shanghai|20260112T090000", "|20260112T010000Z"]


def test_tzid_parameters_anywhere_inside_are_collected() -> None:
    data = calendar(
        vevent("a", extra=('DTEND;TZID="Europe/Berlin":20260105T100000', "EXDATE;tzid=UTC:x"))
    )
    [comp] = split_calendar(data, source="x.ics").components
    assert comp.tzids == {"Asia/Shanghai", "Europe/Berlin", "UTC"}


def test_byte_order_mark_and_blank_lines_are_tolerated() -> None:
    data = b"\xef\xbb\xbf" + calendar(vevent("a")).replace(b"VERSION", b"\r\nVERSION") + b"\r\n\r\n"
    [comp] = split_calendar(data, source="x.ics").components
    assert comp.uid == "a"


def test_two_uid_properties_make_the_uid_unusable() -> None:
    data = calendar(vevent("a", extra=("UID:b",)))
    [comp] = split_calendar(data, source="x.ics").components
    assert comp.uid is None
    assert comp.uid_problem == "has more than one UID"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no VCALENDAR"),
        (b"BEGIN:VEVENT\r\nEND:VEVENT\r\n", "line 1: expected BEGIN:VCALENDAR"),
        (b"hello\r\n", "line 1: content outside"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", "BEGIN:VEVENT on line 2 is never closed"),
        (b"BEGIN:VCALENDAR\r\nEND:VEVENT\r\n", "line 2: END:VEVENT does not close BEGIN:VCALENDAR"),
        (b"END:VCALENDAR\r\n", "line 1: END:VCALENDAR without"),
        (calendar() + b"trailing junk\r\n", "line 5: content outside"),
    ],
)
def test_broken_structure_names_the_source_and_line(data: bytes, message: str) -> None:
    with pytest.raises(ItemParseError) as caught:
        split_calendar(data, source="/cal/x.ics")
    assert str(caught.value).startswith("/cal/x.ics: ")
    assert message in str(caught.value)


SAMPLE = calendar(
    SHANGHAI,
    vevent("a", extra=("BEGIN:VALARM", "TRIGGER:-PT5M", "END:VALARM")),
    vevent("a", recurrence_id="20260112T090000"),
    "BEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\n",
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_split_or_raise_a_parse_error(data: bytes) -> None:
    try:
        split = split_calendar(data, source="fuzz.ics")
    except ItemParseError:
        return
    for comp in split.components:
        assert 0 <= comp.start < comp.end <= len(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mangled_calendars_split_or_raise_a_parse_error(data: st.DataObject) -> None:
    lines = SAMPLE.split(b"\r\n")
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["drop", "dup", "fold", "junk"]))
        if action == "drop":
            del lines[at]
        elif action == "dup":
            lines.insert(at, lines[at])
        elif action == "fold":
            lines[at : at + 1] = [lines[at][:3], b" " + lines[at][3:]]
        else:
            lines.insert(at, data.draw(st.binary(max_size=20)))
    mangled = b"\r\n".join(lines)
    try:
        split = split_calendar(mangled, source="fuzz.ics")
    except ItemParseError as exc:
        assert str(exc).startswith("fuzz.ics: ")
        return
    spans = [(c.start, c.end) for c in split.components]
    assert spans == sorted(spans)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
