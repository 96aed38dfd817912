"""DingTalk (钉钉) group robots."""

from banshui.forwarding.channels.dingtalk.channel import DingTalk

__all__ = ["DingTalk"]
