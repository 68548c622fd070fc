"""WeCom schedules <-> the canonical ScheduleDraft.

`draft_from_schedule` is the normal form of what WeCom holds, so that the
draft a local event translates to and the draft read back after sending it
compare (and digest) equal:

- recurrence in series.normalize's form (workdays == custom weekly Mon-Fri,
  non-custom weekly/monthly take the day from start_time, repeat_until is the
  last occurrence, exclusions that are not occurrences are dropped);
- all-day schedules start at 00:00 of their first day and end at 00:00 after
  their last day, in UTC+8 (a recurrence's own `timezone` if it has one),
  whatever end convention WeCom used (23:59:59 of the last day reads the same);
- lists sorted, text missing == "".

The caller must pass complete schedules (fetched with schedule/get): the
listing leaves out is_whole_day, remind_time_diffs and exclude_time_list (see
Schedule.is_complete). A missing or impossible start_time, end_time or
is_whole_day is never read as 0: `draft_from_schedule` raises
`UnreadableSchedule` naming the schedule and the field, and the caller leaves
that schedule alone.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from wesync.translate import series
from wesync.translate.canonical import Recurrence, ScheduleDraft
from wesync.translate.zones import ALL_DAY_OFFSET_HOURS
from wesync.wecom.constants import REPEAT_WEEKLY, TIMEZONE_DEFAULT
from wesync.wecom.models import Attendee, Reminders, Schedule

DAY = 86400


class UnreadableSchedule(ValueError):
    """A schedule whose times cannot be read; names the schedule_id and the field."""

    def __init__(self, schedule_id: str | None, field: str, problem: str) -> None:
        self.schedule_id = schedule_id
        self.field = field
        self.detail = f"{field} {problem}"  #: the message without the schedule_id
        super().__init__(f"schedule {schedule_id or '(without schedule_id)'}: {field} {problem}")


def _recurrence(schedule: Schedule, start: int) -> Recurrence | None:
    r = schedule.reminders
    if r is None or not r.is_repeat or r.repeat_type is None:
        return None
    rec = Recurrence(
        repeat_type=r.repeat_type,
        is_custom_repeat=bool(r.is_custom_repeat),
        repeat_interval=r.repeat_interval or 1,
        repeat_day_of_week=tuple(r.repeat_day_of_week or ()),
        repeat_day_of_month=tuple(r.repeat_day_of_month or ()),
        repeat_until=r.repeat_until or 0,
        timezone=TIMEZONE_DEFAULT if r.timezone is None else r.timezone,
        exclude_times=tuple(r.exclude_time_list or ()),
    )
    return series.normalize(start, rec)


def _all_day_bounds(start: int, end: int, offset_hours: int) -> tuple[int, int]:
    tz = timezone(timedelta(hours=offset_hours))
    first = datetime.fromtimestamp(start, tz).date()
    end_local = datetime.fromtimestamp(max(end, start), tz)
    after = end_local.date() if end_local.time() == time(0) else end_local.date() + timedelta(1)
    if after <= first:
        after = first + timedelta(days=1)

    def midnight(d: object) -> int:
        return int(datetime.combine(d, time(0), tz).timestamp())  # type: ignore[arg-type]

    return midnight(first), midnight(after)


def _diffs(r: Reminders | None) -> tuple[int, ...]:
    if r is None:
        return ()
    if r.remind_time_diffs:
        return tuple(sorted(set(r.remind_time_diffs)))
    if r.remind_time_diffs is None and r.is_remind and r.remind_before_event_secs is not None:
        # The 2020 schema: one reminder, seconds before the start.
        return (-r.remind_before_event_secs,)
    return ()


def _times(schedule: Schedule) -> tuple[int, int, bool]:
    def unreadable(field: str, problem: str) -> UnreadableSchedule:
        return UnreadableSchedule(schedule.schedule_id, field, problem)

    start, end, flag = schedule.start_time, schedule.end_time, schedule.is_whole_day
    if start is None:
        raise unreadable("start_time", "is missing")
    if start < 0:
        raise unreadable("start_time", f"is impossible ({start})")
    if end is None:
        raise unreadable("end_time", "is missing")
    if end < start:
        raise unreadable("end_time", f"({end}) is before start_time ({start})")
    if flag is None:
        raise unreadable("is_whole_day", "is missing (all-day or timed is unknown)")
    if flag not in (0, 1):
        raise unreadable("is_whole_day", f"is impossible ({flag})")
    return start, end, bool(flag)


def draft_from_schedule(schedule: Schedule) -> ScheduleDraft:
    """The canonical draft; raises UnreadableSchedule (a ValueError) for a
    missing or impossible start_time, end_time or is_whole_day."""
    start, end, whole_day = _times(schedule)
    rec = _recurrence(schedule, start)
    if whole_day:
        offset = rec.timezone if rec is not None else ALL_DAY_OFFSET_HOURS
        start, end = _all_day_bounds(start, end, offset)
        if rec is not None:
            rec = series.normalize(start, rec)
    attendees = schedule.attendees or ()
    return ScheduleDraft(
        summary=schedule.summary or "",
        description=schedule.description or "",
        location=schedule.location or "",
        start_time=start,
        end_time=end,
        is_whole_day=whole_day,
        remind_time_diffs=_diffs(schedule.reminders),
        attendees=tuple(sorted({a.userid for a in attendees})),
        admins=tuple(sorted(set(schedule.admins or ()))),
        recurrence=rec,
        responses=tuple(
            sorted(
                {(a.userid, a.response_status) for a in attendees if a.response_status is not None}
            )
        ),
    )


def schedule_from_draft(draft: ScheduleDraft, *, cal_id: str) -> Schedule:
    """The schedule to send on add or update (full object: update overwrites).

    The exclusions are in reminders.exclude_time_list so that the draft reads
    back whole, but `Schedule.to_api()` leaves them out unless asked
    (with_exclusions=True): WeCom's API treats the list as read-only, so the
    caller removes those occurrences itself (del with op_mode=1).

    A series goes out as custom (is_custom_repeat=1) unless it is the plain
    form; workdays are sent as custom weekly Monday..Friday rather than
    repeat_type 7, whose holiday handling is unconfirmed.
    """
    rec = draft.recurrence
    reminders = Reminders(
        is_remind=1 if draft.remind_time_diffs else 0,
        remind_time_diffs=draft.remind_time_diffs,
        is_repeat=1 if rec is not None else 0,
    )
    if rec is not None:
        custom = rec.is_custom_repeat
        reminders = Reminders(
            is_remind=reminders.is_remind,
            remind_time_diffs=reminders.remind_time_diffs,
            is_repeat=1,
            repeat_type=rec.repeat_type,
            repeat_until=rec.repeat_until,
            is_custom_repeat=1 if custom else 0,
            repeat_interval=rec.repeat_interval if custom else None,
            repeat_day_of_week=(
                rec.repeat_day_of_week if custom and rec.repeat_type == REPEAT_WEEKLY else None
            ),
            repeat_day_of_month=(rec.repeat_day_of_month or None) if custom else None,
            timezone=rec.timezone,
            exclude_time_list=rec.exclude_times,
        )
    return Schedule(
        cal_id=cal_id,
        summary=draft.summary,
        description=draft.description,
        location=draft.location,
        start_time=draft.start_time,
        end_time=draft.end_time,
        is_whole_day=1 if draft.is_whole_day else 0,
        admins=draft.admins,
        attendees=tuple(Attendee(userid=u) for u in draft.attendees),
        reminders=reminders,
    )
