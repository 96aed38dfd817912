"""``banshui``: serve, run the demo, parse SMS, manage tenants and sources."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from banshui.cli.output import fail
from banshui.core.errors import BanshuiError
from banshui.core.migrate import upgrade
from banshui.core.settings import Settings, SettingsError, load_settings
from banshui.runtime import Runtime, build_runtime

app = typer.Typer(
    name="banshui",
    help="E-tax bureau logins with 办税小号 sub-numbers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
tenant_app = typer.Typer(help="Tenants of the login side.", no_args_is_help=True)
source_app = typer.Typer(help="Inbound SMS gateways.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(source_app, name="source")
app.add_typer(db_app, name="db")

_T = TypeVar("_T")
Json = Annotated[bool, typer.Option("--json", help="JSON on standard output.")]


@app.callback()
def main_options(
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Overrides BANSHUI_DATABASE_URL."),
    ] = None,
) -> None:
    if database_url is not None:
        os.environ["BANSHUI_DATABASE_URL"] = database_url


def settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as error:
        fail(str(error), code=2)
        raise


def run_with_runtime(work: Callable[[Runtime], Awaitable[_T]]) -> _T:
    """Work on an up-to-date database; a domain error is one line, exit 1."""

    async def with_runtime() -> _T:
        config = settings()
        await asyncio.to_thread(upgrade, config.database_url)
        runtime = build_runtime(config)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return run(with_runtime)


def run(work: Callable[[], Awaitable[_T]]) -> _T:
    """Run async work; a domain error is one line on standard error."""
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except BanshuiError as error:
        where = f" ({error.field})" if error.field else ""
        fail(f"{error.message}{where}")
        raise


# The command modules register themselves on ``app`` as they are imported.
from banshui.cli import (  # noqa: E402
    commands,  # noqa: F401
    forwarding,  # noqa: F401
    inbox,  # noqa: F401
    logins,  # noqa: F401
    numbers,  # noqa: F401
    operators,  # noqa: F401
    processes,  # noqa: F401
    sources,  # noqa: F401
    tenants,  # noqa: F401
)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
