"""The outbound channels banshui can forward through, by kind."""

from __future__ import annotations

from banshui.core.errors import InvalidInput
from banshui.forwarding.channels.android_gateway import AndroidGateway
from banshui.forwarding.channels.base import Channel
from banshui.forwarding.channels.dingtalk import DingTalk
from banshui.forwarding.channels.feishu import Feishu
from banshui.forwarding.channels.twilio import Twilio
from banshui.forwarding.channels.webhook import Webhook
from banshui.forwarding.channels.wecom import WeCom

CHANNELS: dict[str, Channel] = {
    channel.kind: channel
    for channel in (
        AndroidGateway(),
        Twilio(),
        Webhook(),
        WeCom(),
        DingTalk(),
        Feishu(),
    )
}
KINDS = tuple(CHANNELS)


def channel_for(kind: str) -> Channel:
    try:
        return CHANNELS[kind]
    except KeyError:
        raise InvalidInput(
            f"{kind!r} is not one of {', '.join(KINDS)}", field="kind"
        ) from None
