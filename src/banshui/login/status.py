"""The statuses of a login request (DESIGN §4) and which of them are final."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    WAITING_LANE = "waiting_lane"
    REQUESTING_CODE = "requesting_code"
    WAITING_CODE = "waiting_code"
    WAITING_PERSON = "waiting_person"
    SUBMITTING = "submitting"
    SUCCEEDED = "succeeded"
    RELEASED = "released"
    EXPIRED = "expired"
    FAILED = "failed"


FINAL = {Status.RELEASED, Status.EXPIRED, Status.FAILED}
# Not started yet: the caller may withdraw the request (its release), and no
# SMS has been asked for.
WITHDRAWABLE = {Status.QUEUED, Status.WAITING_LANE}
IN_FLIGHT = {
    Status.QUEUED,
    Status.WAITING_LANE,
    Status.REQUESTING_CODE,
    Status.WAITING_CODE,
    Status.WAITING_PERSON,
    Status.SUBMITTING,
}


class Withdrawn(Exception):
    """The caller withdrew the request while the engine served it: it stops."""
