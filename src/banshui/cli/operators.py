"""``banshui user``: the console's operators, from the machine it runs on."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from banshui.cli.main import Json, app, run, settings
from banshui.cli.output import emit_json, err, fail, table
from banshui.core.errors import InvalidInput
from banshui.core.migrate import upgrade
from banshui.operators.models import Operator
from banshui.operators.roles import LABELS, Role, validate_role
from banshui.operators.users import (
    ON_THE_MACHINE,
    add_operator,
    list_operators,
    operator_named,
    reset_password,
    tenant_named,
    tenant_names,
)
from banshui.runtime import Runtime, build_runtime

user_app = typer.Typer(help="Operators of the console.", no_args_is_help=True)
app.add_typer(user_app, name="user")

_T = TypeVar("_T")


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option(help="admin, operator or viewer.")],
    tenant: Annotated[
        str | None,
        typer.Option(help="The tenant's name; without it, the whole platform."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Add an operator; the password is asked for, or read from standard input."""
    try:
        chosen = validate_role(role)
    except InvalidInput:
        fail(f"--role {role!r}: must be admin, operator or viewer")
        raise
    password = _password()

    async def work(runtime: Runtime) -> tuple[Operator, str | None]:
        tenant_id = None
        if tenant is not None:
            tenant_id = (await tenant_named(runtime.db, tenant)).id
        made = await add_operator(
            runtime.db,
            runtime.clock,
            name=name,
            password=password,
            role=chosen,
            tenant_id=tenant_id,
        )
        return made, tenant

    operator, tenant_name = _run(work)
    row = _row(operator, tenant_name)
    if as_json:
        emit_json(row)
        return
    table("operator", list(row), [list(row.values())])


@user_app.command("list")
def user_list(as_json: Json = False) -> None:
    """Every operator with their role and tenant (never a password)."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        names = await tenant_names(runtime.db)
        operators = await list_operators(runtime.db, None)
        return [_row(op, names.get(op.tenant_id or 0)) for op in operators]

    rows = _run(work)
    if as_json:
        emit_json(rows)
        return
    # The same columns as ``user add`` prints.
    columns = ["id", "name", "role", "role_label", "tenant", "disabled"]
    columns.append("locked_until")
    table("operators", columns, [[row[c] for c in columns] for row in rows])


@user_app.command("password")
def user_password(name: str, as_json: Json = False) -> None:
    """Set an operator's new password, from a prompt or standard input.

    Their sessions end and their lockout is cleared; for an admin who forgot theirs.
    """
    password = _password()

    async def work(runtime: Runtime) -> Operator:
        operator = await operator_named(runtime.db, name)
        return await reset_password(
            runtime.db, runtime.clock, operator.id, password, ON_THE_MACHINE
        )

    operator = _run(work)
    if as_json:
        emit_json({"name": operator.name, "password_reset": True})
        return
    err.print(
        f"the password of {operator.name} is reset; their sessions ended",
        highlight=False,
    )


def _password() -> str:
    """From a prompt on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        password: str = typer.prompt(
            "Password", hide_input=True, confirmation_prompt=True, err=True
        )
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("give the password on standard input or at the prompt")
    return password


def _row(operator: Operator, tenant: str | None) -> dict[str, Any]:
    return {
        "id": operator.id,
        "name": operator.name,
        "role": operator.role,
        "role_label": LABELS[Role(operator.role)],
        "tenant": tenant,
        "disabled": operator.disabled,
        "locked_until": operator.locked_until.isoformat()
        if operator.locked_until
        else None,
    }


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
