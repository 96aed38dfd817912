"""The core commands: serve, sim, demo, parse, tenants, sources, db."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Annotated, Any

import typer

from banshui.access_log import AccessLog, log_config
from banshui.accounts.tenants import add_tenant
from banshui.cli.main import Json, app, db_app, run, settings, source_app, tenant_app
from banshui.cli.output import emit_json, err, fail, out, table
from banshui.core.migrate import upgrade
from banshui.core.settings import SIMULATOR_TOKEN_FILE, simulator_admin_token
from banshui.runtime import build_runtime
from banshui.sms.extraction import extract
from banshui.sms.sources import add_source, webhook_url


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="API processes (PostgreSQL).")
    ] = 1,
    engine: Annotated[
        bool | None,
        typer.Option(
            "--engine/--no-engine",
            help="Run the engine here (BANSHUI_ENGINE); off when `banshui worker` "
            "processes serve the logins (PostgreSQL).",
        ),
    ] = None,
) -> None:
    """API, console, webhooks, engine and (unless switched off) the simulator."""
    import uvicorn

    from banshui.app import create_app
    from banshui.cli.processes import refuse_one_process_only

    public = os.environ.get("BANSHUI_PUBLIC_URL") or f"http://{_dialable(host)}:{port}"
    # In the environment too: each process of --workers reads its settings there.
    os.environ["BANSHUI_PUBLIC_URL"] = public
    if engine is not None:
        os.environ["BANSHUI_ENGINE"] = "on" if engine else "off"
    config = settings()
    refuse_one_process_only(config, workers)
    if workers > 1:
        uvicorn.run(
            "banshui.cli.processes:served_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            log_config=log_config(),
            access_log=False,
            proxy_headers=False,
        )
        return

    # proxy_headers off: the app believes only BANSHUI_TRUSTED_PROXIES.
    # uvicorn's access log shows query strings (a GET webhook's code and
    # signature): banshui's own leaves them out.
    uvicorn.run(
        AccessLog(create_app(config)),
        host=host,
        port=port,
        log_level="info",
        log_config=log_config(),
        access_log=False,
        proxy_headers=False,
    )


@app.command()
def sim(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8001,
    seed: Annotated[int, typer.Option(help="Seed for all randomness.")] = 1,
) -> None:
    """The simulated bureau alone, with its own state, its paths at /."""
    import uvicorn

    from banshui.simulator import SimConfig, create_app

    config = settings()
    token = simulator_admin_token(config)
    where = "BANSHUI_SIMULATOR_ADMIN_TOKEN"
    if "simulator_admin_token" not in config.model_fields_set:
        where = str(config.var_dir / SIMULATOR_TOKEN_FILE)
    err.print(
        f"the admin API takes the bearer token in {where}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    uvicorn.run(
        AccessLog(create_app(SimConfig(seed=seed), admin_token=token)),
        host=host,
        port=port,
        log_level="info",
        log_config=log_config(),
        access_log=False,
    )


@app.command()
def demo(
    as_json: Json = False,
    faults: Annotated[
        bool,
        typer.Option(
            "--faults",
            help="The carrier and the bureau misbehave: lost, late, duplicated "
            "and reordered SMS; slow, transient and 5xx answers.",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed for the simulator.")] = 1,
) -> None:
    """The six-step demo scenario on a fresh temporary database over real HTTP."""
    from banshui.demo.scenario import run_demo

    def report(line: str) -> None:
        err.print(line, highlight=False)

    result = asyncio.run(run_demo(seed=seed, report=report, faults=faults))
    if as_json:
        emit_json(result)
    else:
        _print_demo(result)
    raise typer.Exit(0 if result["ok"] else 1)


@app.command()
def parse(
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Input is JSON Lines with a 'text' field.")
    ] = False,
) -> None:
    """SMS texts on standard input, one per line; a JSON object per line out."""
    for number, line in enumerate(sys.stdin, start=1):
        text = line.rstrip("\n")
        if not text.strip():
            continue
        if jsonl:
            text = _text_field(text, number)
        found = extract(text)
        emit_json({"code": found.code, "kind": found.kind.value})


@tenant_app.command("add")
def tenant_add(name: str, as_json: Json = False) -> None:
    """Create a tenant and print its API key, once."""

    async def work() -> Any:
        config = settings()
        await asyncio.to_thread(upgrade, config.database_url)
        runtime = build_runtime(config)
        try:
            return await add_tenant(runtime.db, runtime.clock, name)
        finally:
            await runtime.close()

    made = run(work)
    if as_json:
        emit_json(
            {"id": made.tenant.id, "name": made.tenant.name, "api_key": made.api_key}
        )
        return
    table("tenant", ["id", "name"], [[made.tenant.id, made.tenant.name]])
    out.print(f"API key (shown once): {made.api_key}", highlight=False, soft_wrap=True)


@source_app.command("add")
def source_add(
    kind: Annotated[
        str, typer.Argument(help="smsforwarder, android-gateway, twilio or generic.")
    ],
    name: str,
    secret: Annotated[str, typer.Option(help="The gateway's signing secret.")],
    number: Annotated[
        str | None, typer.Option(help="The number its phone receives for.")
    ] = None,
    sim_slot: Annotated[
        list[str] | None, typer.Option("--sim-slot", help="K=NUMBER, per SIM slot.")
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(help="The URL the gateway calls, if a proxy changes it."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Register an inbound gateway and print its webhook URL."""
    slots = dict(_slot(item) for item in sim_slot or [])
    config = settings()
    # The server's address is known here only when BANSHUI_PUBLIC_URL says it.
    base_known = "public_url" in config.model_fields_set
    public_url = public_url or _pinned_url(kind, name, config.public_url, base_known)

    async def work() -> Any:
        await asyncio.to_thread(upgrade, config.database_url)
        runtime = build_runtime(config)
        try:
            return await add_source(
                runtime.db,
                runtime.vault,
                runtime.clock,
                kind=kind,
                name=name,
                secret=secret,
                number=number,
                sim_slots=slots,
                public_url=public_url,
            ), config.public_url
        finally:
            await runtime.close()

    source, base = run(work)
    url = source.public_url or webhook_url(base, source.kind, source.name)
    if source.public_url is None and not base_known:
        err.print(
            f"note: BANSHUI_PUBLIC_URL is not set, so this URL assumes `banshui "
            f"serve` at {base}, which only this machine can reach; set it to the "
            "address the gateway dials",
            highlight=False,
            markup=False,
        )
    if as_json:
        emit_json(
            {
                "id": source.id,
                "kind": source.kind,
                "name": source.name,
                "webhook_url": url,
            }
        )
        return
    table("source", ["id", "kind", "name"], [[source.id, source.kind, source.name]])
    # On a line of its own, so it can be copied whole into the gateway's settings.
    out.print(f"webhook URL: {url}", highlight=False, soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations (safe to run from several processes at once)."""
    done = upgrade(settings().database_url)
    err.print(done.describe(), highlight=False)


def _print_demo(result: dict[str, Any]) -> None:
    columns = ["step", "tax_id", "business", "status", "sms_used", "switched", "number"]
    rows = [[login[column] for column in columns] for login in result["logins"]]
    table("demo", columns, rows)
    out.print(
        f"sms_total {result['sms_total']} · naive_sms {result['naive_sms']} · "
        f"sms_manual {result['sms_manual']} · violations {result['violations']} · "
        f"ok {str(result['ok']).lower()}"
    )
    for login in result["logins"]:
        for failed in login.get("failed_asks", []):
            out.print(f"step {login['step']}: asked again after: {failed['reason']}")
    for item in result["sms_beyond_table"]:
        causes = "; ".join(item["explained_by"]) or "no fault explains it"
        out.print(f"step {item['step']}: {item['sms']} SMS beyond the table: {causes}")
    if result["faults"]:
        out.print(f"faults that fired: {len(result['faults'])}")


def _text_field(line: str, number: int) -> str:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        fail(f"line {number}: not valid JSON")
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        fail(f"line {number}: needs a string field 'text'")
    return str(value["text"])


def _pinned_url(kind: str, name: str, base: str, base_known: bool) -> str | None:
    """The URL a Twilio source is checked against: the one printed for it.

    Twilio signs the URL it calls, so the server must check against exactly the
    URL given to Twilio, not one it guesses from its own host and port.
    """
    if kind != "twilio":
        return None
    if not base_known:
        fail(
            "twilio signs the URL it calls: give --public-url, or set "
            "BANSHUI_PUBLIC_URL to the address banshui is reached at (public_url)"
        )
    return webhook_url(base, kind, name)


def _slot(item: str) -> tuple[str, str]:
    slot, sep, number = item.partition("=")
    if not sep or not slot or not number:
        fail(f"--sim-slot {item!r}: write it as K=NUMBER, e.g. 1=13188888888")
    return slot.strip(), number.strip()


def _dialable(host: str) -> str:
    # A wildcard address is for listening; the simulator must dial a real one.
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
