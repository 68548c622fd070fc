"""`wesync calendars ...` and `wesync export`."""

from __future__ import annotations

import click

from wesync.cli.errors import not_available


@click.group()
def calendars() -> None:
    """Manage the app's WeCom calendars."""


@calendars.command("list")
def list_() -> None:
    """List the calendars wesync knows (the pairs' cal_ids)."""
    not_available("calendars list")


@click.command()
@click.option("--cal-id", required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False))
def export(cal_id: str, output: str | None) -> None:
    """Write one WeCom calendar as a single .ics (one-way)."""
    not_available("export")


COMMANDS = [calendars, export]
