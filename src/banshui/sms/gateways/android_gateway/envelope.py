"""The app's webhook body: an envelope for every event, a payload per event."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from banshui.sms.gateways.bodies import StoredText

RECEIVED = "sms:received"


class Envelope(BaseModel):
    """What every event carries; ``payload`` is read once the event is known."""

    # App versions add fields; what banshui does not read is no reason to refuse.
    model_config = ConfigDict(strict=True, extra="ignore")

    device_id: str = Field(alias="deviceId", min_length=1, max_length=200)
    event: str = Field(max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict)


class ReceivedPayload(BaseModel):
    """The payload of ``sms:received``."""

    model_config = ConfigDict(strict=True, extra="ignore")

    # A hash of the content and the SMSC time: the same SMS keeps it across retries.
    message_id: str = Field(alias="messageId", min_length=1, max_length=200)
    message: StoredText = Field(min_length=1)
    sender: StoredText | None = None
    # What app versions before ``sender`` called the sender.
    phone_number: StoredText | None = Field(default=None, alias="phoneNumber")
    recipient: str | None = Field(default=None, max_length=40)
    sim_number: int | None = Field(default=None, alias="simNumber", ge=0, le=99)
    received_at: StoredText | None = Field(
        default=None, alias="receivedAt", max_length=40
    )
