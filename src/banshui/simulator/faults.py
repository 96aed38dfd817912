"""Faults the bureau and its carrier cause when told to, each behind its own switch.

Every draw comes from a stream of its own, derived from the bureau's seed: the same
seed and the same calls fire the same faults, and switching one fault on leaves the
draws of the others, and the codes, as they were. A switch that is off draws
nothing. Every fault that fires is recorded, in the order it fired.
"""

import random
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

Span = tuple[int, int]
"""An inclusive range of milliseconds, drawn from uniformly."""

Outage = Literal["before", "after"]
"""A 503 answered before the step took effect, or after it did."""


@dataclass(frozen=True)
class Switches:
    """What is switched on: probabilities in [0, 1] and spans in milliseconds."""

    sms_duplicate: float = 0.0
    sms_lose: float = 0.0
    sms_delay_ms: Span | None = None
    sms_reorder: float = 0.0
    sms_reorder_hold_ms: int = 1000
    slow_ms: Span | None = None
    error_5xx: float = 0.0
    person_not_found: float = 0.0
    session_drop: float = 0.0


@dataclass(frozen=True)
class Fired:
    """One fault that fired; `took_effect` says, for a 503, whether the step had."""

    fault: str
    at: datetime
    detail: str
    phone: str | None = None
    flow_id: str | None = None
    sms_id: int | None = None
    took_effect: bool | None = None


@dataclass(frozen=True)
class CarrierPlan:
    """What the carrier does to one SMS besides delivering it.

    `hold_ms` holds the SMS back until the next SMS to the same phone has been
    delivered, or that long at most, so it arrives after one sent later.
    """

    lose: bool = False
    copies: int = 1
    extra_delay_ms: int = 0
    hold_ms: int | None = None


@dataclass
class Faults:
    """The switches, their seeded streams, and the record of what fired."""

    seed: int
    switches: Switches = field(default_factory=Switches)
    fired: list[Fired] = field(default_factory=list)
    _streams: dict[str, random.Random] = field(default_factory=dict)

    def carrier_plan(self, phone: str, sms_id: int, now: datetime) -> CarrierPlan:
        """Roll the carrier's faults for one SMS about to be handed over."""
        switches = self.switches
        if self._chance("sms_lose", switches.sms_lose):
            detail = f"SMS {sms_id} lost by the carrier: it never reaches the gateway"
            self._carrier_fired("sms_lose", now, detail, phone, sms_id)
            return CarrierPlan(lose=True)

        copies = 1
        if self._chance("sms_duplicate", switches.sms_duplicate):
            copies = 2
            detail = f"SMS {sms_id} delivered twice"
            self._carrier_fired("sms_duplicate", now, detail, phone, sms_id)

        delay = self._delay(phone, sms_id, now)
        hold: int | None = None
        if self._chance("sms_reorder", switches.sms_reorder):
            hold = switches.sms_reorder_hold_ms
            detail = (
                f"SMS {sms_id} held back until the next SMS to this phone is "
                f"delivered (at most {hold} ms)"
            )
            self._carrier_fired("sms_reorder", now, detail, phone, sms_id)

        return CarrierPlan(copies=copies, extra_delay_ms=delay, hold_ms=hold)

    def slowness_ms(self, step: str, now: datetime, flow_id: str | None) -> int:
        """How much longer this login step answers; 0 when slow_ms is off."""
        span = self.switches.slow_ms
        if span is None or span[1] <= 0:
            return 0

        delay = self._within("slow_ms", span)
        if delay == 0:
            return 0

        detail = f"{step} answered {delay} ms late"
        self.fired.append(Fired("slow_ms", now, detail, flow_id=flow_id))
        return delay

    def name_flow_of(self, fired: Fired, flow_id: str) -> None:
        """A fault fired before its step made a flow: it is that flow's."""
        # From the end: it fired a step ago, and the record only grows.
        for index in range(len(self.fired) - 1, -1, -1):
            seen = self.fired[index]
            if seen is fired:
                self.fired[index] = replace(seen, flow_id=flow_id)
                return

    def outage(self) -> Outage | None:
        """Whether this login step answers 503, and on which side of its effect."""
        if not self._chance("error_5xx", self.switches.error_5xx):
            return None

        return "after" if self._stream("error_5xx").random() < 0.5 else "before"

    def record_outage(
        self,
        step: str,
        outage: Outage,
        now: datetime,
        flow_id: str | None,
        phone: str | None,
        sms_id: int | None = None,
    ) -> None:
        took_effect = outage == "after"
        side = "after it took effect" if took_effect else "before it took effect"
        detail = f"{step} answered 503 {side}"
        if sms_id is not None:
            detail += f": SMS {sms_id} was sent"
        fired = Fired("error_5xx", now, detail, phone, flow_id, sms_id, took_effect)
        self.fired.append(fired)

    def person_not_found(self, now: datetime, person_id: str) -> bool:
        """Whether this password step meets the transient 2060 (R11)."""
        if not self._chance("person_not_found", self.switches.person_not_found):
            return False

        detail = f"the password step of {person_id} answered 2060 (R11)"
        self.fired.append(Fired("person_not_found", now, detail))
        return True

    def session_drop(self, now: datetime, person_id: str, region: str) -> bool:
        """Whether this session check finds the session dropped."""
        if not self._chance("session_drop", self.switches.session_drop):
            return False

        detail = f"the session of {person_id} in region {region} was found dropped"
        self.fired.append(Fired("session_drop", now, detail))
        return True

    def _delay(self, phone: str, sms_id: int, now: datetime) -> int:
        span = self.switches.sms_delay_ms
        if span is None or span[1] <= 0:
            return 0

        delay = self._within("sms_delay_ms", span)
        if delay == 0:
            return 0

        detail = f"SMS {sms_id} delayed by {delay} ms"
        self._carrier_fired("sms_delay_ms", now, detail, phone, sms_id)
        return delay

    def _carrier_fired(
        self, fault: str, now: datetime, detail: str, phone: str, sms_id: int
    ) -> None:
        self.fired.append(Fired(fault, now, detail, phone=phone, sms_id=sms_id))

    def _chance(self, name: str, probability: float) -> bool:
        if probability <= 0:
            return False

        return self._stream(name).random() < probability

    def _within(self, name: str, span: Span) -> int:
        low, high = span
        return self._stream(name).randint(low, high)

    def _stream(self, name: str) -> random.Random:
        # A string seed is hashed with SHA-512, so the stream is the same in every
        # process, whatever PYTHONHASHSEED says.
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = random.Random(f"{self.seed}/{name}")

        return stream
