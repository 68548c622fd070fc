"""`wesync emulator`: serve the WeCom emulator over HTTP (loopback by default)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wesync.cli.errors import handle_errors

if TYPE_CHECKING:
    from wesync.emulator.variants import Variants


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _variant_help() -> str:
    # variants.py is light (the package loads its HTTP stack lazily), so the
    # help can be built at import time from the one table the emulator checks
    from wesync.emulator.variants import describe

    return describe()


# \b keeps click from re-wrapping the table
_HELP = f"""Serve the WeCom emulator over HTTP on loopback.

\b
Variants (--variant KEY=VALUE; the first value is the default):
{_variant_help()}
"""


def _variants(items: tuple[str, ...], listing: str | None) -> Variants:
    """The --variant assignments, with --listing as the older spelling of one of them."""
    from wesync.emulator.variants import VariantError, parse_assignments

    try:
        variants = parse_assignments(items)
    except VariantError as exc:
        raise click.BadParameter(str(exc), param_hint="--variant") from None
    named = any(item.partition("=")[0].strip() == "listing" for item in items)
    if listing is not None:
        if named and variants.listing != listing:
            raise click.BadParameter(
                f"--listing {listing} contradicts --variant listing={variants.listing}",
                param_hint="--listing")
        variants = variants.with_changes({"listing": listing})
    return variants


@click.command(help=_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--corpid", default="wwemulator", show_default=True)
@click.option("--corpsecret", default="emulator-secret", show_default=True,
              help="The app secret gettoken accepts.")
@click.option("--state", "state_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Keep calendars and schedules in this JSON file (default: in memory).")
@click.option("--token-ttl", default=7200, show_default=True, type=click.IntRange(min=1),
              help="Access token lifetime in seconds.")
@click.option("--rate-limit", default=10_000, show_default=True, type=click.IntRange(min=1),
              help="Calls per minute per API path before errcode 45009.")
@click.option("--listing", type=click.Choice(["sample", "full"]), default=None,
              help="Same as --variant listing=MODE. sample (default): get_by_calendar omits "
                   "is_whole_day, remind_time_diffs and exclude_time_list, as the documented "
                   "sample does; full: returns everything.")
@click.option("--variant", "variant_items", multiple=True, metavar="KEY=VALUE",
              help="Pick one answer to a behaviour WeCom does not document (repeatable; "
                   "the keys and values are listed above).")
@click.option("--delay-ms", default=0, show_default=True, type=click.IntRange(min=0),
              help="Hold every API answer this many milliseconds (a network's latency; "
                   "requests wait concurrently).")
@click.option("--callback-url", help="POST encrypted event callbacks to this URL.")
@click.option("--callback-token", help="The callback Token (signatures).")
@click.option("--callback-aes-key", help="The 43-character callback EncodingAESKey.")
@handle_errors
def emulator(
    *,
    host: str,
    port: int,
    corpid: str,
    corpsecret: str,
    state_path: Path | None,
    token_ttl: int,
    rate_limit: int,
    listing: str | None,
    variant_items: tuple[str, ...],
    callback_url: str | None,
    callback_token: str | None,
    callback_aes_key: str | None,
    delay_ms: int,
) -> None:
    from wesync.emulator import Emulator, serve
    from wesync.emulator.errors import EmulatorError
    from wesync.errors import ConfigError

    variants = _variants(variant_items, listing)
    callback = (callback_url, callback_token, callback_aes_key)
    if any(x is not None for x in callback) and not all(x is not None for x in callback):
        raise ConfigError("--callback-url, --callback-token and --callback-aes-key go together")
    try:
        emu = Emulator(
            corpid=corpid,
            corpsecret=corpsecret,
            state_path=state_path,
            token_ttl=token_ttl,
            rate_limit=rate_limit,
            variants=variants,
            callback_url=callback_url,
            callback_token=callback_token,
            callback_aes_key=callback_aes_key,
            delay_ms=delay_ms,
        )
    except EmulatorError as exc:
        raise ConfigError(str(exc)) from exc
    if not _is_loopback(host):
        click.echo(
            f"wesync: warning: listening on {host}, not loopback; administration endpoints "
            "still refuse non-loopback clients, but the API is open to the network",
            err=True,
        )

    def announce(url: str) -> None:
        click.echo(f"WeCom emulator on {url} (corpid {corpid}); Ctrl-C to stop", err=True)

    serve(emu, host=host, port=port, announce=announce)


COMMANDS = [emulator]
