"""The gateways' webhook formats, as the simulator's carrier speaks them.

One module per gateway builds the request its app posts for one SMS, signed its
own way with the simulator's own code.
"""

from collections.abc import Callable
from datetime import datetime

from banshui.simulator.gateways import android, generic, smsforwarder, twilio
from banshui.simulator.gateways.posting import Arrival, Posting, arrive
from banshui.simulator.state import GatewayKind

__all__ = ["Arrival", "Posting", "again", "arrive", "duplicate", "first"]

_POST: dict[GatewayKind, Callable[[Arrival, datetime], Posting]] = {
    "smsforwarder": smsforwarder.post,
    "android-gateway": android.post,
    "twilio": twilio.post,
    "generic": generic.post,
}

_RETRY_IS_IDENTICAL: dict[GatewayKind, bool] = {
    "smsforwarder": smsforwarder.RETRY_IS_IDENTICAL,
    "android-gateway": android.RETRY_IS_IDENTICAL,
    "twilio": twilio.RETRY_IS_IDENTICAL,
    "generic": generic.RETRY_IS_IDENTICAL,
}


def first(arrival: Arrival) -> Posting:
    """The first post of an SMS, made the moment it arrived."""
    return _POST[arrival.delivery.kind](arrival, arrival.received_at)


def again(arrival: Arrival, previous: Posting, stamp: datetime) -> Posting:
    """The retry of a post that failed, as that gateway makes it at `stamp`."""
    if _RETRY_IS_IDENTICAL[arrival.delivery.kind]:
        return previous

    return _POST[arrival.delivery.kind](arrival, stamp)


def duplicate(arrival: Arrival, stamp: datetime) -> Posting:
    """A second delivery of the same SMS, as that gateway would send one."""
    return _POST[arrival.delivery.kind](arrival, stamp)
