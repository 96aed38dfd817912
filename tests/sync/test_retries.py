"""A failing receiver: retried with back-off, delivered once, or given up visibly."""

from __future__ import annotations

from datetime import datetime

from starlette.responses import JSONResponse, Response

from banshui.demo.cast import Member
from banshui.sync.worker import DELAYS
from registry import flows
from registry.cast import WANG_WU, ZHAO_LIU, E, fresh_number
from sync.conftest import Caller, Sync, eventually

# Each wait is stretched by at most a fifth, for jitter.
STRETCH = 1.2


def busy() -> Response:
    return Response("busy", status_code=503)


async def _an_enterprise_event(sync: Sync) -> tuple[Caller, str]:
    """A tenant whose webhook is about to be told of a new account."""
    caller = await sync.tenant()
    webhook = await sync.subscribe(caller, ["account.created"])
    await flows.enterprise(caller.http, E)
    return caller, webhook["id"]


async def _new_account(caller: Caller, member: Member = WANG_WU) -> None:
    person = await flows.person(caller.http, member)
    number = fresh_number()
    await flows.give(caller.http, person["id"], number)
    await flows.account(caller.http, E.tax_id, number)


async def test_a_receiver_failing_twice_gets_the_event_once_after_back_off(
    sync: Sync,
) -> None:
    caller, webhook = await _an_enterprise_event(sync)
    sync.receiver.fail_next(busy(), busy())
    start = sync.clock.now()

    await _new_account(caller)
    (first,) = await sync.until(caller, webhook, "due", attempts=1)
    waited = (datetime.fromisoformat(first["due_at"]) - start).total_seconds()
    assert DELAYS[0] <= waited <= DELAYS[0] * STRETCH
    assert (first["last_status"], first["last_error"]) == (
        503,
        "the receiver answered HTTP 503",
    )

    await sync.advance(DELAYS[0] * STRETCH)
    (second,) = await sync.until(caller, webhook, "due", attempts=2)
    due = datetime.fromisoformat(second["due_at"])
    waited = (due - sync.clock.now()).total_seconds()
    assert DELAYS[1] <= waited <= DELAYS[1] * STRETCH

    await sync.advance(DELAYS[1] * STRETCH)
    (done,) = await sync.until(caller, webhook, "delivered", attempts=3)

    assert sync.receiver.requests == 3
    assert len(sync.receiver.of(webhook)) == 1
    assert done["last_error"] is None
    await sync.advance(max(DELAYS))
    assert sync.receiver.requests == 3


async def test_nothing_is_sent_again_before_its_due_time(sync: Sync) -> None:
    caller, webhook = await _an_enterprise_event(sync)
    sync.receiver.fail_next(busy())
    await _new_account(caller)
    await sync.until(caller, webhook, "due", attempts=1)

    await sync.advance(DELAYS[0] - 1)
    # A second account wakes the worker, which leaves the first event be.
    await _new_account(caller, ZHAO_LIU)
    await eventually(lambda: _accepted(sync, webhook, 1))

    # The receiver's answer is recorded a moment after it was accepted.
    async def settled() -> bool:
        found = await sync.deliveries(caller, webhook)
        return "sending" not in {delivery["status"] for delivery in found}

    await eventually(settled)
    statuses = sorted(d["status"] for d in await sync.deliveries(caller, webhook))
    assert statuses == ["delivered", "due"]
    assert sync.receiver.requests == 2


async def test_a_receiver_refusing_for_good_fails_at_once_and_can_be_retried(
    sync: Sync,
) -> None:
    caller, webhook = await _an_enterprise_event(sync)
    sync.receiver.fail_next(JSONResponse({"message": "no such tenant"}, 404))

    await _new_account(caller)
    (failed,) = await sync.until(caller, webhook, "failed", attempts=1)
    assert failed["last_error"] == "the receiver answered HTTP 404: no such tenant"

    retried = await caller.http.post(
        f"/api/v1/webhooks/{webhook}/deliveries/{failed['id']}/retry"
    )
    assert retried.status_code == 200, retried.text
    (done,) = await sync.until(caller, webhook, "delivered", attempts=1)

    assert done["id"] == failed["id"]
    assert len(sync.receiver.of(webhook)) == 1


async def test_a_receiver_that_never_answers_well_is_given_up_on_with_the_error(
    sync: Sync,
) -> None:
    caller, webhook = await _an_enterprise_event(sync)
    attempts = len(DELAYS) + 1
    sync.receiver.fail_next(*(busy() for _ in range(attempts)))

    await _new_account(caller)
    for made in range(1, attempts):
        await sync.until(caller, webhook, "due", attempts=made)
        await sync.advance(DELAYS[made - 1] * STRETCH)
    (failed,) = await sync.until(caller, webhook, "failed", attempts=attempts)

    assert failed["last_status"] == 503
    assert sync.receiver.requests == attempts
    assert sync.receiver.of(webhook) == []
    refused = await caller.http.get(
        f"/api/v1/webhooks/{webhook}/deliveries", params={"status": "failed"}
    )
    assert [d["id"] for d in refused.json()["deliveries"]] == [failed["id"]]


async def _accepted(sync: Sync, webhook: str, count: int) -> bool:
    return len(sync.receiver.of(webhook)) >= count
