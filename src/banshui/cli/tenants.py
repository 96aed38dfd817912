"""``banshui tenant list`` and ``tenant rotate-key``: the login side's tenants."""

from __future__ import annotations

from typing import Any, TypeVar

from banshui.accounts.tenants import ListedTenant, NewTenant, list_tenants, rotate_key
from banshui.cli.main import Json, run_with_runtime, tenant_app
from banshui.cli.output import emit_json, err, out, table
from banshui.core.clock import SHANGHAI
from banshui.runtime import Runtime

_T = TypeVar("_T")


@tenant_app.command("list")
def tenant_list(as_json: Json = False) -> None:
    """Every tenant with how many enterprises it has (never its API key)."""

    async def work(runtime: Runtime) -> list[ListedTenant]:
        return await list_tenants(runtime.db)

    tenants = run_with_runtime(work)
    if as_json:
        emit_json([_row(tenant) for tenant in tenants])
        return
    columns = ["id", "name", "created (Asia/Shanghai)", "enterprises"]
    table("tenants", columns, [_table_row(tenant) for tenant in tenants])


@tenant_app.command("rotate-key")
def tenant_rotate_key(name_or_id: str, as_json: Json = False) -> None:
    """Give a tenant a new API key, printed once; the old key stops working."""

    async def work(runtime: Runtime) -> NewTenant:
        return await rotate_key(runtime.db, runtime.clock, name_or_id)

    made = run_with_runtime(work)
    if as_json:
        emit_json(
            {"id": made.tenant.id, "name": made.tenant.name, "api_key": made.api_key}
        )
        return
    table("tenant", ["id", "name"], [[made.tenant.id, made.tenant.name]])
    out.print(f"API key (shown once): {made.api_key}", highlight=False, soft_wrap=True)
    err.print("the old API key is refused from now on", highlight=False)


def _row(tenant: ListedTenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "created_at": tenant.created_at.isoformat(),
        "enterprises": tenant.enterprises,
    }


def _table_row(tenant: ListedTenant) -> list[Any]:
    created = tenant.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    return [tenant.id, tenant.name, created, tenant.enterprises]
