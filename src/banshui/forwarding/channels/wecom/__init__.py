"""WeCom (企业微信) group robots."""

from banshui.forwarding.channels.wecom.channel import WeCom

__all__ = ["WeCom"]
