"""Watch a pair's local folder (or the folder of its single file) for changes by others.

Only files the pair's storage would read count: `.ics` files directly in a
vdir folder that are not hidden and not temp files, or the single file
itself. wesync's own temp files (`.tmp`) are filtered here; its finished
writes are recognised by the daemon (see service.PairSlot).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, awatch

from wesync.config import PairConfig

log = logging.getLogger("wesync.daemon.watch")


def watch_target(pair: PairConfig) -> Path:
    assert pair.local is not None
    return pair.local if not pair.is_single_file else pair.local.parent


def make_filter(pair: PairConfig) -> Callable[[Change, str], bool]:
    assert pair.local is not None
    single = pair.local if pair.is_single_file else None
    folder = os.path.abspath(pair.local)

    def relevant(change: Change, path: str) -> bool:
        if single is not None:
            return os.path.abspath(path) == os.path.abspath(single)
        name = os.path.basename(path)
        if name.startswith(".") or name.lower().endswith(".tmp"):
            return False
        if os.path.dirname(os.path.abspath(path)) != folder:
            return False
        return name.lower().endswith(".ics")

    return relevant


async def watch_pair(
    pair: PairConfig, on_change: Callable[[set[str]], None], stop: asyncio.Event
) -> None:
    """Call `on_change` with the changed paths until `stop` is set."""
    if pair.local is None:
        # a CalDAV server pushes nothing: the pair syncs on the interval
        log.debug("pair %s: nothing to watch", pair.name, extra={"pair": pair.name})
        return
    target = watch_target(pair)
    if not target.is_dir():
        log.warning(
            "pair %s: cannot watch %s (not a folder); syncing on the interval only",
            pair.name,
            target,
            extra={"pair": pair.name},
        )
        return
    log.debug("pair %s: watching %s", pair.name, target, extra={"pair": pair.name})
    try:
        async for changes in awatch(
            target,
            watch_filter=make_filter(pair),
            stop_event=stop,
            recursive=False,
            debounce=400,
            step=50,
            ignore_permission_denied=True,
        ):
            on_change({path for _, path in changes})
    except (OSError, RuntimeError) as exc:
        log.warning(
            "pair %s: watching %s stopped: %s", pair.name, target, exc, extra={"pair": pair.name}
        )
