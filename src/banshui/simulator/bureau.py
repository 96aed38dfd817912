"""One simulated bureau: its settings, its clock, what it remembers, its carrier."""

import asyncio
import dataclasses

from banshui.simulator.carrier import Carrier
from banshui.simulator.clock import SimClock
from banshui.simulator.config import SimConfig
from banshui.simulator.envelope import KeyPair
from banshui.simulator.state import BureauState, Sms


class Bureau:
    """Everything of one simulator app; two apps never share one.

    `config` is what this run uses: the admin API may change some of it, and a
    reset brings back the app's own.
    """

    def __init__(self, config: SimConfig) -> None:
        self.base_config = config
        self.config = config
        self.clock = SimClock()
        self.state = BureauState(config.seed)
        self.carrier = Carrier(config)
        # Kept across resets, as a site keeps its key while its data is replaced.
        self.keys = KeyPair.generate()

    async def reset(self, seed: int) -> None:
        """Forget everything, deliveries still on their way included."""
        await self.carrier.cancel_pending()

        self.state = BureauState(seed)
        self.config = self.base_config
        self.clock.unpin()

    def configure(self, **changes: int) -> SimConfig:
        """Change settings for this run, checked as the app's own are."""
        self.config = dataclasses.replace(self.config, **changes)
        return self.config

    def send(self, sms: Sms) -> asyncio.Task[None] | None:
        """Hand an SMS to the carrier for the gateway configured for its phone.

        The carrier's faults are drawn here, in the order SMS are sent, so the same
        calls draw the same faults however the deliveries overlap.
        """
        delivery = self.state.deliveries.get(sms.phone)
        if delivery is None:
            return None

        now = self.clock.now()
        plan = self.state.faults.carrier_plan(sms.phone, sms.sms_id, now)
        return self.carrier.hand_over(sms, delivery, plan)
