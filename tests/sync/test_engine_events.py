"""What the engine publishes through ``runtime.events`` reaches only its tenant."""

from __future__ import annotations

from sqlalchemy import select

from banshui.demo.cast import S1
from banshui.sync.models import Delivery, Event
from registry import flows
from sync.conftest import Sync, eventually


async def test_an_engine_event_reaches_only_the_subscribers_of_its_tenant(
    sync: Sync,
) -> None:
    mine, theirs = await sync.tenant(), await sync.tenant()
    watching = await sync.subscribe(mine, ["session.dropped"])
    also = await sync.subscribe(mine, ["session.*"])
    elsewhere = await sync.subscribe(theirs, ["*"])
    data = {
        "tenant_id": mine.tenant_id,
        "region": "4403",
        "person": "张三",
        "number": S1,
        "reason": "the bureau ended the session",
    }

    async def both_told() -> bool:
        return _told(sync, watching["id"]) and _told(sync, also["id"])

    await sync.stack.runtime.events.publish("session.dropped", data)
    await eventually(both_told)

    (body,) = sync.receiver.of(watching["id"])
    assert (body["kind"], body["data"]) == ("session.dropped", data)
    assert sync.receiver.of(also["id"]) == [body]
    assert sync.receiver.of(elsewhere["id"]) == []
    assert await sync.deliveries(theirs, elsewhere["id"]) == []


async def test_an_event_is_stored_whether_or_not_anyone_listens(sync: Sync) -> None:
    caller = await sync.tenant()

    await sync.stack.runtime.events.publish(
        "quota.nearly_exhausted",
        {"tenant_id": caller.tenant_id, "number": S1, "used": 18, "limit": 20},
    )
    await sync.stack.runtime.events.publish("number.moved", {"number": S1})

    async with sync.stack.runtime.db.session() as session:
        stored = list(await session.scalars(select(Event).order_by(Event.at)))
    assert [(e.kind, e.tenant_id) for e in stored] == [
        ("quota.nearly_exhausted", caller.tenant_id),
        ("number.moved", None),
    ]
    assert await flows.count(sync.stack.runtime, Delivery) == 0


async def test_an_event_without_a_tenant_reaches_no_webhook(sync: Sync) -> None:
    caller = await sync.tenant()
    await sync.subscribe(caller, ["*"])

    await sync.stack.runtime.events.publish("person.needed", {"login": "x"})

    assert await flows.count(sync.stack.runtime, Event) == 1
    assert await flows.count(sync.stack.runtime, Delivery) == 0


def _told(sync: Sync, webhook_id: str) -> bool:
    return bool(sync.receiver.of(webhook_id))
