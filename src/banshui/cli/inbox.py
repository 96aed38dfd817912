"""``banshui inbox NUMBER`` and ``banshui number pin NUMBER``: the number side's
codes for an operator on this machine, and the query page's PINs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer

from banshui.audit.log import record
from banshui.cli.main import Json, app, run, settings
from banshui.cli.numbers import number_app
from banshui.cli.output import emit_json, err, fail, table
from banshui.core.clock import SHANGHAI
from banshui.core.migrate import upgrade
from banshui.numbers.phones import normalize_mobile
from banshui.query.pins import set_pin
from banshui.runtime import Runtime, build_runtime
from banshui.sms.extraction import SmsKind
from banshui.sms.models import InboundSms

_T = TypeVar("_T")
Limit = Annotated[
    int, typer.Option("--limit", min=1, max=500, help="How many SMS, newest first.")
]


@app.command("inbox")
def inbox(number: str, as_json: Json = False, limit: Limit = 20) -> None:
    """The latest SMS of a number with their codes (the view is audited)."""

    async def work(runtime: Runtime) -> tuple[str, list[InboundSms]]:
        msisdn = normalize_mobile(number)
        latest = await runtime.inbox.latest(msisdn, limit)
        async with runtime.db.transaction() as session:
            record(
                session,
                runtime.clock,
                actor="cli",
                action="code.viewed",
                subject=f"number:{msisdn}",
                detail=f"{len(latest)} SMS through banshui inbox",
            )
        return msisdn, latest

    msisdn, latest = _with_runtime(work)
    if as_json:
        emit_json([_row(sms) for sms in latest])
        return
    columns = ["id", "received (Asia/Shanghai)", "sender", "code", "kind"]
    columns += ["claimed", "text"]
    rows = [_table_row(sms) for sms in latest]
    table(f"inbox of {msisdn}", columns, rows)


@number_app.command("pin")
def number_pin(number: str, as_json: Json = False) -> None:
    """Set the query page's PIN of a number, from a prompt or standard input."""
    pin = _read_pin()

    async def work(runtime: Runtime) -> str:
        return await set_pin(runtime.db, runtime.clock, number, pin, actor="cli")

    msisdn = _with_runtime(work)
    if as_json:
        emit_json({"number": msisdn, "pin_set": True})
        return
    err.print(f"the PIN of {msisdn} is set; its lockout is cleared", highlight=False)


def _read_pin() -> str:
    if sys.stdin.isatty():
        entered: str = typer.prompt("PIN", hide_input=True, confirmation_prompt=True)
        return entered
    line = sys.stdin.readline()
    if not line.strip():
        fail("give the PIN on standard input (one line) or at the prompt")
    return line.rstrip("\r\n")


def _with_runtime(work: Callable[[Runtime], Awaitable[_T]]) -> _T:
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


def _row(sms: InboundSms) -> dict[str, Any]:
    return {
        "id": sms.id,
        "number": sms.number,
        "received_at": sms.received_at.isoformat(),
        "sender": sms.sender,
        "code": sms.code,
        "kind": sms.kind,
        "from_bureau": sms.from_bureau,
        "claimed": sms.claimed_by is not None,
        "text": sms.text,
    }


def _table_row(sms: InboundSms) -> list[Any]:
    # Senders and texts are opaque: the table prints them as data, never markup
    # nor terminal controls.
    claimed = "yes" if sms.claimed_by else ""
    return [
        sms.id,
        _local(sms.received_at),
        sms.sender,
        sms.code,
        _kind(sms),
        claimed,
        sms.text,
    ]


def _kind(sms: InboundSms) -> str:
    """The kind, and a warning when the bureau's words come from another sender."""
    if sms.kind == SmsKind.BUREAU_LOGIN and not sms.from_bureau:
        return f"{sms.kind} (NOT from a bureau sender: never used)"
    return sms.kind


def _local(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
