"""banshui's generic signed webhook, for anything else that listens."""

from banshui.forwarding.channels.webhook.channel import Webhook

__all__ = ["Webhook"]
