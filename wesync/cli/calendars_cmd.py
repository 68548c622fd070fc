"""`wesync calendars list/show/create/update/delete` and `wesync export`."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from wesync.cli import AppContext, pass_app
from wesync.cli.errors import EXIT_FAILED, EXIT_USAGE, fail, handle_errors

if TYPE_CHECKING:
    from wesync.config import Config
    from wesync.wecom.client import WeComClient
    from wesync.wecom.models import Calendar, Share

T = TypeVar("T")
PERMISSIONS = {"1": 1, "view": 1, "3": 3, "busy": 3, "freebusy": 3}
COLOR_HELP = 'Colour as "#RRGGBB".'


def _run(app: AppContext, work: Callable[[WeComClient], Awaitable[T]]) -> T:
    """Open one client for the config, run `work` with it, close it."""
    from wesync.wecom.connect import open_client

    config: Config = app.config()  # type: ignore[no-untyped-call]

    async def main() -> T:
        async with open_client(config) as client:
            return await work(client)

    return asyncio.run(main())


def _parse_share(value: str) -> Share:
    from wesync.wecom.models import Share

    userid, _, perm = value.partition(":")
    if not userid:
        raise click.BadParameter(f"{value!r}: expected USERID or USERID:PERMISSION")
    if not perm:
        return Share(userid=userid, permission=1)
    if perm.lower() not in PERMISSIONS:
        raise click.BadParameter(
            f"{value!r}: permission must be 1 or view (may view), 3 or busy (free/busy only)"
        )
    return Share(userid=userid, permission=PERMISSIONS[perm.lower()])


def _check_color(value: str | None) -> str | None:
    import re

    if value is not None and not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        raise click.BadParameter(f"{value!r} is not a colour like #1E90FF", param_hint="--color")
    return value


def _with_admins_shared(shares: Sequence[Share], admins: Sequence[str]) -> tuple[Share, ...]:
    """WeCom requires every admin to be among the shares; add the missing ones."""
    from wesync.wecom.models import Share

    out = list(shares)
    known = {s.userid for s in out}
    out.extend(Share(userid=a, permission=1) for a in admins if a not in known)
    return tuple(out)


def calendar_json(cal: Calendar) -> dict[str, Any]:
    return {
        "cal_id": cal.cal_id,
        "summary": cal.summary,
        "color": cal.color,
        "description": cal.description,
        "admins": list(cal.admins or ()),
        "shares": [{"userid": s.userid, "permission": s.permission} for s in cal.shares or ()],
        "is_public": cal.is_public,
        "public_range": dict(cal.public_range) if cal.public_range is not None else None,
        "is_corp_calendar": cal.is_corp_calendar,
        **({"extra": dict(cal.extra)} if cal.extra else {}),
    }


def _permission_word(p: int | None) -> str:
    return {1: "view", 3: "free/busy"}.get(p or 1, str(p))


@click.group()
def calendars() -> None:
    """Manage the app's WeCom calendars.

    WeCom has no API that lists all of an app's calendars: `list` shows the
    calendars named by the pairs in the config (their cal_id); the others are
    reachable by cal_id with `show`, `update` and `delete`.
    """


@calendars.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_app
@handle_errors
def list_(app: AppContext, as_json: bool) -> None:
    """List the calendars the config's pairs use (WeCom cannot list them all)."""
    from wesync.wecom.errors import WeComAPIError

    config: Config = app.config()  # type: ignore[no-untyped-call]
    pairs = list(config.pairs)

    async def work(client: WeComClient) -> list[dict[str, Any]]:
        ids = list(dict.fromkeys(p.cal_id for p in pairs))
        found: dict[str, Calendar] = {}
        errors: dict[str, str] = {}
        if ids:
            try:
                found = {c.cal_id or "": c for c in await client.calendar_get(ids)}
            except WeComAPIError:
                # one bad cal_id fails the whole batch: ask one by one to say which
                for cal_id in ids:
                    try:
                        for c in await client.calendar_get([cal_id]):
                            found[c.cal_id or cal_id] = c
                    except WeComAPIError as exc:
                        errors[cal_id] = str(exc)
        rows = []
        for p in pairs:
            cal = found.get(p.cal_id)
            row: dict[str, Any] = {"pair": p.name}
            row.update(calendar_json(cal) if cal else {"cal_id": p.cal_id})
            row["error"] = None if cal else errors.get(p.cal_id, "not returned by WeCom")
            rows.append(row)
        return rows

    rows = _run(app, work)
    if as_json:
        click.echo(json.dumps({"calendars": rows}, ensure_ascii=False, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="WeCom calendars used by the config's pairs")
        for col in ("pair", "cal_id", "summary", "color", "shares", "admins"):
            table.add_column(col)
        for r in rows:
            if r["error"]:
                table.add_row(r["pair"], r["cal_id"], f"[red]{r['error']}[/red]", "", "", "")
            else:
                table.add_row(
                    r["pair"],
                    r["cal_id"],
                    r.get("summary") or "",
                    r.get("color") or "",
                    str(len(r["shares"])),
                    ", ".join(r["admins"]),
                )
        Console().print(table)
    if any(r["error"] for r in rows):
        sys.exit(EXIT_FAILED)


@calendars.command("show")
@click.argument("cal_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_app
@handle_errors
def show(app: AppContext, cal_id: str, as_json: bool) -> None:
    """Every field of one calendar."""

    async def work(client: WeComClient) -> list[Calendar]:
        return await client.calendar_get([cal_id])

    found = _run(app, work)
    if not found:
        fail(f"calendar {cal_id} not found", EXIT_FAILED)
    data = calendar_json(found[0])
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for key in ("cal_id", "summary", "color", "description"):
        click.echo(f"{key + ':':<17}{data[key] if data[key] is not None else ''}")
    click.echo(f"{'admins:':<17}{', '.join(data['admins'])}")
    shares = ", ".join(
        f"{s['userid']} ({_permission_word(s['permission'])})" for s in data["shares"]
    )
    click.echo(f"{'shares:':<17}{shares}")
    for key in ("is_public", "is_corp_calendar"):
        if data[key] is not None:
            click.echo(f"{key + ':':<17}{data[key]}")
    if data["public_range"] is not None:
        click.echo(f"{'public_range:':<17}{json.dumps(data['public_range'], ensure_ascii=False)}")
    for key, value in sorted(data.get("extra", {}).items()):
        click.echo(f"{key + ':':<17}{json.dumps(value, ensure_ascii=False)}")


_share_option = click.option(
    "--share",
    "shares",
    multiple=True,
    metavar="USERID[:PERM]",
    help="Share with a member; PERM 1/view (default) or 3/busy (free/busy only). Repeatable.",
)
_admin_option = click.option(
    "--admin",
    "admins",
    multiple=True,
    metavar="USERID",
    help="An administrator (at most 3; added to the shares if missing). Repeatable.",
)


@calendars.command("create")
@click.option("--summary", required=True, help="The calendar's name (1 to 128 characters).")
@click.option("--color", required=True, help=COLOR_HELP)
@click.option("--description", default=None, help="At most 512 characters.")
@_share_option
@_admin_option
@pass_app
@handle_errors
def create(
    app: AppContext,
    *,
    summary: str,
    color: str,
    description: str | None,
    shares: tuple[str, ...],
    admins: tuple[str, ...],
) -> None:
    """Create an app calendar and print its cal_id."""
    from wesync.wecom.models import Calendar

    _check_color(color)
    if len(admins) > 3:
        raise click.BadParameter("at most 3 admins", param_hint="--admin")
    share_list = _with_admins_shared([_parse_share(s) for s in shares], admins)
    calendar = Calendar(
        summary=summary,
        color=color,
        description=description,
        admins=tuple(admins) if admins else None,
        shares=share_list or None,
    )

    async def work(client: WeComClient) -> str:
        return await client.calendar_add(calendar)

    click.echo(_run(app, work))


@calendars.command("update")
@click.argument("cal_id")
@click.option("--summary", default=None, help="A new name.")
@click.option("--color", default=None, help=COLOR_HELP)
@click.option("--description", default=None, help='A new description ("" clears it).')
@click.option(
    "--share",
    "shares",
    multiple=True,
    metavar="USERID[:PERM]",
    help="Replace the shares with these. Repeatable.",
)
@click.option("--admin", "admins", multiple=True, metavar="USERID", help="Replace the admins.")
@pass_app
@handle_errors
def update(
    app: AppContext,
    *,
    cal_id: str,
    summary: str | None,
    color: str | None,
    description: str | None,
    shares: tuple[str, ...],
    admins: tuple[str, ...],
) -> None:
    """Change a calendar; what is not named is kept.

    WeCom's update overwrites the whole calendar, so this reads it first and
    sends back every field, changed or not, including ones wesync does not know.
    """
    _check_color(color)
    if len(admins) > 3:
        raise click.BadParameter("at most 3 admins", param_hint="--admin")
    new_shares = [_parse_share(s) for s in shares]

    async def work(client: WeComClient) -> None:
        found = await client.calendar_get([cal_id])
        if not found:
            fail(f"calendar {cal_id} not found", EXIT_FAILED)
        cal = found[0]
        changes: dict[str, Any] = {"cal_id": cal.cal_id or cal_id}
        if summary is not None:
            changes["summary"] = summary
        if color is not None:
            changes["color"] = color
        if description is not None:
            changes["description"] = description
        if admins:
            changes["admins"] = tuple(admins)
        if new_shares:
            changes["shares"] = tuple(new_shares)
        cal = replace(cal, **changes)
        if cal.admins:
            cal = replace(cal, shares=_with_admins_shared(cal.shares or (), cal.admins))
        # without a public_range from WeCom, sending none must not clear it
        await client.calendar_update(cal, skip_public_range=cal.public_range is None)

    _run(app, work)
    click.echo(f"updated {cal_id}")


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


@calendars.command("delete")
@click.argument("cal_id")
@click.option("--yes", is_flag=True, help="Do not ask (needed when stdin is not a terminal).")
@pass_app
@handle_errors
def delete(app: AppContext, cal_id: str, yes: bool) -> None:
    """Delete a calendar and, with it, every schedule in it."""
    if not yes:
        if not _stdin_is_terminal():
            fail(f"refusing to delete {cal_id} without --yes (stdin is not a terminal)", EXIT_USAGE)
        click.confirm(
            f"Delete WeCom calendar {cal_id} and all its schedules?", abort=True, err=True
        )

    async def work(client: WeComClient) -> None:
        await client.calendar_del(cal_id)

    _run(app, work)
    click.echo(f"deleted {cal_id}")


@click.command()
@click.option("--cal-id", required=True, help="The WeCom calendar to export.")
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    help="The .ics file to write; - for stdout.",
)
@pass_app
@handle_errors
def export(app: AppContext, cal_id: str, output: str) -> None:
    """Write one WeCom calendar as a single .ics (one-way).

    Every schedule becomes its own event with UID <schedule_id>@wecom;
    cancelled schedules are left out. The file is written atomically.
    """
    from wesync.cli.export_ics import export_calendar

    config: Config = app.config()  # type: ignore[no-untyped-call]
    options_pair = next((p for p in config.pairs if p.cal_id == cal_id), None)

    async def work(client: WeComClient) -> bytes:
        return await export_calendar(client, cal_id, pair=options_pair)

    data = _run(app, work)
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from wesync.storage.atomic import replace as atomic_replace

    path = Path(output).expanduser()
    try:
        atomic_replace(path, data)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}", EXIT_FAILED)
    click.echo(f"wrote {path}", err=True)


COMMANDS = [calendars, export]
