"""`wesync daemon`."""

from __future__ import annotations

import asyncio
import sys

import click

from wesync.cli import AppContext, pass_app
from wesync.cli.errors import EXIT_FAILED, fail, handle_errors


@click.command()
@pass_app
@handle_errors
def daemon(app: AppContext) -> None:
    """Long-running service: sync every pair on its interval and on change.

    Syncs every pair at start, then every [daemon] interval (with 10% jitter),
    promptly when a file in a pair's folder changes, and when WeCom calls back
    ([daemon.callback]). SIGHUP reloads the config, SIGTERM stops after the
    write in flight. One daemon per state directory.
    """
    from wesync.config import Config, load_config
    from wesync.daemon.lock import AlreadyRunning, DaemonLock
    from wesync.daemon.service import Daemon

    config: Config = app.config()  # type: ignore[no-untyped-call]
    path = app.resolved_config_path()
    lock = DaemonLock(config.state_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        fail(str(exc), EXIT_FAILED)
    try:
        code = asyncio.run(Daemon(config, load_config=lambda: load_config(path)).run())
    finally:
        lock.release()
    sys.exit(code)


COMMANDS = [daemon]
