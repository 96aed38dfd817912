"""Refused API keys and provider signatures per client, for the guessing limit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import banshui.core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", banshui.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_refusals")),
    )
    with op.batch_alter_table("key_refusals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_refusals_at"), ["at"], unique=False)
        batch_op.create_index(
            "ix_key_refusals_client_at", ["client", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("key_refusals", schema=None) as batch_op:
        batch_op.drop_index("ix_key_refusals_client_at")
        batch_op.drop_index(batch_op.f("ix_key_refusals_at"))
    op.drop_table("key_refusals")
