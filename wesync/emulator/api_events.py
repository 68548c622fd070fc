"""The callbacks an app's own API writes would send, for the `callbacks = all` variant.

WeCom phrases every schedule/calendar event as a member's or an admin's
action, so by default (`user-only`) the app's own writes send nothing. The
`all` variant is the other reading: every successful write sends the event
a person's same change would. The app is named by its agentid in
FromUserName, as 日程内容存档 does for an app's changes ("成员UserID或应用ID").
"""

from __future__ import annotations

from typing import Any

from wesync.emulator.callbacks import Event
from wesync.emulator.state import Json, State
from wesync.wecom import constants as C


def events_for(state: State, app: str, path: str, *, body: Json, answer: Json,
               now: int) -> list[Event]:
    """The events for one successful write to `path` (none for reads and calendar/add)."""
    agentid = state.apps[app]

    def event(name: str, cal_id: str, schedule_id: str | None = None) -> Event:
        return Event(event=name, from_user=str(agentid), create_time=now, agentid=agentid,
                     cal_id=cal_id, schedule_id=schedule_id)

    def cal_of(schedule_id: Any) -> str | None:
        rec = state.schedules.get(schedule_id) if isinstance(schedule_id, str) else None
        return rec["data"]["cal_id"] if rec is not None else None

    if path == C.SCHEDULE_ADD:
        sid = answer["schedule_id"]
        cal = cal_of(sid)
        return [event("add_schedule", cal, sid)] if cal else []
    if path == C.SCHEDULE_UPDATE:
        sid = body["schedule"]["schedule_id"]
        cal = cal_of(sid)
        if cal is None:
            return []
        events = [event("modify_schedule", cal, sid)]
        new_sid = answer.get("schedule_id")
        if new_sid and new_sid != sid:
            # op_mode 1 or 2 split off a new schedule
            events.append(event("add_schedule", cal, new_sid))
        return events
    if path == C.SCHEDULE_DEL:
        sid = body["schedule_id"]
        cal = cal_of(sid)
        if cal is None:
            return []
        gone = state.schedules[sid]["data"]["status"] == 1
        return [event("delete_schedule" if gone else "modify_schedule", cal, sid)]
    if path in (C.SCHEDULE_ADD_ATTENDEES, C.SCHEDULE_DEL_ATTENDEES):
        sid = body["schedule_id"]
        cal = cal_of(sid)
        return [event("modify_schedule", cal, sid)] if cal else []
    if path == C.CALENDAR_UPDATE:
        return [event("modify_calendar", body["calendar"]["cal_id"])]
    if path == C.CALENDAR_DEL:
        return [event("delete_calendar", body["cal_id"])]
    return []
