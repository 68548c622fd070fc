"""Seeding the built-in emulator (`backend = "emulator"`) with the pairs' calendars.

A sync never invents calendars in a real WeCom, and WeCom's API cannot
create a calendar with a chosen cal_id. The in-process emulator is a
sandbox for trying wesync out, so the calendars named in the config are
created there directly, on first use, before the client opens it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from wesync.emulator import Emulator


def ensure_calendars(
    *, state_path: Path, corpid: str, corpsecret: str, calendars: Mapping[str, str]
) -> list[str]:
    """Create each missing cal_id (-> summary) in the emulator kept at `state_path`.

    Returns the cal_ids created.
    """
    state_path.parent.mkdir(parents=True, exist_ok=True)
    emulator = Emulator(corpid=corpid, corpsecret=corpsecret, state_path=state_path)
    created: list[str] = []
    try:
        hook = getattr(emulator, "ensure_calendar", None)
        for cal_id, summary in calendars.items():
            if cal_id in emulator.state.calendars:
                continue
            if hook is not None:
                hook(cal_id, summary)
            else:
                _add_calendar(emulator, state_path, cal_id, summary, corpsecret)
            created.append(cal_id)
    finally:
        emulator.close()
    return created


def _add_calendar(
    emulator: Emulator, state_path: Path, cal_id: str, summary: str, app: str
) -> None:
    """The record the emulator's calendar/add would store (see wesync.emulator.state)."""
    from wesync.emulator.state import save_state
    from wesync.emulator.validate import calendar_fields

    fields = calendar_fields({"summary": summary[:128], "color": "#3F8CFF"}, creating=True)
    emulator.state.calendars[cal_id] = {
        "cal_id": cal_id,
        "app": app,
        "deleted": False,
        "last_sequence": 0,
        "fields": fields,
    }
    save_state(state_path, emulator.state.to_json())
