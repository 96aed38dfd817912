"""``banshui forward``: channels, routes and the queue of forwards."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from banshui.cli.main import Json, app, run, settings
from banshui.cli.output import emit_json, fail, table
from banshui.core.migrate import upgrade
from banshui.forwarding.channels.registry import KINDS
from banshui.forwarding.models import ForwardChannel
from banshui.forwarding.queue import retry_forward
from banshui.forwarding.setup import (
    RouteView,
    add_channel,
    add_route,
    list_channels,
    list_routes,
)
from banshui.forwarding.views import STATUSES, list_forwards
from banshui.runtime import Runtime, build_runtime

forward_app = typer.Typer(
    help="Forwarding SMS to bound real phones and group robots.", no_args_is_help=True
)
channel_app = typer.Typer(help="Outbound channels.", no_args_is_help=True)
route_app = typer.Typer(
    help="Which numbers forward through which channel.", no_args_is_help=True
)
app.add_typer(forward_app, name="forward")
forward_app.add_typer(channel_app, name="channel")
forward_app.add_typer(route_app, name="route")

_T = TypeVar("_T")
FORWARD_COLUMNS = [
    "id",
    "sms_id",
    "number",
    "sender",
    "channel",
    "status",
    "attempts",
    "due_at",
    "destination",
    "last_error",
]


@forward_app.command("list")
def forward_list(
    status: Annotated[
        str | None, typer.Option(help=f"Only this status: {', '.join(STATUSES)}.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=1000, help="At most this many.")
    ] = 100,
    as_json: Json = False,
) -> None:
    """The newest forwards: status, attempts and the last error (never the SMS)."""

    async def work(runtime: Runtime) -> Any:
        return await list_forwards(runtime.db, status, limit)

    rows = [view.as_json() for view in _run(work)]
    if as_json:
        emit_json(rows)
        return
    table("forwards", FORWARD_COLUMNS, [[r[c] for c in FORWARD_COLUMNS] for r in rows])


@forward_app.command("retry")
def forward_retry(
    forward_id: Annotated[int, typer.Argument(help="Its id.")], as_json: Json = False
) -> None:
    """Send a failed forward again, with its attempts counted afresh."""

    async def work(runtime: Runtime) -> Any:
        return await retry_forward(runtime.db, runtime.clock, forward_id)

    forward = _run(work)
    shown = {"id": forward.id, "status": forward.status, "due_at": forward.due_at}
    if as_json:
        emit_json(shown)
        return
    table("forward", list(shown), [list(shown.values())])


@channel_app.command("add")
def channel_add(
    kind: Annotated[str, typer.Argument(help=", ".join(KINDS) + ".")],
    name: str,
    secret: Annotated[
        str | None,
        typer.Option(
            help="Token, password or robot secret ('-' reads standard input)."
        ),
    ] = None,
    config: Annotated[
        list[str] | None,
        typer.Option("--config", help="KEY=VALUE, a setting such as base_url."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Register an outbound channel; its secret is sealed and never shown."""
    settings_given = dict(_setting(item) for item in config or [])
    if secret == "-":
        secret = sys.stdin.readline().strip()

    async def work(runtime: Runtime) -> Any:
        return await add_channel(
            runtime.db,
            runtime.vault,
            runtime.clock,
            kind=kind,
            name=name,
            config=settings_given,
            secret=secret,
        )

    _print_channels([_run(work)], as_json, single=True)


@channel_app.command("list")
def channel_list(as_json: Json = False) -> None:
    """The channels and their settings (secrets never)."""

    async def work(runtime: Runtime) -> Any:
        return await list_channels(runtime.db)

    _print_channels(_run(work), as_json)


@route_app.command("add")
def route_add(
    number: Annotated[str, typer.Argument(help="The sub-number whose SMS forward.")],
    channel: Annotated[str, typer.Option(help="The channel's name.")],
    to: Annotated[
        str | None,
        typer.Option(help="SMS channels: the bound real phone, to confirm it."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Forward a number's SMS through a channel from now on."""

    async def work(runtime: Runtime) -> Any:
        return await add_route(
            runtime.db, runtime.clock, number=number, channel_name=channel, to=to
        )

    _print_routes([_run(work)], as_json, single=True)


@route_app.command("list")
def route_list(as_json: Json = False) -> None:
    """Every route: number, channel and where it sends (phones masked)."""

    async def work(runtime: Runtime) -> Any:
        return await list_routes(runtime.db)

    _print_routes(_run(work), as_json)


def _print_channels(
    rows: list[ForwardChannel], as_json: bool, single: bool = False
) -> None:
    shown = [
        {
            "id": row.id,
            "kind": row.kind,
            "name": row.name,
            "config": row.config,
            "secret": "sealed" if row.secret_sealed else None,
        }
        for row in rows
    ]
    if as_json:
        emit_json(shown[0] if single else shown)
        return
    cells = [
        [r.id, r.kind, r.name, _settings_text(r.config), c["secret"]]
        for r, c in zip(rows, shown, strict=True)
    ]
    table("channels", ["id", "kind", "name", "settings", "secret"], cells)


def _print_routes(rows: list[RouteView], as_json: bool, single: bool = False) -> None:
    shown = [
        {
            "id": row.id,
            "number": row.number,
            "channel": row.channel,
            "kind": row.kind,
            "destination": row.destination,
        }
        for row in rows
    ]
    if as_json:
        emit_json(shown[0] if single else shown)
        return
    columns = ["id", "number", "channel", "kind", "destination"]
    table("routes", columns, [[r[c] for c in columns] for r in shown])


def _settings_text(config: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(config.items()))


def _setting(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        fail(f"--config {item!r}: write it as KEY=VALUE, e.g. base_url=http://…")
    return key.strip(), value


def _run(work: Callable[[Runtime], Awaitable[_T]]) -> _T:
    async def with_runtime() -> _T:
        config = settings()
        await asyncio.to_thread(upgrade, config.database_url)
        runtime = build_runtime(config)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return run(with_runtime)
