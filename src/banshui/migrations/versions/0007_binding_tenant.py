"""A sub-number's binding records the tenant it is for

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("numbers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tenant_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_numbers_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_numbers_tenant_id_tenants"), "tenants", ["tenant_id"], ["id"]
        )

    # Bindings made before: settled as 绑定小号 settles them now. A number held
    # by a person of a tenant with that enterprise is that tenant's; a number no
    # one holds is the one tenant's with that enterprise. Any other stays of no
    # tenant (seen by its holder's tenant only, if any) until it is bound again.
    op.execute(
        "UPDATE numbers SET tenant_id = (SELECT persons.tenant_id "
        "FROM person_numbers JOIN persons ON persons.id = person_numbers.person_id "
        "WHERE person_numbers.number_id = numbers.id) "
        "WHERE tax_id IS NOT NULL AND EXISTS (SELECT 1 FROM enterprises "
        "JOIN persons ON persons.tenant_id = enterprises.tenant_id "
        "JOIN person_numbers ON person_numbers.person_id = persons.id "
        "WHERE enterprises.tax_id = numbers.tax_id "
        "AND person_numbers.number_id = numbers.id)"
    )
    op.execute(
        "UPDATE numbers SET tenant_id = (SELECT min(enterprises.tenant_id) "
        "FROM enterprises WHERE enterprises.tax_id = numbers.tax_id) "
        "WHERE tax_id IS NOT NULL AND tenant_id IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM person_numbers "
        "WHERE person_numbers.number_id = numbers.id) "
        "AND (SELECT count(DISTINCT enterprises.tenant_id) FROM enterprises "
        "WHERE enterprises.tax_id = numbers.tax_id) = 1"
    )


def downgrade() -> None:
    with op.batch_alter_table("numbers", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_numbers_tenant_id_tenants"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_numbers_tenant_id"))
        batch_op.drop_column("tenant_id")
