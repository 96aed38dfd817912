"""SMS Gateway for Android (capcom6/android-sms-gateway): signature and parsing."""

from banshui.sms.gateways.android_gateway.gateway import AndroidGateway

__all__ = ["AndroidGateway"]
