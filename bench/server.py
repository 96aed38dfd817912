"""A ``banshui serve``-like server for the ingest benchmark, with no-op routes.

``python -m bench.server --folder F --port P`` builds ``create_app`` as ``banshui
serve`` does, adds ``POST /bench/noop`` and ``POST /bench/noop-bare`` (here, not
in the product), registers one SmsForwarder source and serves with uvicorn
until it is sent SIGTERM or SIGINT.

The two no-op routes do the same (read the body, answer a small JSON object)
and differ in how they are served. ``/bench/noop`` is an ordinary FastAPI route
of the app, after all of banshui's: what any API request pays. ``/bench/noop-bare``
is served as the SMS webhook is (``banshui.api.hooks.install``): a plain
Starlette route at the front of the list. The webhook measured against the
first says how much of an ordinary request's cost ingest adds; against the
second, how much its own work costs beside the lean routing it is given.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.routing import Route

from banshui.api import hooks
from banshui.app import create_app
from banshui.core.migrate import upgrade
from banshui.core.settings import Settings
from banshui.runtime import build_runtime
from banshui.sms.sources import add_source

SOURCE = "bench-phone"
NUMBER = "19912349999"
NOOP = "/bench/noop"
BARE_NOOP = "/bench/noop-bare"


def bench_settings(folder: Path, port: int, database_url: str | None) -> Settings:
    return Settings(
        database_url=database_url or f"sqlite:///{folder / 'banshui.db'}",
        var_dir=folder,
        public_url=f"http://127.0.0.1:{port}",
        simulator="off",
        sandbox="off",
    )


def bench_app(settings: Settings) -> FastAPI:
    """The product's app, plus routes that do nothing but read their body."""
    app = create_app(settings)

    @app.post(NOOP, include_in_schema=False)
    async def noop(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"ok": True, "stored": 0})

    # Right behind the webhook's route, so that neither is matched sooner.
    routes = app.router.routes
    webhook = next(
        i for i, r in enumerate(routes) if getattr(r, "path", None) == hooks.PATH
    )
    bare = Route(BARE_NOOP, noop, methods=["POST"], include_in_schema=False)
    routes.insert(webhook + 1, bare)
    return app


async def seed_source(settings: Settings, secret: str) -> None:
    """The SmsForwarder source the load posts to, tied to one number."""
    await asyncio.to_thread(upgrade, settings.database_url)
    runtime = build_runtime(settings)
    try:
        await add_source(
            runtime.db,
            runtime.vault,
            runtime.clock,
            kind="smsforwarder",
            name=SOURCE,
            secret=secret,
            number=NUMBER,
            actor="bench",
        )
    finally:
        await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--cpu", type=int, help="pin this process to one core")
    args = parser.parse_args()

    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    settings = bench_settings(args.folder, args.port, args.database_url)
    asyncio.run(seed_source(settings, args.secret))
    # As `banshui serve` runs it: uvicorn's defaults (httptools and uvloop,
    # which banshui installs with uvicorn[standard]), one process.
    uvicorn.run(
        bench_app(settings),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
