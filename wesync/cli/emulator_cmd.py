"""`wesync emulator`."""

from __future__ import annotations

import click

from wesync.cli.errors import not_available


@click.command()
def emulator() -> None:
    """Serve the WeCom emulator over HTTP on loopback."""
    not_available("emulator")


COMMANDS = [emulator]
