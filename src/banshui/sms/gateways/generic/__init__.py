"""banshui's own signed JSON format, for providers and anything else."""

from banshui.sms.gateways.generic.gateway import Generic

__all__ = ["Generic"]
