"""Which SMS are queued, to where, and what a channel or route refuses to be."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from starlette.responses import Response

from banshui.core.errors import Conflict, InvalidInput
from banshui.demo.cast import S1, S2, S3
from banshui.forwarding.models import ForwardChannel
from banshui.forwarding.setup import add_channel, add_route, list_routes
from banshui.numbers.models import Number
from forwarding.conftest import CHANNEL, Forwarding
from forwarding.receivers import BOUND_PHONE, KITS, SECRETS, WECOM_KEY, Receiver

pytestmark = pytest.mark.parametrize("kit", ["twilio"], indirect=True)


async def test_an_sms_for_a_number_without_a_route_is_stored_but_not_queued(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    await forwarding.deliver(source="zhangsan-s2")

    assert len(await forwarding.stack.runtime.inbox.latest(S2)) == 1
    assert await forwarding.forwards() == []
    assert receiver.requests == 0


async def test_a_gateway_retry_of_the_same_sms_is_forwarded_once(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    stamp = await forwarding.deliver()
    await forwarding.deliver(stamp=stamp)

    await forwarding.until("sent")
    assert len(receiver.accepted) == 1


async def test_every_route_of_a_number_gets_its_own_forward(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    runtime = forwarding.stack.runtime
    wecom = KITS["wecom"]
    await add_channel(
        runtime.db,
        runtime.vault,
        forwarding.clock,
        kind="wecom",
        name="ops-group",
        config=wecom.config(receiver.url),
    )
    await add_route(runtime.db, forwarding.clock, number=S1, channel_name="ops-group")

    await forwarding.deliver()

    found = await forwarding.forwards()
    assert sorted(f.channel for f in found) == sorted([CHANNEL, "ops-group"])


async def test_an_sms_channel_does_not_queue_for_a_number_with_no_bound_phone(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    await _unbind(forwarding, S1)

    await forwarding.deliver()

    assert await forwarding.forwards() == []


async def test_a_number_unbound_while_waiting_fails_rather_than_send_elsewhere(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    receiver.fail_next(Response(status_code=503))
    await forwarding.deliver()
    await forwarding.until("due", attempts=1)

    await _unbind(forwarding, S1)
    await forwarding.advance(6)

    failed = await forwarding.until("failed", attempts=2)
    assert failed.last_error == "the number has no bound real phone"
    assert receiver.accepted == []


async def test_an_sms_route_goes_only_to_the_bound_phone(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    runtime = forwarding.stack.runtime

    with pytest.raises(InvalidInput) as other_phone:
        await add_route(
            runtime.db,
            forwarding.clock,
            number=S2,
            channel_name=CHANNEL,
            to="13900139000",
        )
    assert other_phone.value.field == "to"

    with pytest.raises(InvalidInput) as unbound:
        await add_route(runtime.db, forwarding.clock, number=S3, channel_name=CHANNEL)
    assert unbound.value.field == "number"

    made = await add_route(
        runtime.db, forwarding.clock, number=S2, channel_name=CHANNEL, to=BOUND_PHONE
    )
    assert made.destination == "138****8000"


async def test_a_route_refuses_duplicates_unknown_channels_and_robot_phones(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    db, clock = forwarding.stack.runtime.db, forwarding.clock
    await add_channel(
        db,
        forwarding.stack.runtime.vault,
        clock,
        kind="wecom",
        name="ops-group",
        config=KITS["wecom"].config(receiver.url),
    )

    with pytest.raises(Conflict):
        await add_route(db, clock, number=S1, channel_name=CHANNEL)
    with pytest.raises(InvalidInput) as unknown:
        await add_route(db, clock, number=S1, channel_name="nobody")
    assert unknown.value.field == "channel"
    with pytest.raises(InvalidInput) as robot_phone:
        await add_route(db, clock, number=S1, channel_name="ops-group", to=BOUND_PHONE)
    assert robot_phone.value.field == "to"
    with pytest.raises(InvalidInput) as bad_number:
        await add_route(db, clock, number="12345", channel_name=CHANNEL)
    assert bad_number.value.field == "number"


@pytest.mark.parametrize(
    ("kind", "config", "secret", "field"),
    [
        ("fax", {}, None, "kind"),
        (
            "twilio",
            {"account_sid": "AC1", "from": "+15005550006"},
            "t",
            "config.account_sid",
        ),
        ("twilio", {"account_sid": "AC" + "0" * 32}, "token", "config.from"),
        ("android-gateway", {"base_url": "http://p:8080", "user": "u"}, None, "secret"),
        (
            "android-gateway",
            {"base_url": "ftp://p", "user": "u"},
            "pw",
            "config.base_url",
        ),
        ("webhook", {"url": "https://erp.example/hook"}, "short", "secret"),
        ("wecom", {"url": "https://qyapi.example/send?key=k"}, "s", "secret"),
        (
            "dingtalk",
            {"url": "https://oapi.example/robot", "colour": "red"},
            None,
            "config.colour",
        ),
        ("feishu", {}, None, "config.url"),
    ],
)
async def test_a_channel_with_a_bad_setting_is_refused_naming_it(
    forwarding: Forwarding,
    receiver: Receiver,
    kind: str,
    config: dict[str, str],
    secret: str | None,
    field: str,
) -> None:
    runtime = forwarding.stack.runtime

    with pytest.raises(InvalidInput) as refused:
        await add_channel(
            runtime.db,
            runtime.vault,
            forwarding.clock,
            kind=kind,
            name="refused",
            config=config,
            secret=secret,
        )

    assert refused.value.field == field
    async with runtime.db.session() as session:
        names = list(await session.scalars(select(ForwardChannel.name)))
    assert names == [CHANNEL]


async def test_secrets_and_robot_urls_are_sealed_at_rest(
    forwarding: Forwarding, receiver: Receiver
) -> None:
    runtime = forwarding.stack.runtime
    await add_channel(
        runtime.db,
        runtime.vault,
        forwarding.clock,
        kind="wecom",
        name="ops-group",
        config=KITS["wecom"].config(receiver.url),
    )

    async with runtime.db.session() as session:
        rows = list(await session.scalars(select(ForwardChannel)))
    stored = repr([(row.config, row.secret_sealed) for row in rows])

    for secret in SECRETS:
        assert secret not in stored
    assert WECOM_KEY not in repr([r.destination for r in await list_routes(runtime.db)])
    with pytest.raises(Conflict):
        await add_channel(
            runtime.db,
            runtime.vault,
            forwarding.clock,
            kind="wecom",
            name="ops-group",
            config=KITS["wecom"].config(receiver.url),
        )


async def _unbind(forwarding: Forwarding, number: str) -> None:
    async with forwarding.stack.runtime.db.transaction() as session:
        await session.execute(
            update(Number).where(Number.msisdn == number).values(bound_phone=None)
        )
