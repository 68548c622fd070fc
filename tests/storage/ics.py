"""Small iCalendar builders for the storage tests (CRLF, like most producers)."""

from __future__ import annotations

import icalendar


def vevent(
    uid: str,
    summary: str = "Meeting",
    *,
    start: str = "20260105T090000",
    tzid: str | None = "Asia/Shanghai",
    recurrence_id: str | None = None,
    extra: tuple[str, ...] = (),
) -> str:
    tz = f";TZID={tzid}" if tzid else ""
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART{tz}:{start}",
        f"SUMMARY:{summary}",
        *extra,
    ]
    if recurrence_id:
        lines.insert(2, f"RECURRENCE-ID{tz}:{recurrence_id}")
    lines.append("END:VEVENT")
    return "\r\n".join(lines) + "\r\n"


SHANGHAI = (
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Asia/Shanghai\r\n"
    "BEGIN:STANDARD\r\n"
    "DTSTART:19700101T000000\r\n"
    "TZOFFSETFROM:+0800\r\n"
    "TZOFFSETTO:+0800\r\n"
    "TZNAME:CST\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)


def calendar(*components: str, header: str = "VERSION:2.0\r\nPRODID:-//tests//EN\r\n") -> bytes:
    return ("BEGIN:VCALENDAR\r\n" + header + "".join(components) + "END:VCALENDAR\r\n").encode()


def item(uid: str, summary: str = "Meeting", **kwargs: object) -> bytes:
    """One item as the sync engine would hand it over: VTIMEZONE plus the event."""
    return calendar(SHANGHAI, vevent(uid, summary, **kwargs))  # type: ignore[arg-type]


def summaries(data: bytes) -> dict[str, list[str]]:
    """UID -> SUMMARY of each VEVENT, parsed independently with icalendar."""
    found: dict[str, list[str]] = {}
    for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
        found.setdefault(str(event["UID"]), []).append(str(event["SUMMARY"]))
    return found
