"""Number-side commands: customers, sub-number bindings, the chat command's senders."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, TypeVar

import typer

from banshui.chat.commands import answer
from banshui.chat.senders import allow, deny, list_senders
from banshui.cli.main import Json, app, run, settings
from banshui.cli.output import emit_json, err, fail, plain, table
from banshui.core.migrate import upgrade
from banshui.numbers.binding import (
    WARNING_DAYS,
    NumberView,
    list_numbers,
    set_service_end,
)
from banshui.numbers.customers import add_customer, list_customers
from banshui.numbers.phones import mask
from banshui.printable import printable
from banshui.runtime import Runtime, build_runtime

customer_app = typer.Typer(help="Customers the sub-numbers are sold to.")
number_app = typer.Typer(help="Numbers and their bindings.")
chat_app = typer.Typer(help="Who may command the chat robot.")
app.add_typer(customer_app, name="customer", no_args_is_help=True)
app.add_typer(number_app, name="number", no_args_is_help=True)
app.add_typer(chat_app, name="chat", no_args_is_help=True)

_T = TypeVar("_T")
Days = Annotated[
    int,
    typer.Option(min=0, max=3650, help="Warn this many days before service ends."),
]


@customer_app.command("add")
def customer_add(name: str, as_json: Json = False) -> None:
    """Create a customer and print its appKey and appSecret, once."""

    async def work(runtime: Runtime) -> Any:
        return await add_customer(runtime.db, runtime.vault, runtime.clock, name)

    made = _run(work)
    customer = made.customer
    if as_json:
        emit_json(
            {
                "id": customer.id,
                "name": customer.name,
                "app_key": customer.app_key,
                "app_secret": made.app_secret,
            }
        )
        return
    table(
        "customer",
        ["id", "name", "appKey", "appSecret (shown once)"],
        [[customer.id, customer.name, customer.app_key, made.app_secret]],
    )


@customer_app.command("list")
def customer_list(as_json: Json = False) -> None:
    """The customers and their appKeys (never their appSecrets)."""

    async def work(runtime: Runtime) -> Any:
        return await list_customers(runtime.db)

    customers = _run(work)
    rows = [
        {
            "id": customer.id,
            "name": customer.name,
            "app_key": customer.app_key,
            "created_at": customer.created_at.isoformat(),
        }
        for customer in customers
    ]
    if as_json:
        emit_json(rows)
        return
    columns = ["id", "name", "app_key", "created_at"]
    table("customers", columns, [[row[c] for c in columns] for row in rows])


@number_app.command("list")
def number_list(
    as_json: Json = False,
    days: Days = WARNING_DAYS,
    ending: Annotated[
        bool, typer.Option("--ending", help="Only numbers with a warning.")
    ] = False,
) -> None:
    """Numbers with their customer, bound phone (masked), 税号 and service end."""

    async def work(runtime: Runtime) -> Any:
        return await list_numbers(runtime.db, runtime.clock, within_days=days)

    views: list[NumberView] = _run(work)
    rows = [_number_row(view) for view in views if view.warning or not ending]
    if as_json:
        emit_json(rows)
        return
    columns = ["number", "customer", "bound_phone", "tax_id"]
    columns += ["service_ends_on", "warning"]
    table("numbers", columns, [[row[c] for c in columns] for row in rows])


@number_app.command("service-ends")
def number_service_ends(
    number: str,
    ends_on: Annotated[
        str | None, typer.Argument(help="The last day of service, YYYY-MM-DD.")
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Forget the service end date.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Set the day a sub-number's service ends (warned 30 days before)."""
    if (ends_on is not None) == clear:
        fail("give the date (YYYY-MM-DD) or --clear, not both and not neither")
    day = _day(ends_on) if ends_on else None

    async def work(runtime: Runtime) -> Any:
        return await set_service_end(
            runtime.db, runtime.clock, number=number, ends_on=day, actor="cli"
        )

    row = _number_row(_run(work))
    if as_json:
        emit_json(row)
        return
    table("number", ["field", "value"], list(row.items()))


@app.command("bind")
def bind_command(
    text: Annotated[
        str,
        typer.Argument(
            help="绑定小号#税号#appkey#appsecret#真实手机号#小号, 解绑小号#小号 "
            "or 查询小号#小号."
        ),
    ],
    as_json: Json = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Let 绑定小号 change the real phone or 税号 a sub-number is bound to.",
        ),
    ] = False,
    tenant: Annotated[
        str | None,
        typer.Option(
            help="The tenant (name or id) the 绑定小号 is for, when several "
            "tenants have its 税号.",
        ),
    ] = None,
) -> None:
    """The ops chat command, run by an operator on this machine; exit 1 if refused."""

    async def work(runtime: Runtime) -> Any:
        return await answer(runtime, text, actor="cli", replace=replace, tenant=tenant)

    replied = _run(work)
    if as_json:
        emit_json({"ok": replied.ok, "changed": replied.changed, "text": replied.text})
    else:
        # Plain text, not Rich: a table-width wrap would break the answer's lines.
        sys.stdout.write(printable(replied.text, keep="\n") + "\n")
    raise typer.Exit(0 if replied.ok else 1)


@chat_app.command("allow")
def chat_allow(sender: str) -> None:
    """Allow a chat-robot sender to give commands."""

    async def work(runtime: Runtime) -> Any:
        return await allow(runtime.db, runtime.clock, sender, actor="cli")

    allowed = _run(work)
    state = "allowed" if allowed.new else "was allowed already"
    err.print(plain(f"{allowed.sender} {state}"), highlight=False)


@chat_app.command("deny")
def chat_deny(sender: str) -> None:
    """Take a sender off the allow-list."""

    async def work(runtime: Runtime) -> None:
        await deny(runtime.db, runtime.clock, sender, actor="cli")

    _run(work)
    err.print(plain(f"{sender.strip()} may no longer give commands"), highlight=False)


@chat_app.command("list")
def chat_list(as_json: Json = False) -> None:
    """The senders the robot obeys."""

    async def work(runtime: Runtime) -> Any:
        return await list_senders(runtime.db)

    rows = [
        {
            "sender": sender.sender,
            "allowed_by": sender.allowed_by,
            "allowed_at": sender.allowed_at.isoformat(),
        }
        for sender in _run(work)
    ]
    if as_json:
        emit_json(rows)
        return
    columns = ["sender", "allowed_by", "allowed_at"]
    table("chat senders", columns, [[row[c] for c in columns] for row in rows])


def _run(work: Callable[[Runtime], Awaitable[_T]]) -> _T:
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


def _number_row(view: NumberView) -> dict[str, Any]:
    return {
        "number": view.number,
        "is_sub_number": view.is_sub_number,
        "provider": view.provider,
        "customer": view.customer,
        "bound_phone": mask(view.bound_phone) if view.bound_phone else None,
        "tax_id": view.tax_id,
        "service_ends_on": view.service_ends_on.isoformat()
        if view.service_ends_on
        else None,
        "days_left": view.days_left,
        "warning": view.warning,
    }


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"ends_on {text!r}: write the date as YYYY-MM-DD")
        raise
