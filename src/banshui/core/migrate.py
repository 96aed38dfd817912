"""Applying migrations from code, so ``banshui db upgrade`` needs no alembic.ini."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
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


@dataclass(frozen=True)
class Upgraded:
    """What an upgrade found and left: ``before`` is None on an empty database."""

    before: str | None
    after: str | None

    def describe(self) -> str:
        if self.before == self.after:
            return f"database already up to date at revision {self.after}"
        if self.before is None:
            return f"created the schema at revision {self.after}"
        return f"upgraded the database from revision {self.before} to {self.after}"


def upgrade(url: str) -> Upgraded:
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
        before = MigrationContext.configure(connection).get_current_revision()
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        after = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return Upgraded(before=before, after=after)
