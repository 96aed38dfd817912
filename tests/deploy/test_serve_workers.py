"""``banshui serve --workers N`` on PostgreSQL: N processes on one port, N engines.

On SQLite it refuses, saying why: SQLite serves one process.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from banshui.core.db import Database
from banshui.login.models import EngineWorker

from .processes import BANSHUI, answering, environment, free_port, start, stop

WORKERS = 2


@pytest.mark.postgresql_only
async def test_serve_with_two_workers_runs_two_engines_that_leave_when_stopped(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = environment(
        database_url=database_url,
        secret_key=base64.b64encode(os.urandom(32)).decode(),
        var_dir=str(tmp_path),
        simulator="off",
        sandbox="off",
    )
    command = ["serve", "--port", str(port), "--workers", str(WORKERS)]
    server = start("serve", command, env, tmp_path, f"http://127.0.0.1:{port}")
    try:
        await answering(server, "/healthz")
        names = await _engines(database_url, WORKERS)
    finally:
        code = stop(server)

    assert code in (0, -signal.SIGTERM), server.tail()
    pids = {int(name.rsplit(":", 1)[1]) for name in names}
    assert len(pids) == WORKERS and server.pid not in pids
    # Each engine stopped with its process and took its row along.
    assert await _engines(database_url, 0) == []


@pytest.mark.sqlite_only
def test_serve_with_workers_on_sqlite_refuses_and_says_postgresql(
    database_url: str, tmp_path: Path
) -> None:
    env = environment(database_url=database_url, var_dir=str(tmp_path))
    done = subprocess.run(  # noqa: S603 - this venv's banshui, fixed arguments
        [BANSHUI, "serve", "--workers", "2"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode != 0
    assert "PostgreSQL" in done.stderr
    assert "one process" in done.stderr


async def _engines(url: str, count: int, seconds: float = 40) -> list[str]:
    """The engines' names once there are ``count`` of them."""
    db = Database(url)
    try:
        for _ in range(int(seconds / 0.1)):
            async with db.session() as session:
                names = list(await session.scalars(select(EngineWorker.name)))
            if len(names) == count:
                return names
            await asyncio.sleep(0.1)
    finally:
        await db.close()
    raise TimeoutError(f"{count} engines did not appear: {names}")
