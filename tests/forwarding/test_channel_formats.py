"""A stored SMS reaches each channel's receiver in that channel's own format."""

from __future__ import annotations

from datetime import datetime

import pytest

from banshui.demo.cast import S1
from forwarding.conftest import SENDER, SMS, Forwarding, counted
from forwarding.receivers import BOUND_PHONE, ROBOTS, Kit, Receiver

FORWARDED = f"【办税小号 199****0001】来自 {SENDER}：{SMS}"


async def test_a_stored_sms_reaches_the_receiver_once_and_is_marked_sent(
    forwarding: Forwarding, receiver: Receiver, kit: Kit
) -> None:
    sent_before = counted("banshui_forwards_sent_total", "zhangsan-out")

    await forwarding.deliver()
    forward = await forwarding.until("sent")

    assert len(receiver.accepted) == 1
    assert forward.attempts == 1
    assert forward.sent_at == forwarding.clock.now()
    assert counted("banshui_forwards_sent_total", "zhangsan-out") == sent_before + 1


@pytest.mark.parametrize("kit", ["android-gateway", "twilio"], indirect=True)
async def test_sms_channels_send_the_tagged_text_to_the_bound_phone_only(
    forwarding: Forwarding, receiver: Receiver, kit: Kit
) -> None:
    await forwarding.deliver()
    forward = await forwarding.until("sent")

    (delivery,) = receiver.accepted
    assert delivery.to == f"+86{BOUND_PHONE}"
    assert delivery.text == FORWARDED
    assert forward.destination == "138****8000"


@pytest.mark.parametrize("kit", ["android-gateway"], indirect=True)
async def test_android_gateway_gets_the_text_message_shape(
    forwarding: Forwarding, receiver: Receiver, kit: Kit
) -> None:
    await forwarding.deliver()
    await forwarding.until("sent")

    (delivery,) = receiver.accepted
    assert delivery.body == {
        "textMessage": {"text": FORWARDED},
        "phoneNumbers": [f"+86{BOUND_PHONE}"],
    }


@pytest.mark.parametrize("kit", ["twilio"], indirect=True)
async def test_twilio_gets_to_from_and_body_as_a_form(
    forwarding: Forwarding, receiver: Receiver, kit: Kit
) -> None:
    await forwarding.deliver()
    await forwarding.until("sent")

    (delivery,) = receiver.accepted
    assert delivery.body == {
        "To": f"+86{BOUND_PHONE}",
        "From": "+15005550006",
        "Body": FORWARDED,
    }


@pytest.mark.parametrize("kit", ["webhook"], indirect=True)
async def test_the_signed_webhook_carries_the_sms_and_its_code(
    forwarding: Forwarding, receiver: Receiver, kit: Kit
) -> None:
    await forwarding.deliver()
    forward = await forwarding.until("sent")

    (delivery,) = receiver.accepted
    body = delivery.body
    assert set(body) == {"id", "number", "sender", "text", "received_at", "code"}
    assert body["id"] == forward.sms_id
    assert (body["number"], body["sender"], body["text"]) == (S1, SENDER, SMS)
    assert body["code"] == "418207"
    assert datetime.fromisoformat(body["received_at"]) == forwarding.clock.now()
    assert forward.destination is None


@pytest.mark.parametrize("kit", ROBOTS, indirect=True)
async def test_group_robots_get_a_text_message_naming_sub_number_and_sender(
    forwarding: Forwarding, receiver: Receiver, kit: Kit
) -> None:
    await forwarding.deliver()
    await forwarding.until("sent")

    (delivery,) = receiver.accepted
    assert delivery.text == FORWARDED
