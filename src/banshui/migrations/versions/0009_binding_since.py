"""A binding records since when it is for its tenant

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 06:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import banshui.core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no backfill: a binding made before is for its tenant from ever,
    # so no SMS a tenant sees now disappears. (When a person's holding began is
    # person_numbers.added_at, kept since 0001.)
    with op.batch_alter_table("numbers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "bound_since",
                banshui.core.db.UtcDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("numbers", schema=None) as batch_op:
        batch_op.drop_column("bound_since")
