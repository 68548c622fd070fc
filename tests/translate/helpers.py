"""Small builders shared by the translation tests."""

from __future__ import annotations

from wesync.translate.canonical import ScheduleDraft
from wesync.translate.ics import ParsedItem, parse_item


def vcalendar(*events: str, extra: str = "") -> bytes:
    body = "".join(events)
    text = (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\n{extra}{body}END:VCALENDAR\r\n"
    )
    return text.encode()


def vevent(*lines: str, uid: str = "ev-1", alarms: tuple[str, ...] = ()) -> str:
    body = "".join(f"{line}\r\n" for line in lines)
    alarm_text = "".join(
        f"BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:r\r\nTRIGGER{t}\r\nEND:VALARM\r\n"
        for t in alarms
    )
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\n{body}{alarm_text}END:VEVENT\r\n"
    )


def item(*events: str, extra: str = "") -> ParsedItem:
    return parse_item(vcalendar(*events, extra=extra), where="test.ics")


def single_draft(start: int, end: int, *, summary: str = "dst") -> ScheduleDraft:
    """A plain timed single schedule: only the times (and the title) matter."""
    return ScheduleDraft(
        summary=summary,
        description="",
        location="",
        start_time=start,
        end_time=end,
        is_whole_day=False,
        remind_time_diffs=(),
        attendees=(),
        admins=(),
        recurrence=None,
    )
