"""The fields of Twilio's incoming-message webhook that banshui reads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from banshui.sms.gateways.bodies import StoredText


class IncomingMessage(BaseModel):
    """One incoming message; Twilio adds fields without notice, so others pass."""

    model_config = ConfigDict(strict=True, extra="ignore")

    message_sid: str = Field(
        alias="MessageSid", min_length=2, max_length=64, pattern=r"^[A-Za-z0-9]+$"
    )
    sender: StoredText = Field(alias="From", min_length=1)
    to: str = Field(alias="To", max_length=40)
    # A picture message can come without text; it is kept, as empty text.
    body: StoredText = Field(alias="Body")
