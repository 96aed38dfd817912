"""Twilio Programmable Messaging: the Messages API."""

from banshui.forwarding.channels.twilio.channel import Twilio

__all__ = ["Twilio"]
