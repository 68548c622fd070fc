"""`wesync sync`, `wesync status` and `wesync check`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from wesync.cli import AppContext, pass_app
from wesync.cli.errors import EXIT_FAILED, EXIT_OK, handle_errors

if TYPE_CHECKING:
    from wesync.config import Config, PairConfig
    from wesync.sync.report import PairReport


@click.command()
@click.argument("pairs", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing anywhere.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts.")
@click.option("--force", is_flag=True, help="Go ahead even if a side looks emptied.")
@pass_app
@handle_errors
def sync(
    app: AppContext, pairs: tuple[str, ...], dry_run: bool, as_json: bool, force: bool
) -> None:
    """One two-way sync of the named pairs (all when none are named)."""
    from wesync.sync.engine import sync_command

    config: Config = app.config()  # type: ignore[no-untyped-call]
    config.select_pairs(list(pairs))  # an unknown pair is a usage error, before any work
    with _progress(enabled=not as_json and sys.stderr.isatty()) as progress:
        reports = sync_command(config, pairs, dry_run=dry_run, force=force, progress=progress)
    if as_json:
        click.echo(json.dumps({"pairs": [r.to_json() for r in reports]}, ensure_ascii=False))
    else:
        for report in reports:
            _print_report(report)
    sys.exit(EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar on a terminal; nothing otherwise (the log says enough)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    tasks: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:

        def update(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        yield update


def _print_report(report: PairReport) -> None:
    from rich.console import Console
    from rich.table import Table

    from wesync.sync.actions import Create, Delete, KeepBoth, Merge, Update

    console = Console(highlight=False, soft_wrap=True)
    if report.dry_run and report.plan is not None:
        writes = report.plan.writes()
        if writes:
            table = Table(title=f"{report.name}: what a sync would do", title_justify="left")
            for column in ("action", "side", "event", "why"):
                table.add_column(column)
            for action in writes:
                if isinstance(action, KeepBoth):
                    kind, side = "keep both", f"local + WeCom ({action.copy_uid})"
                elif isinstance(action, Merge):
                    kind = "merge occurrences"
                    side = "local + WeCom" if action.push or action.copies else "local"
                else:
                    assert isinstance(action, Create | Update | Delete)
                    kind = type(action).__name__.lower()
                    side = "local" if action.side.value == "local" else "WeCom"
                table.add_row(kind, side, action.uid, action.reason)
            console.print(table)
        else:
            console.print(f"{report.name}: nothing to do")
    if report.ok:
        verb = "would sync" if report.dry_run else "synced"
        console.print(f"{report.name}: {verb}: {report.summary()}")
    else:
        console.print(f"[red]{report.name}: failed:[/red] {report.error}", markup=True)
    if report.quota_line is not None and report.quota_line != report.error:
        # an item error came first: the quota's line is said all the same
        console.print(f"{report.name}: {report.quota_line}")


@click.command()
@click.argument("pairs", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
@handle_errors
def status(app: AppContext, pairs: tuple[str, ...], as_json: bool) -> None:
    """Per pair (all when none are named): last sync time, result, item counts,
    pending conflicts, and every problem still known, by kind (no credentials)."""
    from wesync.sync.state_report import pair_status

    config: Config = app.config()  # type: ignore[no-untyped-call]
    rows = [pair_status(pair, config.state_dir) for pair in config.select_pairs(list(pairs))]
    if as_json:
        click.echo(json.dumps({"pairs": rows}, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="wesync status", title_justify="left")
    for column in (
        "pair",
        "last sync",
        "result",
        "events",
        "schedules",
        "conflicts",
        "problems",
        "note",
    ):
        table.add_column(column)
    for row in rows:
        when = row["last_sync"]
        table.add_row(
            row["name"],
            datetime.fromisoformat(when).strftime("%Y-%m-%d %H:%M:%S") if when else "never",
            row["result"] or "-",
            str(row["events"]),
            str(row["schedules"]),
            str(row["conflicts"]),
            str(sum(len(found) for found in row["problems"].values())),
            row["error"] or row["note"] or "",
        )
    console = Console(highlight=False, soft_wrap=True)
    console.print(table)
    for row in rows:
        _print_quota(console, row["name"], row["quota"])
    for row in rows:
        _print_problems(console, row["name"], row["problems"])


def _print_quota(console: Any, name: str, quota: dict[str, Any] | None) -> None:
    """The daily creation quota: the app's count today (shared by its pairs)."""
    if quota is None:
        return
    limit = quota["limit"]
    line = (
        f"{name}: daily creation quota: {quota['used_today']} of "
        f"{limit if limit else 'no limit'} schedules created today ({quota['day']}, UTC+8)"
    )
    if quota["refused_today"]:
        line += "; WeCom refused more today"
    if quota["waiting"]:
        line += f"; {quota['waiting']} events wait until {quota['resets_at']}"
    console.print(line)


def _print_problems(console: Any, name: str, problems: dict[str, list[dict[str, Any]]]) -> None:
    """Every problem, under its kind: a first sync of a big folder may have
    thousands, and the log shows only the first few."""
    from rich.markup import escape

    from wesync.sync.problems import SyncProblem

    if not problems:
        return
    total = sum(len(found) for found in problems.values())
    console.print(f"\n{escape(name)}: {total} problems")
    for kind, found in problems.items():
        console.print(f"  {escape(kind)} ({len(found)})")
        for data in found:
            console.print(f"    {escape(str(SyncProblem.from_json(data)))}")


@click.command()
@pass_app
@handle_errors
def check(app: AppContext) -> None:
    """Validate the config, the secret, the credentials (gettoken) and the local paths."""
    import asyncio

    config: Config = app.config()  # type: ignore[no-untyped-call]
    click.echo(f"ok    config {app.resolved_config_path()}")
    results = asyncio.run(_checks(config))
    for ok, message in results:
        click.echo(f"{'ok' if ok else 'FAIL':<5} {message}")
    sys.exit(EXIT_OK if all(ok for ok, _ in results) else EXIT_FAILED)


async def _checks(config: Config) -> list[tuple[bool, str]]:
    from wesync.config import Backend, resolve_secret
    from wesync.errors import ConfigError, WesyncError

    results: list[tuple[bool, str]] = []
    for pair in config.pairs:
        results.append(await _check_caldav(pair) if pair.caldav else _check_local(pair))
    try:
        resolve_secret(config.wecom)
    except ConfigError as exc:
        results.append((False, f"secret: {exc}"))
        return results
    results.append((True, "secret found"))
    from wesync.sync.engine import seed_emulator
    from wesync.wecom.connect import open_client

    try:
        seed_emulator(config, list(config.pairs))
        async with open_client(config) as client:
            await client.check_credentials()
            where = (
                "the built-in emulator"
                if config.wecom.backend is Backend.EMULATOR
                else config.wecom.base_url
            )
            results.append((True, f"credentials accepted by {where} (gettoken)"))
            for pair in config.pairs:
                try:
                    found = await client.calendar_get([pair.cal_id])
                except WesyncError as exc:
                    results.append((False, f"pair {pair.name}: calendar {pair.cal_id}: {exc}"))
                    continue
                if any(c.cal_id == pair.cal_id for c in found):
                    results.append((True, f"pair {pair.name}: calendar {pair.cal_id} reachable"))
                else:
                    results.append((False, f"pair {pair.name}: calendar {pair.cal_id} not found"))
    except WesyncError as exc:
        results.append((False, f"WeCom: {exc}"))
    return results


async def _check_caldav(pair: PairConfig) -> tuple[bool, str]:
    """The password is found and the server accepts it for a calendar collection."""
    from wesync.caldav.client import DavClient
    from wesync.caldav.settings import resolve_caldav_password
    from wesync.errors import WesyncError

    cfg = pair.caldav
    assert cfg is not None
    where = f"pair {pair.name}: {cfg.url}"
    try:
        password = resolve_caldav_password(pair)
        client = DavClient(
            cfg.url,
            username=cfg.username,
            password=password,
            verify=cfg.verify if isinstance(cfg.verify, bool) else str(cfg.verify),
            timeout=cfg.timeout,
        )
    except WesyncError as exc:
        return False, f"pair {pair.name}: {exc}"
    try:
        offers_sync = await client.probe() is not None
    except WesyncError as exc:
        return False, f"pair {pair.name}: {exc}"
    finally:
        await client.aclose()
    login = "credentials accepted" if cfg.username else "no login needed"
    sync = "sync-collection" if offers_sync else "no sync-collection: PROPFIND each run"
    return True, f"{where}: CalDAV calendar reachable, {login} ({sync})"


def _check_local(pair: PairConfig) -> tuple[bool, str]:
    import os

    from wesync.config import Direction

    path = pair.local
    assert path is not None
    where = f"pair {pair.name}: {path}"
    if path.is_dir():
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            return False, f"{where}: folder is not readable and writable"
        return True, f"{where}: folder readable and writable"
    if path.suffix.lower() == ".ics":
        if path.is_file():
            if not os.access(path, os.R_OK) or not os.access(path.parent, os.W_OK):
                return False, f"{where}: file or its folder is not readable and writable"
            return True, f"{where}: file readable and writable"
        if pair.direction is Direction.FROM_WECOM and path.parent.is_dir():
            return True, f"{where}: will be created by the first sync"
        return False, f"{where}: file does not exist"
    return False, f"{where}: folder does not exist"


COMMANDS = [sync, status, check]
