"""Until 0.1.0 ships, the initial migration is regenerated from the models."""

from pathlib import Path
from tempfile import TemporaryDirectory

from alembic import command

from banshui.core.migrate import MIGRATIONS, alembic_config

for old in (MIGRATIONS / "versions").glob("0001_*.py"):
    old.unlink()
with TemporaryDirectory() as folder:
    config = alembic_config(f"sqlite:///{Path(folder) / 'empty.db'}")
    command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")
