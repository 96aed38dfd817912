"""``banshui db upgrade`` says what it did: created, upgraded, or nothing to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from banshui.core.migrate import alembic_config


def db_upgrade(url: str, folder: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BANSHUI_")},
        "BANSHUI_VAR_DIR": str(folder / "var"),
    }
    return subprocess.run(  # noqa: S603  (our own command, fixed arguments)
        [sys.executable, "-m", "banshui", "--database-url", url, "db", "upgrade"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def head(url: str) -> str:
    revision = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert revision is not None
    return revision


def test_an_empty_database_is_said_to_be_created_then_up_to_date(
    empty_database_url: str, tmp_path: Path
) -> None:
    first = db_upgrade(empty_database_url, tmp_path)
    second = db_upgrade(empty_database_url, tmp_path)

    assert first.returncode == 0, first.stderr
    assert first.stderr.strip() == (
        f"created the schema at revision {head(empty_database_url)}"
    )
    assert "up to date" not in first.stderr
    assert second.returncode == 0, second.stderr
    assert second.stderr.strip() == (
        f"database already up to date at revision {head(empty_database_url)}"
    )


def test_an_older_database_is_said_to_be_upgraded_from_its_revision(
    empty_database_url: str, tmp_path: Path
) -> None:
    command.upgrade(alembic_config(empty_database_url), "0005")

    done = db_upgrade(empty_database_url, tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == (
        f"upgraded the database from revision 0005 to {head(empty_database_url)}"
    )
