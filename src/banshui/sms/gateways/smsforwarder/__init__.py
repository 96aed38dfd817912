"""SmsForwarder (短信转发器): signature check, template handling and parsing."""

from banshui.sms.gateways.smsforwarder.gateway import SmsForwarder

__all__ = ["SmsForwarder"]
