"""Feishu (飞书) group robots."""

from banshui.forwarding.channels.feishu.channel import Feishu

__all__ = ["Feishu"]
