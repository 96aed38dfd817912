"""The simulated e-tax bureau (模拟电子税务局): a stand-in for the real site.

It shares no code with the rest of banshui, so a protocol mistake cannot hide by
being made the same way on both ends.
"""

from banshui.simulator.app import create_app
from banshui.simulator.config import SimConfig

__all__ = ["SimConfig", "create_app"]
