"""The generic format's body: one SMS, or one part of a long SMS."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from banshui.sms.gateways.bodies import StoredText

MAX_PARTS = 16


class Part(BaseModel):
    """Where this text sits in a long SMS (长短信)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    # Names the long SMS among the source's: unique per long SMS, not per part.
    ref: StoredText = Field(min_length=1, max_length=64)
    index: int = Field(ge=1, le=MAX_PARTS)
    total: int = Field(ge=1, le=MAX_PARTS)


class GenericSms(BaseModel):
    """One SMS as a generic sender reports it; unknown fields are refused."""

    model_config = ConfigDict(strict=True, extra="forbid")

    # The sender's own id of this delivery: a retry repeats it.
    id: StoredText = Field(min_length=1, max_length=128)
    number: str = Field(min_length=1, max_length=20)
    sender: StoredText = Field(min_length=1, max_length=100)
    text: StoredText = Field(min_length=1, max_length=2000)
    sent_at: AwareDatetime
    part: Part | None = None
