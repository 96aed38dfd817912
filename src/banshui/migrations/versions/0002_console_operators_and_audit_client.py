"""operators can be disabled, audit entries note their client, bureau additions

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 20:25:56.014027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import banshui.core.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bureau_additions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("noted_by", sa.String(length=200), nullable=False),
        sa.Column(
            "noted_at", banshui.core.db.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["numbers.id"],
            name=op.f("fk_bureau_additions_number_id_numbers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_bureau_additions_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bureau_additions")),
    )
    with op.batch_alter_table("bureau_additions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bureau_additions_number_id"), ["number_id"], unique=False
        )

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client", sa.String(length=64), nullable=True))

    with op.batch_alter_table("operators", schema=None) as batch_op:
        # Existing operators stay enabled.
        batch_op.add_column(
            sa.Column(
                "disabled", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("disabled")

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("client")

    with op.batch_alter_table("bureau_additions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bureau_additions_number_id"))

    op.drop_table("bureau_additions")
