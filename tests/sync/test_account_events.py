"""Account changes reach a tenant's webhook as ``account.*`` events, signed."""

from __future__ import annotations

from datetime import datetime

from banshui.accounts.service import Registry, Service
from banshui.sync.models import Delivery, Event
from registry import flows
from registry.cast import WANG_WU, ZHAO_LIU, E, F, fresh_number
from sync.conftest import Caller, Sync, eventually


async def _wangs_account(caller: Caller, tax_id: str = E.tax_id) -> dict[str, object]:
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    return await flows.account(caller.http, tax_id, number, is_default=True)


async def test_account_created_reaches_the_subscriber_signed_with_the_entry(
    sync: Sync,
) -> None:
    caller = await sync.tenant()
    webhook = await sync.subscribe(caller, ["account.*"])
    await flows.enterprise(caller.http, E)

    made = await _wangs_account(caller)
    await eventually(lambda: _received(sync, webhook["id"], 1))

    (body,) = sync.receiver.of(webhook["id"])
    assert set(body) == {"id", "kind", "at", "data"}
    assert body["kind"] == "account.created"
    assert datetime.fromisoformat(body["at"]) == sync.clock.now()
    assert body["data"] == {
        "tenant_id": caller.tenant_id,
        "tax_id": E.tax_id,
        "account": made,
    }
    assert sync.receiver.refused == []
    (delivery,) = await sync.until(caller, webhook["id"], "delivered", attempts=1)
    assert (delivery["event_id"], delivery["last_status"]) == (body["id"], 204)


async def test_a_new_default_is_one_changed_event_for_each_account_it_touched(
    sync: Sync,
) -> None:
    caller = await sync.tenant()
    await flows.enterprise(caller.http, E)
    first = await _wangs_account(caller)
    zhao = await flows.person(caller.http, ZHAO_LIU)
    number = fresh_number()
    await flows.give(caller.http, zhao["id"], number)
    second = await flows.account(caller.http, E.tax_id, number)
    webhook = await sync.subscribe(caller, ["account.changed"])

    await caller.http.patch(
        f"/api/v1/enterprises/{E.tax_id}/accounts/{second['id']}",
        json={"is_default": True},
    )
    await eventually(lambda: _received(sync, webhook["id"], 2))

    changed = {
        body["data"]["account"]["id"]: body["data"]
        for body in sync.receiver.of(webhook["id"])
    }
    assert {key: data["changed"] for key, data in changed.items()} == {
        first["id"]: ["is_default"],
        second["id"]: ["is_default"],
    }
    assert changed[first["id"]]["account"]["is_default"] is False
    assert changed[second["id"]]["account"]["is_default"] is True


async def test_stopping_service_is_removed_here_and_changed_where_it_still_serves(
    sync: Sync,
) -> None:
    caller = await sync.tenant()
    await flows.enterprise(caller.http, E)
    await flows.enterprise(caller.http, F)
    made = await _wangs_account(caller, E.tax_id)
    number = str(made["number"])
    await flows.account(caller.http, F.tax_id, number, business="issue")
    webhook = await sync.subscribe(caller, ["*"])

    await caller.http.delete(f"/api/v1/enterprises/{E.tax_id}/accounts/{made['id']}")
    await eventually(lambda: _received(sync, webhook["id"], 2))

    kinds = {
        (body["kind"], body["data"]["tax_id"])
        for body in sync.receiver.of(webhook["id"])
    }
    # F's entry loses its R9 warning: the account no longer also receives.
    assert kinds == {("account.removed", E.tax_id), ("account.changed", F.tax_id)}


async def test_a_refused_change_publishes_nothing(sync: Sync) -> None:
    caller = await sync.tenant()
    await sync.subscribe(caller, ["*"])
    await flows.enterprise(caller.http, E)
    events_before = await flows.count(sync.stack.runtime, Event)

    refused = await caller.http.post(
        f"/api/v1/enterprises/{E.tax_id}/accounts",
        json={
            "login_type": "sub_number",
            "account": fresh_number(),
            "identity_code": "03",
            "default_business": "receive",
        },
    )

    assert refused.status_code == 422
    assert await flows.count(sync.stack.runtime, Event) == events_before
    assert await flows.count(sync.stack.runtime, Delivery) == 0


async def test_a_webhook_gets_only_the_kinds_it_subscribed_to(sync: Sync) -> None:
    caller = await sync.tenant()
    removals = await sync.subscribe(caller, ["account.removed"])
    everything = await sync.subscribe(caller, ["account.created", "account.removed"])
    await flows.enterprise(caller.http, E)

    made = await _wangs_account(caller)
    await caller.http.delete(f"/api/v1/enterprises/{E.tax_id}/accounts/{made['id']}")
    await eventually(lambda: _received(sync, everything["id"], 2))
    await eventually(lambda: _received(sync, removals["id"], 1))

    assert [b["kind"] for b in sync.receiver.of(removals["id"])] == ["account.removed"]


async def _received(sync: Sync, webhook_id: str, count: int) -> bool:
    return len(sync.receiver.of(webhook_id)) >= count


async def test_accounts_made_or_moved_outside_the_api_are_published_too(
    sync: Sync,
) -> None:
    caller = await sync.tenant()
    webhook = await sync.subscribe(caller, ["account.*"])
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    zhao = await flows.person(caller.http, ZHAO_LIU)
    number = fresh_number()
    runtime = sync.stack.runtime
    # The way the console, the CLI and the demo change the registry.
    registry = Registry(runtime.db, runtime.vault, runtime.clock)
    await registry.give_number(wang["id"], number, actor="operator:王五")

    made = await registry.add_account(
        caller.tenant_id, wang["id"], number, [Service(E.tax_id, "03", "receive")]
    )
    await registry.give_number(zhao["id"], number, actor="operator:王五")
    await eventually(lambda: _received(sync, webhook["id"], 2))

    created, changed = sync.receiver.of(webhook["id"])
    assert (created["kind"], created["data"]["account"]["id"]) == (
        "account.created",
        made.id,
    )
    assert changed["kind"] == "account.changed"
    assert changed["data"]["changed"] == ["warnings"]
    assert [w["code"] for w in changed["data"]["account"]["warnings"]] == [
        "number_moved"
    ]
