"""``banshui source list``, ``rotate-secret`` and ``remove``: the inbound gateways."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer

from banshui.cli.main import Json, run_with_runtime, settings, source_app
from banshui.cli.output import emit_json, err, fail, table
from banshui.core.clock import SHANGHAI
from banshui.runtime import Runtime
from banshui.sms.models import Source
from banshui.sms.sources import (
    ListedSource,
    list_sources,
    remove_source,
    rotate_secret,
    webhook_path,
    webhook_url,
)

_T = TypeVar("_T")


@source_app.command("list")
def source_list(as_json: Json = False) -> None:
    """Every inbound gateway, its webhook and numbers (never its secret)."""
    config = settings()
    # A URL only where it is known: a guessed 127.0.0.1 would mislead.
    base = config.public_url if "public_url" in config.model_fields_set else None

    async def work(runtime: Runtime) -> list[ListedSource]:
        return await list_sources(runtime.db)

    rows = [_row(listed, base) for listed in run_with_runtime(work)]
    if as_json:
        emit_json(rows)
        return
    columns = ["id", "kind", "name", "webhook", "numbers"]
    columns += ["created", "last SMS", "removed"]
    table("sources (times Asia/Shanghai)", columns, [_table_row(r) for r in rows])


@source_app.command("rotate-secret")
def source_rotate_secret(
    name: str,
    secret: Annotated[
        str | None,
        typer.Option(
            help="The new signing secret; without it, asked for or read from "
            "standard input (kept out of the shell's history)."
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Give a gateway a new secret; requests signed with the old one are refused."""
    new_secret = _secret() if secret is None else secret

    async def work(runtime: Runtime) -> Source:
        return await rotate_secret(
            runtime.db, runtime.vault, runtime.clock, name, new_secret
        )

    source = run_with_runtime(work)
    if as_json:
        emit_json(
            {
                "id": source.id,
                "kind": source.kind,
                "name": source.name,
                "secret_rotated": True,
            }
        )
        return
    err.print(
        f"the secret of {source.name} is replaced: set the new one in the gateway; "
        "requests signed with the old one are refused from now on",
        highlight=False,
        markup=False,
    )


@source_app.command("remove")
def source_remove(name: str, as_json: Json = False) -> None:
    """Stop a gateway: its webhook is refused; the SMS it received stay."""

    async def work(runtime: Runtime) -> Source:
        return await remove_source(runtime.db, runtime.clock, name)

    source = run_with_runtime(work)
    if as_json:
        emit_json(
            {
                "id": source.id,
                "kind": source.kind,
                "name": source.name,
                "removed_at": _iso(source.removed_at),
            }
        )
        return
    err.print(
        f"{source.name} is removed: its webhook answers as for no source from now "
        "on; the SMS it received stay in the inbox",
        highlight=False,
        markup=False,
    )


def _secret() -> str:
    """From a prompt on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        secret: str = typer.prompt(
            "Secret", hide_input=True, confirmation_prompt=True, err=True
        )
    else:
        secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        fail("give the secret with --secret, on standard input or at the prompt")
    return secret


def _row(listed: ListedSource, base: str | None) -> dict[str, Any]:
    source = listed.source
    url = source.public_url
    if url is None and base is not None:
        url = webhook_url(base, source.kind, source.name)
    return {
        "id": source.id,
        "kind": source.kind,
        "name": source.name,
        "webhook_path": webhook_path(source.kind, source.name),
        "webhook_url": url,
        "number": source.number,
        "sim_slots": {slot: str(number) for slot, number in source.sim_slots.items()},
        "customer_id": source.customer_id,
        "created_at": _iso(source.created_at),
        "last_received_at": _iso(listed.last_received_at),
        "removed_at": _iso(source.removed_at),
    }


def _table_row(row: dict[str, Any]) -> list[Any]:
    slots = [f"SIM{slot}={number}" for slot, number in sorted(row["sim_slots"].items())]
    numbers = " ".join(([row["number"]] if row["number"] else []) + slots)
    return [
        row["id"],
        row["kind"],
        row["name"],
        row["webhook_url"] or row["webhook_path"],
        numbers,
        _local(row["created_at"]),
        _local(row["last_received_at"]) or "never",
        _local(row["removed_at"]),
    ]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _local(iso: str | None) -> str | None:
    if iso is None:
        return None
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
