"""`wesync daemon`."""

from __future__ import annotations

import click

from wesync.cli.errors import not_available


@click.command()
def daemon() -> None:
    """Long-running service: sync every pair on its interval and on change."""
    not_available("daemon")


COMMANDS = [daemon]
