"""A bureau code received twice is marked a copy; logins are listed by tenant and time

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 06:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no backfill: SMS stored before are each their own, as they were
    # counted and handed out when they came.
    with op.batch_alter_table("inbound_sms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("copy_of_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_inbound_sms_number_code", ["number", "code"], unique=False
        )
    # GET /api/v1/logins reads a tenant's page, newest first, off this index.
    with op.batch_alter_table("login_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_login_requests_tenant_created",
            ["tenant_id", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("login_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_login_requests_tenant_created")
    with op.batch_alter_table("inbound_sms", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_sms_number_code")
        batch_op.drop_column("copy_of_id")
