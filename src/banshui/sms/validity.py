"""How long a bureau code works: what its text states, else five minutes."""

from __future__ import annotations

from datetime import datetime, timedelta

from banshui.sms.extraction import extract

DEFAULT_VALIDITY = timedelta(minutes=5)
# No code is looked for, nor told from a copy, further back than this.
LOOK_BACK = timedelta(days=1)


def code_valid_until(text: str, received_at: datetime) -> datetime:
    """When the code of an SMS received at ``received_at`` stops working."""
    minutes = extract(text).validity_minutes
    lifetime = timedelta(minutes=minutes) if minutes else DEFAULT_VALIDITY
    return received_at + lifetime
