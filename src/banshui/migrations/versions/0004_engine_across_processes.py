"""The engine across processes: workers, lanes and awaited codes held by the database

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import banshui.core.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

AWAITED = "NOT fulfilled AND abandoned_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "engine_workers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "started_at", banshui.core.db.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "seen_at", banshui.core.db.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_workers")),
    )

    with op.batch_alter_table("login_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "holds_lane", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.create_index(
            batch_op.f("ix_login_requests_worker_id"), ["worker_id"], unique=False
        )
        batch_op.create_index(
            "uq_login_requests_lane",
            ["person_id", "region"],
            unique=True,
            sqlite_where=sa.text("holds_lane"),
            postgresql_where=sa.text("holds_lane"),
        )

    # Before, a number could await several codes at once: all but its latest
    # open expectation are given up, as their waiters would have done.
    op.execute(
        "UPDATE code_expectations SET abandoned_at = requested_at "
        "WHERE NOT fulfilled AND abandoned_at IS NULL AND id NOT IN ("
        "SELECT max(id) FROM code_expectations "
        "WHERE NOT fulfilled AND abandoned_at IS NULL GROUP BY number)"
    )
    with op.batch_alter_table("code_expectations", schema=None) as batch_op:
        batch_op.create_index(
            "uq_code_expectations_awaited",
            ["number"],
            unique=True,
            sqlite_where=sa.text(AWAITED),
            postgresql_where=sa.text(AWAITED),
        )


def downgrade() -> None:
    with op.batch_alter_table("code_expectations", schema=None) as batch_op:
        batch_op.drop_index("uq_code_expectations_awaited")

    with op.batch_alter_table("login_requests", schema=None) as batch_op:
        batch_op.drop_index("uq_login_requests_lane")
        batch_op.drop_index(batch_op.f("ix_login_requests_worker_id"))
        batch_op.drop_column("holds_lane")
        batch_op.drop_column("worker_id")

    op.drop_table("engine_workers")
