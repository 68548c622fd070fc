"""`wesync sync`, `wesync status` and `wesync check`."""

from __future__ import annotations

import click

from wesync.cli.errors import not_available


@click.command()
@click.argument("pairs", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing anywhere.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--force", is_flag=True, help="Go ahead even when the safety checks object.")
def sync(pairs: tuple[str, ...], dry_run: bool, as_json: bool, force: bool) -> None:
    """One two-way sync of the named pairs (all when none named), then exit."""
    not_available("sync")


@click.command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Per pair: last sync time, result, item counts, pending conflicts."""
    not_available("status")


@click.command()
def check() -> None:
    """Validate the config, the secret and the credentials, and the local paths."""
    not_available("check")


COMMANDS = [sync, status, check]
