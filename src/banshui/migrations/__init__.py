"""Alembic migrations, applied by ``banshui db upgrade`` and at start-up."""
