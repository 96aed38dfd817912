"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic import command

from banshui.core.migrate import alembic_config, upgrade


def test_a_migrated_database_matches_every_model(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url)

    # Raises when a model has a column or table no migration creates.
    command.check(alembic_config(url))


def test_upgrading_twice_changes_nothing(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url)
    upgrade(url)

    command.check(alembic_config(url))
