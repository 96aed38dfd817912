"""A gateway writes SMS only for its own numbers, whatever its request claims."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from banshui.demo.cast import S1, S3
from banshui.sms.gateways.base import MalformedSms, ReceivedSms, Verified
from banshui.sms.models import InboundSms
from banshui.sms.sources import add_source
from conftest import Stack

CODE_SMS = "【中国税务】您的登录验证码：418207，请确认是本人操作。"


async def _count(stack: Stack) -> int:
    async with stack.runtime.db.session() as session:
        return int(
            await session.scalar(select(func.count()).select_from(InboundSms)) or 0
        )


async def test_a_source_cannot_store_an_sms_for_a_number_it_was_not_given(
    stack: Stack,
) -> None:
    runtime = stack.runtime
    source = await add_source(
        runtime.db, runtime.vault, runtime.clock,
        kind="generic", name="zhang-phone", secret="a long enough secret", number=S1,
    )  # fmt: skip
    foreign = ReceivedSms(sender="12366", text=CODE_SMS, identity="x1", number=S3)

    with pytest.raises(MalformedSms) as refused:
        await runtime.inbox.store(source, Verified(None, "h"), [foreign])

    assert refused.value.field == "number"
    assert await _count(stack) == 0


async def test_a_refused_number_is_named_by_the_field_its_gateway_sent_it_in(
    stack: Stack,
) -> None:
    runtime = stack.runtime
    source = await add_source(
        runtime.db, runtime.vault, runtime.clock,
        kind="android-gateway", name="zhang-android", secret="a long enough secret",
        number=S1,
    )  # fmt: skip
    foreign = ReceivedSms(
        sender="12366",
        text=CODE_SMS,
        identity="x3",
        number=S3,
        number_field="payload.recipient",
    )

    with pytest.raises(MalformedSms) as refused:
        await runtime.inbox.store(source, Verified(None, "h"), [foreign])

    assert refused.value.field == "payload.recipient"
    assert await _count(stack) == 0


async def test_a_source_stores_an_sms_for_its_own_number(stack: Stack) -> None:
    runtime = stack.runtime
    source = await add_source(
        runtime.db, runtime.vault, runtime.clock,
        kind="generic", name="zhang-phone", secret="a long enough secret", number=S1,
    )  # fmt: skip
    own = ReceivedSms(sender="12366", text=CODE_SMS, identity="x2", number=S1)

    [stored] = await runtime.inbox.store(source, Verified(None, "h"), [own])

    assert (stored.number, stored.duplicate) == (S1, False)
    assert await _count(stack) == 1
