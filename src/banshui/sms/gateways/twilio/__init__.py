"""Twilio Programmable Messaging: its webhook's signature and parameters."""

from banshui.sms.gateways.twilio.gateway import Twilio

__all__ = ["Twilio"]
