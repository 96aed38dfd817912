"""SMS Gateway for Android (capcom6/android-sms-gateway): its send API."""

from banshui.forwarding.channels.android_gateway.channel import AndroidGateway

__all__ = ["AndroidGateway"]
