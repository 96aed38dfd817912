"""``banshui db upgrade`` from several processes at once migrates once, cleanly.

Processes starting together (a rolling restart, ``serve --workers N``) each
upgrade the database first; on PostgreSQL an advisory lock makes them take
turns, so the later ones find it done.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from banshui.core.db import sync_url
from banshui.core.migrate import alembic_config

pytestmark = pytest.mark.postgresql_only

BANSHUI = str(Path(sys.executable).with_name("banshui"))
PROCESSES = 3


def test_three_upgrades_at_once_leave_one_migrated_database(
    empty_database_url: str, tmp_path: Path
) -> None:
    url = empty_database_url
    running = [
        subprocess.Popen(  # noqa: S603 - this venv's banshui, fixed arguments
            [BANSHUI, "--database-url", url, "db", "upgrade"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(PROCESSES)
    ]
    outputs = [process.communicate(timeout=120)[0].decode() for process in running]

    assert [process.returncode for process in running] == [0] * PROCESSES, outputs
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = create_engine(sync_url(url))
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version"))
        assert [row[0] for row in versions] == [head]
    engine.dispose()
    # Every table and column of the models, none twice or missing.
    command.check(alembic_config(url))
