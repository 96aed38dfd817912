"""Applying migrations from code, so ``banshui db upgrade`` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool, text

from banshui.core.db import is_sqlite, sync_url
from banshui.core.private_files import private_sqlite_file

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Any fixed number will do: every banshui process agrees on it.
_UPGRADE_LOCK = 0x62616E73


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(url))
    return config


def upgrade(url: str) -> None:
    """Bring the database to the newest revision; safe from several processes."""
    if is_sqlite(url):
        private_sqlite_file(url)

    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.begin() as connection:
        if not is_sqlite(url):
            # Several processes starting at once must not migrate side by side.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": _UPGRADE_LOCK}
            )
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()
