"""A failing receiver: retried with back-off, or given up on with the error shown."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.responses import JSONResponse, Response

from banshui.core.clock import ManualClock
from banshui.demo.cast import S1, S2
from banshui.forwarding.setup import add_route
from forwarding.conftest import (
    CHANNEL,
    Forwarding,
    counted,
    eventually,
    forwarding_stack,
    seed,
)
from forwarding.receivers import (
    DINGTALK,
    FEISHU,
    ROBOTS,
    SECRETS,
    Kit,
    Receiver,
    receiving,
)

FAILED = "banshui_forwards_failed_total"
# The first waits (5 s, 30 s), each stretched by at most a fifth for jitter.
FIRST_WAIT, SECOND_WAIT = 5, 30


def busy() -> Response:
    return Response("busy", status_code=503)


async def test_a_receiver_failing_twice_gets_the_sms_once_after_back_off(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    receiver.fail_next(busy(), busy())
    start = forwarding.clock.now()

    await forwarding.deliver()
    first = await forwarding.until("due", attempts=1)
    waited = (first.due_at - start).total_seconds()
    assert FIRST_WAIT <= waited <= FIRST_WAIT * 1.2
    assert first.last_error == "the receiver answered HTTP 503"

    await forwarding.advance(FIRST_WAIT * 1.2)
    second = await forwarding.until("due", attempts=2)
    waited = (second.due_at - forwarding.clock.now()).total_seconds()
    assert SECOND_WAIT <= waited <= SECOND_WAIT * 1.2

    await forwarding.advance(SECOND_WAIT * 1.2)
    sent = await forwarding.until("sent", attempts=3)

    assert receiver.requests == 3
    assert len(receiver.accepted) == 1
    assert sent.last_error is None


@pytest.mark.parametrize("kit", ["twilio"], indirect=True)
async def test_nothing_is_sent_again_before_its_due_time(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    runtime = forwarding.stack.runtime
    await add_route(runtime.db, forwarding.clock, number=S2, channel_name=CHANNEL)
    receiver.fail_next(busy())
    await forwarding.deliver()
    await forwarding.until("due", attempts=1)

    await forwarding.advance(FIRST_WAIT - 1)
    # S2's SMS wakes the worker, which sends it and leaves S1's until its time.
    await forwarding.deliver(source="zhangsan-s2")
    await eventually(lambda: _sent_count(forwarding, 1))

    waiting = await forwarding.forwards("due")
    assert [(f.number, f.attempts) for f in waiting] == [(S1, 1)]
    assert receiver.requests == 2


async def test_a_permanent_refusal_fails_at_once_with_the_error_visible(
    forwarding: Forwarding,
    receiver: Receiver,
    kit: Kit,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.fail_next(kit.refusal())
    failed_before = counted(FAILED, CHANNEL)

    # INFO everywhere: httpx logs each request's URL, and robot URLs hold keys.
    with caplog.at_level(logging.INFO):
        await forwarding.deliver()
        failed = await forwarding.until("failed", attempts=1)

    assert failed.last_error is not None
    assert failed.last_error.startswith("the receiver answered HTTP 4")
    assert counted(FAILED, CHANNEL) == failed_before + 1
    assert receiver.requests == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("gave up after 1 attempts" in r.getMessage() for r in warnings)
    assert "19912340001" not in caplog.text  # the sub-number is masked
    for secret in SECRETS:
        assert secret not in caplog.text


@pytest.mark.parametrize("kit", ["android-gateway"], indirect=True)
async def test_408_and_429_are_worth_a_retry_and_other_4xx_are_not(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    receiver.fail_next(Response(status_code=429), Response(status_code=408))

    await forwarding.deliver()
    await forwarding.until("due", attempts=1)
    await forwarding.advance(FIRST_WAIT * 1.2)
    await forwarding.until("due", attempts=2)
    await forwarding.advance(SECOND_WAIT * 1.2)

    await forwarding.until("sent", attempts=3)


@pytest.mark.parametrize("kit", ["webhook"], indirect=True)
async def test_it_gives_up_after_six_attempts_and_counts_the_failure(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    receiver.fail_next(*(busy() for _ in range(10)))
    failed_before = counted(FAILED, CHANNEL)

    await forwarding.deliver()
    for attempt, wait in enumerate((5, 30, 120, 600, 3600), start=1):
        await forwarding.until("due", attempts=attempt)
        await forwarding.advance(wait * 1.2)

    failed = await forwarding.until("failed", attempts=6)
    assert failed.last_error == "the receiver answered HTTP 503"
    assert counted(FAILED, CHANNEL) == failed_before + 1
    assert receiver.requests == 6


@pytest.mark.parametrize("kit", ROBOTS, indirect=True)
async def test_a_robot_answering_a_non_zero_code_is_a_failure(
    forwarding: Forwarding, receiver: Receiver, kit: Kit
) -> None:
    key = "code" if kit.kind == "feishu" else "errcode"
    receiver.fail_next(JSONResponse({key: 40035, "errmsg": "x", "msg": "x"}))

    await forwarding.deliver()
    failed = await forwarding.until("failed", attempts=1)

    assert failed.last_error == f"the robot answered {key} 40035: x"
    assert receiver.accepted == []


@pytest.mark.parametrize(
    ("kit", "limited"),
    [
        ("wecom", {"errcode": 45009, "errmsg": "api freq out of limit"}),
        ("dingtalk", {"errcode": 130101, "errmsg": "send too fast"}),
        ("feishu", {"code": 11232, "msg": "frequency limited"}),
    ],
    indirect=["kit"],
)
async def test_a_robot_rate_limit_is_retried(
    forwarding: Forwarding, receiver: Receiver, limited: dict[str, object]
) -> None:
    receiver.fail_next(JSONResponse(limited))

    await forwarding.deliver()
    await forwarding.until("due", attempts=1)
    await forwarding.advance(FIRST_WAIT * 1.2)

    await forwarding.until("sent", attempts=2)
    assert len(receiver.accepted) == 1


@pytest.mark.parametrize("signed", [DINGTALK, FEISHU], ids=["dingtalk", "feishu"])
async def test_a_robot_refuses_a_wrong_signature_and_the_forward_fails(
    tmp_path: Path, clock: ManualClock, database_url: str, signed: Kit
) -> None:
    wrong = replace(signed, secret="SECnot-the-robot-secret")
    async with (
        receiving(signed, clock.now) as receiver,
        forwarding_stack(tmp_path, clock, database_url) as forwarding,
    ):
        await seed(forwarding.stack, clock, wrong, receiver)
        await forwarding.deliver()
        failed = await forwarding.until("failed", attempts=1)

    assert failed.last_error is not None
    assert "sign" in failed.last_error
    assert "SECnot-the-robot-secret" not in failed.last_error
    assert receiver.accepted == []


@pytest.mark.parametrize("kit", ["twilio"], indirect=True)
async def test_an_unreachable_receiver_is_retried(
    tmp_path: Path, clock: ManualClock, database_url: str, kit: Kit
) -> None:
    async with receiving(kit, clock.now) as gone:
        url = gone.url  # served, then closed: nothing listens on its port now
    async with (
        receiving(kit, clock.now) as receiver,
        forwarding_stack(tmp_path, clock, database_url) as forwarding,
    ):
        receiver.url = url
        await seed(forwarding.stack, clock, kit, receiver)
        await forwarding.deliver()
        due = await forwarding.until("due", attempts=1)

    assert due.last_error == "cannot reach the receiver (ConnectError)"


async def _sent_count(forwarding: Forwarding, count: int) -> bool:
    return len(await forwarding.forwards("sent")) == count
