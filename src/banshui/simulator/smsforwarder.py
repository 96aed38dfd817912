"""The SmsForwarder app's webhook, as the simulator's carrier speaks it.

Form fields `from`, `content`, `timestamp`, `sign`. `content` is the app's default
template: sender, SMS, SIM slot, receive time, device mark, one per line.
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

from banshui.simulator.clock import SHANGHAI
from banshui.simulator.state import Delivery, Sms

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def unix_millis(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


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


def form(sms: Sms, delivery: Delivery, received_at: datetime) -> dict[str, str]:
    """The form fields the app posts for one SMS the phone received at that time."""
    timestamp_ms = unix_millis(received_at)
    fields = {
        "from": sms.sender,
        "content": content(sms, delivery, received_at),
        "timestamp": str(timestamp_ms),
    }
    if delivery.secret:
        fields["sign"] = sign(timestamp_ms, delivery.secret)

    return fields
