"""The `wesync` command line (CONTRACT.md). Heavy modules are imported inside commands."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import click

from wesync import __version__
from wesync.cli.errors import EXIT_USAGE, fail


@dataclass
class AppContext:
    """What the global options decided; commands load the config through it."""

    config_path: Path | None
    verbosity: int
    log_format: str
    _config: object | None = field(default=None, repr=False)

    def resolved_config_path(self) -> Path:
        from wesync.config import default_config_path

        return self.config_path or default_config_path()

    def config(self):  # type: ignore[no-untyped-def]
        """The loaded config (`wesync.config.Config`); exit 2 with a message if invalid."""
        from wesync.config import load_config, warn_if_secret_exposed
        from wesync.errors import ConfigError

        if self._config is None:
            try:
                self._config = load_config(self.resolved_config_path())
            except ConfigError as exc:
                fail(f"config error: {exc}", EXIT_USAGE)
            warning = warn_if_secret_exposed(self._config)  # type: ignore[arg-type]
            if warning:
                click.echo(f"wesync: warning: {warning}", err=True)
        return self._config


pass_app = click.make_pass_decorator(AppContext)

#: each command and the module (in wesync.cli) that defines it, imported when the
#: command is asked for: `wesync sync` need not load the emulator's or the probe's code
COMMAND_MODULES: dict[str, str] = {
    "sync": "sync_cmd",
    "status": "sync_cmd",
    "check": "sync_cmd",
    "daemon": "daemon_cmd",
    "calendars": "calendars_cmd",
    "export": "calendars_cmd",
    "emulator": "emulator_cmd",
    "probe": "probe_cmd",
}


class LazyGroup(click.Group):
    """A group whose commands' modules are imported on first use (COMMAND_MODULES)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            for command in importlib.import_module(f"wesync.cli.{module}").COMMANDS:
                self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Config file (default: $WESYNC_CONFIG, else $XDG_CONFIG_HOME/wesync/config.toml).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for HTTP debugging).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log line format on stderr.",
)
@click.version_option(__version__, prog_name="wesync")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path | None, verbose: int, quiet: bool, log_format: str
) -> None:
    """Two-way sync between iCalendar files and WeCom app calendars."""
    from wesync.logs import setup_logging

    verbosity = -1 if quiet else verbose
    setup_logging(verbosity=verbosity, log_format=log_format)
    ctx.obj = AppContext(config_path=config_path, verbosity=verbosity, log_format=log_format)


def main() -> None:
    try:
        cli.main(standalone_mode=True)
    except SystemExit:
        raise
