"""Webhooks through the API: the secret shown once and sealed, bad input refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from api.shape import assert_error
from banshui.audit.models import AuditEntry
from banshui.sync.models import Delivery, Subscription
from registry import flows
from registry.cast import WANG_WU, E, fresh_number
from sync.conftest import Sync, eventually

GIVEN_SECRET = "erp-chosen-webhook-secret-7d1c"


async def test_the_secret_is_shown_once_and_sealed_at_rest(sync: Sync) -> None:
    caller = await sync.tenant()

    made = await sync.subscribe(caller, ["account.*"])
    listed = (await caller.http.get("/api/v1/webhooks")).json()
    shown = (await caller.http.get(f"/api/v1/webhooks/{made['id']}")).json()

    assert len(made["secret"]) >= 32
    assert listed == {"webhooks": [shown]}
    assert "secret" not in shown
    assert made["secret"] not in repr(listed)
    async with sync.stack.runtime.db.session() as session:
        stored = await session.get(Subscription, made["id"])
        audited = list(await session.scalars(select(AuditEntry.detail)))
    assert stored is not None
    assert made["secret"] not in stored.secret_sealed
    assert not any(made["secret"] in (detail or "") for detail in audited)


async def test_a_secret_the_erp_chose_signs_its_deliveries(sync: Sync) -> None:
    caller = await sync.tenant()
    made = await sync.subscribe(caller, ["account.created"], secret=GIVEN_SECRET)
    assert made["secret"] == GIVEN_SECRET

    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    await flows.account(caller.http, E.tax_id, number)

    await eventually(lambda: _told(sync, made["id"]))
    assert sync.receiver.refused == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://erp.example/hook", "events": ["*"]}, "url"),
        ({"url": "http://erp.example/a b", "events": ["*"]}, "url"),
        ({"url": "http://erp.example/hook", "events": []}, "events"),
        ({"url": "http://erp.example/hook", "events": ["invoices"]}, "events.0"),
        (
            {"url": "http://erp.example/hook", "events": ["*"], "secret": "short"},
            "secret",
        ),
        ({"url": "http://erp.example/hook", "events": "*"}, "events"),
        ({"url": "http://erp.example/hook", "events": ["*"], "key": "k"}, "key"),
    ],
    ids=[
        "scheme",
        "space",
        "no-events",
        "unknown-kind",
        "short-secret",
        "not-a-list",
        "extra",
    ],
)
async def test_a_bad_webhook_is_a_422_on_its_field_and_writes_nothing(
    sync: Sync, body: dict[str, Any], field: str
) -> None:
    caller = await sync.tenant()

    answer = await caller.http.post("/api/v1/webhooks", json=body)

    assert_error(answer, 422, "invalid", field)
    assert await flows.count(sync.stack.runtime, Subscription) == 0


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("DELETE", ""),
        ("GET", "/deliveries"),
        ("POST", "/deliveries/1/retry"),
    ],
    ids=["read", "remove", "deliveries", "retry"],
)
async def test_another_tenant_gets_a_404_for_every_use_of_a_webhook(
    sync: Sync, method: str, suffix: str
) -> None:
    mine, theirs = await sync.tenant(), await sync.tenant()
    made = await sync.subscribe(mine, ["*"])

    answer = await theirs.http.request(method, f"/api/v1/webhooks/{made['id']}{suffix}")

    assert_error(answer, 404, "not_found")
    assert (await mine.http.get(f"/api/v1/webhooks/{made['id']}")).status_code == 200
    assert (await theirs.http.get("/api/v1/webhooks")).json() == {"webhooks": []}


async def test_a_removed_webhook_is_sent_nothing_more(sync: Sync) -> None:
    caller = await sync.tenant()
    made = await sync.subscribe(caller, ["*"])

    removed = await caller.http.delete(f"/api/v1/webhooks/{made['id']}")
    await flows.enterprise(caller.http, E)
    wang = await flows.person(caller.http, WANG_WU)
    number = fresh_number()
    await flows.give(caller.http, wang["id"], number)
    await flows.account(caller.http, E.tax_id, number)

    assert removed.status_code == 204
    assert (await caller.http.get(f"/api/v1/webhooks/{made['id']}")).status_code == 404
    assert await flows.count(sync.stack.runtime, Delivery) == 0
    assert sync.receiver.requests == 0


async def _told(sync: Sync, webhook_id: str) -> bool:
    return bool(sync.receiver.of(webhook_id))
