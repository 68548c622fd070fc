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
        for cal_id, summary in calendars.items():
            if cal_id in emulator.state.calendars:
                continue
            emulator.ensure_calendar(cal_id, summary)
            created.append(cal_id)
    finally:
        emulator.close()
    return created
