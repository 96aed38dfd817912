"""The driver protocol: the steps of a bureau login, whatever speaks them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Failure(StrEnum):
    """Why a bureau step failed, in the engine's terms."""

    BAD_TAX_ID = "bad_tax_id"  # 2018
    LOCKED = "locked"  # 2023
    NO_RELATION = "no_relation"  # 2034, no relation at all
    UNCONFIRMED_IDENTITY = "unconfirmed_identity"  # 2034, not yet confirmed (R7)
    BAD_CREDENTIALS = "bad_credentials"  # 2035
    NOT_REGISTERED = "not_registered"  # 2059
    SLIDER_FAILED = "slider_failed"  # 2050
    SLIDER_REQUIRED = "slider_required"  # the code waits for the slider
    PERSON_NOT_FOUND = "person_not_found"  # 2060, R11, often transient
    REAL_NAME_MISMATCH = "real_name_mismatch"  # 2070, R10
    FACE_CHECK_PENDING = "face_check_pending"  # 2080, R14
    QUOTA_REFUSED = "quota_refused"  # the 21st code of the day
    WRONG_CODE = "wrong_code"
    CODE_EXPIRED = "code_expired"
    SESSION_ENDED = "session_ended"
    UNKNOWN_FLOW = "unknown_flow"
    UNAVAILABLE = "unavailable"  # time-out, 5xx, an answer we cannot read
    # The site refused the envelope (2110-2115), or its answer did not open.
    ENVELOPE = "envelope"
    # The region's profile does not fit its site: a step it does not list, a
    # client id the site refuses (2102), a selector that finds nothing.
    PROFILE = "profile"


TRANSIENT = {Failure.PERSON_NOT_FOUND, Failure.UNAVAILABLE}


class BureauError(Exception):
    """The bureau said no; ``message`` is its own words (no secret in them)."""

    def __init__(self, failure: Failure, message: str, code: int | None = None) -> None:
        super().__init__(f"{failure.value}: {message}")
        self.failure = failure
        self.message = message
        self.code = code

    @property
    def transient(self) -> bool:
        return self.failure in TRANSIENT


class Step(StrEnum):
    """What a login in progress waits for next (R12)."""

    CODE = "code"  # the SMS step
    IDENTITY = "identity"  # the choice of identity: no SMS in this region
    SLIDER = "slider"  # a slider captcha a person must pass before the code


@dataclass(frozen=True, slots=True)
class Identity:
    """A relation the bureau lists after the code: enterprise and identity (身份)."""

    tax_id: str
    enterprise_name: str
    identity_code: str
    confirmed: bool


@dataclass(frozen=True, slots=True)
class Flow:
    """A login in progress at the bureau, between the password and the session."""

    region: str
    flow_id: str
    step: Step
    identities: tuple[Identity, ...] = ()
    # Where a person passes the slider, when the step is SLIDER.
    slider_id: str | None = None

    @property
    def needs_code(self) -> bool:
        return self.step is not Step.IDENTITY


@dataclass(frozen=True, slots=True)
class SessionHandle:
    """What an RPA needs to act in a live session."""

    base_url: str
    cookies: dict[str, str]
    tax_id: str
    identity_code: str
    enterprise_name: str = ""
    # The region the session was opened in: which profile (and driver) it is of.
    region: str = ""


@dataclass(frozen=True, slots=True)
class FaceCheck:
    """The issuer's face check (R14): a QR code a person scans in the tax app."""

    face_check_id: str
    qr_url: str
    region: str = ""


@dataclass(frozen=True, slots=True)
class Probe:
    alive: bool
    tax_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class BureauDriver(Protocol):
    async def start(
        self, region: str, tax_id: str, account: str, password: str
    ) -> Flow:
        """The password step: a flow that waits for a code, a slider or an identity.

        A slider the driver may pass itself (a simulated one) is passed here.
        """
        ...

    async def send_code(self, flow: Flow) -> None:
        """Ask the bureau to send the code by SMS to the account's number."""
        ...

    async def submit_code(self, flow: Flow, code: str) -> Flow:
        """The code step; the flow then lists the identities."""
        ...

    async def choose_identity(
        self, flow: Flow, tax_id: str, identity_code: str, business: str
    ) -> SessionHandle | FaceCheck:
        """The session, or first the issuer's face check when issuing (R14)."""
        ...

    async def face_check_passed(self, check: FaceCheck) -> bool: ...

    async def session_after_face_check(self, check: FaceCheck) -> SessionHandle:
        """The session the identity step held back; FACE_CHECK_PENDING before."""
        ...

    async def probe(self, session: SessionHandle) -> Probe:
        """A cheap check that the session is alive, and for which enterprise."""
        ...

    async def switch(self, session: SessionHandle, tax_id: str) -> SessionHandle:
        """企业切换 (R5): the same session for another enterprise, with no SMS."""
        ...

    async def close(self) -> None: ...
