"""Forwards record when their attempt went on the wire

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import banshui.core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A forward ``sending`` before this column existed may have been on the wire:
    # the next start finds it without the mark and sends it again, as it did.
    with op.batch_alter_table("forwards", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "in_flight_at",
                banshui.core.db.UtcDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("forwards", schema=None) as batch_op:
        batch_op.drop_column("in_flight_at")
