"""Several processes on PostgreSQL: ``banshui worker``, and ``serve --workers N``.

A worker runs the engine, forwarding and webhook delivery without an HTTP API;
``serve --workers N`` runs N API processes on one port. Every process claims
its work from the database and wakes the others through it (LISTEN/NOTIFY), so
any number of them may run against one database, on one machine or several.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack

from starlette.types import ASGIApp

from banshui.cli.main import app, settings
from banshui.cli.output import fail
from banshui.core.db import is_sqlite
from banshui.core.migrate import upgrade
from banshui.core.settings import Settings, load_settings
from banshui.sync.publisher import OutboxEvents

logger = logging.getLogger(__name__)

ONE_PROCESS = "SQLite serves one process"


@app.command()
def worker() -> None:
    """The engine alone (logins, leases, keep-alive), forwarding and webhooks."""
    config = settings()
    if is_sqlite(config.database_url):
        fail(
            f"banshui worker needs PostgreSQL: {ONE_PROCESS}, and `banshui serve` "
            "runs the engine itself (set BANSHUI_DATABASE_URL to a postgresql:// URL)"
        )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    # A line per bureau request is noise; its failures are logged by banshui.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(run_worker(config))


async def run_worker(config: Settings) -> None:
    """Until SIGTERM or SIGINT: then the requests in flight go back to the queue."""
    from banshui.app import bureau_driver, bureau_url
    from banshui.background import start_background
    from banshui.runtime import build_runtime

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)

    runtime = build_runtime(config)
    runtime.events = OutboxEvents(runtime.db, runtime.clock)
    async with AsyncExitStack() as stack:
        await asyncio.to_thread(upgrade, config.database_url)
        stack.push_async_callback(runtime.close)
        await runtime.bells.start()
        # BANSHUI_DRIVER and the region profiles choose, as in ``serve``.
        bureau = bureau_driver(config)
        stack.push_async_callback(bureau.close)
        await start_background(stack, runtime, bureau)
        logger.info("banshui worker started; the bureau is at %s", bureau_url(config))
        await stopping.wait()
        logger.info("banshui worker stopping")


def refuse_one_process_only(config: Settings, workers: int) -> None:
    """What ``serve`` cannot do on one process's storage or simulator."""
    if workers > 1 and is_sqlite(config.database_url):
        fail(
            f"--workers needs PostgreSQL: {ONE_PROCESS} "
            "(set BANSHUI_DATABASE_URL to a postgresql:// URL)"
        )
    if config.engine == "off" and is_sqlite(config.database_url):
        fail(
            "--no-engine leaves the logins to `banshui worker`, which needs "
            f"PostgreSQL: {ONE_PROCESS}"
        )
    if workers > 1 and config.simulator_embedded:
        fail(
            "--workers runs several processes, and the embedded simulator keeps its "
            "state in one: run `banshui sim` and set BANSHUI_SIMULATOR_URL (or "
            "BANSHUI_SIMULATOR=off)"
        )


def served_app() -> ASGIApp:
    """The app of one of ``serve --workers N``'s processes, set up from the
    environment that ``serve`` prepared."""
    from banshui.access_log import AccessLog
    from banshui.app import create_app

    return AccessLog(create_app(load_settings()))
