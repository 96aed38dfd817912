"""The site's refusal codes (DESIGN §6) in the engine's terms, for every driver."""

from __future__ import annotations

from banshui.drivers.base import Failure

FAILURES = {
    2018: Failure.BAD_TAX_ID,
    2023: Failure.LOCKED,
    2034: Failure.NO_RELATION,
    2035: Failure.BAD_CREDENTIALS,
    2040: Failure.QUOTA_REFUSED,
    2041: Failure.WRONG_CODE,
    2042: Failure.CODE_EXPIRED,
    2050: Failure.SLIDER_FAILED,
    2059: Failure.NOT_REGISTERED,
    2060: Failure.PERSON_NOT_FOUND,
    2070: Failure.REAL_NAME_MISMATCH,
    2080: Failure.FACE_CHECK_PENDING,
    2100: Failure.SESSION_ENDED,
    2101: Failure.UNKNOWN_FLOW,
    2102: Failure.PROFILE,
    2110: Failure.ENVELOPE,
    2111: Failure.ENVELOPE,
    2112: Failure.ENVELOPE,
    2114: Failure.ENVELOPE,
    2115: Failure.ENVELOPE,
}

# One code, two meanings the site tells apart only in its words.
UNCONFIRMED = "尚未确认"  # 2034: the identity exists but is not confirmed (R7)
SLIDER = "滑块"  # 2101: the code waits until the slider is passed


def failure_of(code: object, message: str) -> Failure | None:
    """The failure a refusal means; None for a code nobody knows."""
    if code == 2034 and UNCONFIRMED in message:
        return Failure.UNCONFIRMED_IDENTITY
    if code == 2101 and SLIDER in message:
        return Failure.SLIDER_REQUIRED
    return FAILURES.get(code) if isinstance(code, int) else None
