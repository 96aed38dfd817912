"""One simulated bureau: its settings, its clock, what it remembers, its carrier."""

import asyncio

from banshui.simulator.carrier import Carrier
from banshui.simulator.clock import SimClock
from banshui.simulator.config import SimConfig
from banshui.simulator.state import BureauState, Sms


class Bureau:
    """Everything of one simulator app; two apps never share one."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.clock = SimClock()
        self.state = BureauState(config.seed)
        self.carrier = Carrier(config)

    async def reset(self, seed: int) -> None:
        """Forget everything, deliveries still on their way included."""
        await self.carrier.cancel_pending()

        self.state = BureauState(seed)
        self.clock.unpin()

    def send(self, sms: Sms) -> asyncio.Task[None] | None:
        """Hand an SMS to the carrier for the gateway configured for its phone."""
        delivery = self.state.deliveries.get(sms.phone)
        return self.carrier.hand_over(sms, delivery)
