"""`wesync probe [--json]`: ask the configured WeCom what its documentation leaves open."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import TYPE_CHECKING

import click

from wesync.cli import AppContext, pass_app
from wesync.cli.errors import EXIT_FAILED, EXIT_OK, fail, handle_errors

if TYPE_CHECKING:
    from wesync.config import Config
    from wesync.probe import ProbeResult, Scratch

#: what a shell reports for a process stopped by SIGINT, as `handle_errors` does
EXIT_INTERRUPTED = 130


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for an issue).")
@pass_app
@handle_errors
def probe(app: AppContext, as_json: bool) -> None:
    """Find out how this tenant's WeCom behaves where its documentation is silent.

    Creates a scratch calendar "wesync probe <date>" with three schedules
    (tomorrow or later, no attendees), runs a few experiments on it (at most
    40 API calls), and removes it again, also when interrupted or when an
    experiment fails. The answers are printed and recorded in the state
    directory, where `sync` uses the `sequence` answer.
    """
    from wesync.probe import KEYS, Scratch, run_probe, scratch_summary
    from wesync.wecom.answers import save_answers
    from wesync.wecom.connect import open_client

    config: Config = app.config()  # type: ignore[no-untyped-call]
    now = int(time.time())
    scratch = Scratch(summary=scratch_summary(now))

    async def main() -> ProbeResult:
        async with open_client(config) as client:
            return await run_probe(client, scratch, now=now)

    try:
        result = asyncio.run(main())
    except asyncio.CancelledError:
        _report_left(scratch)
        fail("interrupted", EXIT_INTERRUPTED)
        return
    except BaseException:
        # the error itself is said by handle_errors; what is left in WeCom first
        _report_left(scratch)
        raise
    path = save_answers(config.state_dir, config.wecom.corpid, result.answers, now=now)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        for key in KEYS:
            click.echo(f"{key}: {result.answers[key]} ({result.seen.get(key, '')})")
        click.echo(f"calls: {result.calls}")
    click.echo(f"wesync: answers recorded in {path}", err=True)
    if _report_left(scratch):
        sys.exit(EXIT_FAILED)
    sys.exit(EXIT_OK)


def _report_left(scratch: Scratch) -> bool:
    """Say what cleanup could not remove from WeCom; whether anything is left."""
    if not scratch.left:
        if scratch.cal_id is not None:
            click.echo(f"wesync: removed the scratch calendar {scratch.cal_id}", err=True)
        return False
    click.echo("wesync: cleanup failed; left in WeCom:", err=True)
    for line in scratch.left:
        click.echo(f"  {line}", err=True)
    if scratch.cal_id is not None:
        click.echo(f"  remove it with: wesync calendars delete {scratch.cal_id}", err=True)
    return True


COMMANDS = [probe]
