"""SMS note whether a bureau sender sent them; codes asked on hosted numbers

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 21:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import banshui.core.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SMS stored before senders were checked were all taken for the bureau's.
    with op.batch_alter_table("inbound_sms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "from_bureau", sa.Boolean(), server_default=sa.true(), nullable=False
            )
        )

    op.create_table(
        "remote_code_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=11), nullable=False),
        sa.Column("waiter", sa.String(length=64), nullable=False),
        sa.Column(
            "requested_at", banshui.core.db.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_code_requests")),
    )
    with op.batch_alter_table("remote_code_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_remote_code_requests_number_day", ["number", "day"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("remote_code_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_remote_code_requests_number_day")
    op.drop_table("remote_code_requests")

    with op.batch_alter_table("inbound_sms", schema=None) as batch_op:
        batch_op.drop_column("from_bureau")
