"""The SmsForwarder app's webhook, as the simulator's carrier speaks it.

Form fields `from`, `content`, `timestamp`, `sign`. `content` is the app's default
template: sender, SMS, SIM slot, receive time, device mark, one per line. The app
re-sends the very same request when a post fails; its second broadcast of one SMS
(a duplicate) is a new request with a new timestamp and sign.
"""

import base64
import hashlib
import hmac
from datetime import datetime
from urllib.parse import quote_plus

from banshui.simulator.clock import SHANGHAI
from banshui.simulator.gateways.posting import (
    Arrival,
    Posting,
    form_posting,
    unix_millis,
)
from banshui.simulator.state import Delivery, Sms

RETRY_IS_IDENTICAL = True


def sign(timestamp_ms: int, secret: str) -> str:
    """urlencode(base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}"))), as the app."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def content(sms: Sms, delivery: Delivery, received_at: datetime) -> str:
    # The phone prints its own local time, without an offset.
    local_time = received_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    card_slot = f"SIM{delivery.slot}_{delivery.carrier_name}_{sms.phone}"
    return "\n".join(
        [sms.sender, sms.text, card_slot, local_time, delivery.device_mark]
    )


def form(
    sms: Sms, delivery: Delivery, received_at: datetime, stamp: datetime | None = None
) -> dict[str, str]:
    """The form fields the app posts, at `stamp`, for an SMS received at that time."""
    timestamp_ms = unix_millis(stamp or received_at)
    fields = {
        "from": sms.sender,
        "content": content(sms, delivery, received_at),
        "timestamp": str(timestamp_ms),
    }
    if delivery.secret:
        fields["sign"] = sign(timestamp_ms, delivery.secret)

    return fields


def post(arrival: Arrival, stamp: datetime) -> Posting:
    fields = form(arrival.sms, arrival.delivery, arrival.received_at, stamp)
    return form_posting(fields, {})
