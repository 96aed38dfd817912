"""Migration 0007 settles the tenant of bindings made before it, as 绑定小号 does."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, pool

from banshui.core.db import UtcDateTime, sync_url
from banshui.core.migrate import alembic_config, upgrade

AT = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
ONLY_ONE = "91440300MA5FA0010M"  # an enterprise of tenant 1 only
TWO_HAVE = "91440300MA5FB0020E"  # of tenants 1 and 2
THIRD_ONLY = "91420100MA4KC0030Q"  # of tenant 3 only


def _table(name: str, *columns: str, at: str = "created_at") -> sa.TableClause:
    return sa.table(
        name, *(sa.column(c) for c in columns), sa.column(at, UtcDateTime())
    )


TENANTS = _table("tenants", "id", "name", "api_key_hash")
ENTERPRISES = _table(
    "enterprises", "id", "tenant_id", "tax_id", "name", "region", "region_overridden"
)
PERSONS = _table("persons", "id", "tenant_id", "name", "id_number", "password_sealed")
NUMBERS = _table("numbers", "id", "msisdn", "is_sub_number", "tax_id", "pin_failures")
HOLDERS = _table(
    "person_numbers",
    "id",
    "number_id",
    "person_id",
    "default_at_bureau",
    at="added_at",
)


def _before(connection: sa.Connection) -> None:
    """Bindings as 0006 left them, by the tax id alone."""
    connection.execute(
        sa.insert(TENANTS),
        [
            {"id": n, "name": f"t{n}", "api_key_hash": f"h{n}", "created_at": AT}
            for n in (1, 2, 3)
        ],
    )
    connection.execute(
        sa.insert(ENTERPRISES),
        [
            {
                "id": n,
                "tenant_id": tenant,
                "tax_id": tax_id,
                "name": f"e{n}",
                "region": "4403",
                "region_overridden": False,
                "created_at": AT,
            }
            for n, tenant, tax_id in (
                (1, 1, ONLY_ONE),
                (2, 1, TWO_HAVE),
                (3, 2, TWO_HAVE),
                (4, 3, THIRD_ONLY),
            )
        ],
    )
    connection.execute(
        sa.insert(PERSONS),
        {
            "id": 1,
            "tenant_id": 2,
            "name": "p2",
            "id_number": "44030519900101123X",
            "password_sealed": "sealed",
            "created_at": AT,
        },
    )
    connection.execute(
        sa.insert(NUMBERS),
        [
            {
                "id": n,
                "msisdn": f"1991234000{n}",
                "is_sub_number": True,
                "tax_id": tax_id,
                "pin_failures": 0,
                "created_at": AT,
            }
            for n, tax_id in (
                (1, ONLY_ONE),  # held by no one: tenant 1's
                (2, TWO_HAVE),  # held by no one, two tenants have it: no one's
                (3, TWO_HAVE),  # held by tenant 2's person: tenant 2's
                (4, THIRD_ONLY),  # held by tenant 2's person: no one's
                (5, None),  # not bound
            )
        ],
    )
    connection.execute(
        sa.insert(HOLDERS),
        [
            {
                "id": n,
                "number_id": n,
                "person_id": 1,
                "default_at_bureau": False,
                "added_at": AT,
            }
            for n in (3, 4, 5)
        ],
    )


def test_bindings_made_before_are_for_the_one_tenant_they_can_be_for(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    command.upgrade(alembic_config(url), "0006")
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.begin() as connection:
        _before(connection)

    upgrade(url)

    with engine.connect() as connection:
        found = connection.execute(sa.text("SELECT id, tenant_id FROM numbers"))
        settled = {number: tenant for number, tenant in found}
    engine.dispose()
    assert settled == {1: 1, 2: None, 3: 2, 4: None, 5: None}
