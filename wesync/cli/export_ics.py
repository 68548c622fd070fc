"""One WeCom calendar as one .ics (one-way): what `wesync export` writes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import icalendar

from wesync.config import PairConfig
from wesync.wecom import constants as C
from wesync.wecom.errors import WeComTransportError
from wesync.wecom.models import broken_of

if TYPE_CHECKING:
    from wesync.wecom.client import WeComClient
    from wesync.wecom.models import Schedule

PRODID = "-//wesync//wesync//EN"


async def fetch_schedules(client: WeComClient, cal_id: str) -> list[Schedule]:
    """The calendar's live schedules with every field.

    The listing may leave out is_whole_day, reminders and exclusions; their
    absence is not "none", so incomplete ones are fetched in full.
    """
    answer = await client.schedule_list(cal_id)
    listed = [s for s in answer if not s.is_cancelled]
    missing = [s.schedule_id for s in listed if not s.is_complete and s.schedule_id]
    got = await client.schedule_get(missing) if missing else []
    broken = broken_of(answer) + broken_of(got)
    if broken:
        # an export that silently leaves events out would look complete
        raise WeComTransportError(
            C.SCHEDULE_GET,
            f"{len(broken)} schedules cannot be read (first: {broken[0].schedule_id}: "
            f"{broken[0].error})",
        )
    full = {s.schedule_id: s for s in got}
    unanswered = [sid for sid in missing if sid not in full]
    if unanswered:
        # exporting the listing's copy would turn an all-day event into a timed one
        raise WeComTransportError(
            C.SCHEDULE_GET, f"no full copy of {len(unanswered)} listed schedules"
        )
    schedules = [full.get(s.schedule_id, s) for s in listed]
    live = [s for s in schedules if not s.is_cancelled]
    return sorted(live, key=lambda s: (s.start_time or 0, s.schedule_id or ""))


async def export_calendar(
    client: WeComClient, cal_id: str, *, pair: PairConfig | None = None
) -> bytes:
    """The calendar as a VCALENDAR: one VEVENT per schedule, UID <schedule_id>@wecom.

    `pair` (a pair syncing this calendar, if any) lends its translation
    options: time zone, attendee mapping.
    """
    from wesync.translate.ics import serialize
    from wesync.translate.options import TranslateOptions
    from wesync.translate.remote import UnreadableSchedule
    from wesync.translate.to_ical import schedules_to_item

    options = TranslateOptions.from_pair(pair) if pair is not None else TranslateOptions()
    calendars = await client.calendar_get([cal_id])
    schedules = await fetch_schedules(client, cal_id)
    out = icalendar.Calendar()
    out.add("PRODID", PRODID)
    out.add("VERSION", "2.0")
    if calendars and calendars[0].summary:
        out.add("X-WR-CALNAME", calendars[0].summary)
    zones: dict[str, icalendar.cal.Component] = {}
    events: list[icalendar.cal.Component] = []
    # the translator is pure: the time of writing (DTSTAMP) comes from here
    now = int(time.time())
    for schedule in schedules:
        try:
            item = schedules_to_item(
                f"{schedule.schedule_id}@wecom", {"": schedule}, options=options, existing=None,
                now=now,
            )
        except UnreadableSchedule as exc:
            raise WeComTransportError(C.SCHEDULE_GET, f"cannot be exported: {exc}") from None
        for tz in item.walk("VTIMEZONE"):
            zones.setdefault(str(tz.get("TZID")), tz)
        events.extend(item.walk("VEVENT"))
    for tz in zones.values():
        out.add_component(tz)
    for event in events:
        out.add_component(event)
    return serialize(out)
