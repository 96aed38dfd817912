"""The database, its WAL and SHM files and the var dir are the owner's alone."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from banshui.core.db import Database
from banshui.core.migrate import upgrade
from banshui.core.settings import Settings, load_secret_key

pytestmark = pytest.mark.sqlite_only


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common 022, under which SQLite would make a world-readable file."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_banshui_db_upgrade_makes_the_database_and_its_new_folder_private(
    tmp_path: Path,
) -> None:
    database = tmp_path / "var" / "banshui.db"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BANSHUI_")},
        "BANSHUI_DATABASE_URL": f"sqlite:///{database}",
        "BANSHUI_VAR_DIR": str(tmp_path / "var"),
    }

    done = subprocess.run(
        [sys.executable, "-m", "banshui", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert mode(database) == 0o600
    assert mode(database.parent) == 0o700


async def test_the_wal_and_shm_files_are_private_while_the_database_is_open(
    tmp_path: Path,
) -> None:
    database = tmp_path / "banshui.db"
    db = Database(f"sqlite:///{database}")
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE t (x INTEGER)"))
            await session.execute(text("INSERT INTO t VALUES (1)"))
        journals = [Path(f"{database}-wal"), Path(f"{database}-shm")]

        assert all(path.exists() for path in journals)
        assert [mode(path) for path in [database, *journals]] == [0o600] * 3
    finally:
        await db.close()


def test_an_existing_world_readable_database_is_made_private_at_start_up(
    tmp_path: Path,
) -> None:
    database = tmp_path / "banshui.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    database.chmod(0o644)

    upgrade(url)

    assert mode(database) == 0o600


def test_the_var_dir_that_holds_the_generated_key_is_private(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)

    load_secret_key(Settings(var_dir=var, database_url=f"sqlite:///{var}/b.db"))

    assert mode(var) == 0o700
    assert mode(var / "secret.key") == 0o600


def test_a_database_in_a_folder_banshui_did_not_make_leaves_the_folder_alone(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)

    upgrade(f"sqlite:///{shared / 'banshui.db'}")

    assert mode(shared) == 0o755
    assert mode(shared / "banshui.db") == 0o600
