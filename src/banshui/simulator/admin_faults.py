"""The admin API's fault switches (DESIGN §6) and the record of the faults that fired.

`PUT /admin/faults` replaces every switch at once (a switch left out is off);
`/admin/reset` switches all off and forgets what fired.
"""

from typing import Annotated, Self

from fastapi import APIRouter, Depends
from pydantic import Field, model_validator

from banshui.simulator.admin_auth import admin_allowed
from banshui.simulator.answers import BureauDep, Reply
from banshui.simulator.faults import Fired, Span, Switches
from banshui.simulator.inputs import Strict

router = APIRouter(prefix="/admin/faults", dependencies=[Depends(admin_allowed)])

Probability = Annotated[float, Field(ge=0, le=1)]
Millis = Annotated[int, Field(ge=0, le=60_000)]


class FaultSwitches(Strict):
    sms_duplicate: Probability = 0.0
    sms_lose: Probability = 0.0
    sms_delay_ms: tuple[Millis, Millis] | None = None
    sms_reorder: Probability = 0.0
    sms_reorder_hold_ms: Millis = 1000
    slow_ms: tuple[Millis, Millis] | None = None
    error_5xx: Probability = 0.0
    person_not_found: Probability = 0.0
    session_drop: Probability = 0.0

    @model_validator(mode="after")
    def _spans_in_order(self) -> Self:
        for name in ("sms_delay_ms", "slow_ms"):
            span: Span | None = getattr(self, name)
            if span is not None and span[0] > span[1]:
                raise ValueError(f"{name} must be [min, max] with min <= max")

        return self


@router.put("")
async def set_faults(body: FaultSwitches, bureau: BureauDep) -> Reply:
    bureau.state.faults.switches = Switches(**body.model_dump())
    return _switches(bureau.state.faults.switches)


@router.get("")
async def faults(bureau: BureauDep) -> Reply:
    return _switches(bureau.state.faults.switches)


@router.get("/fired")
async def fired(bureau: BureauDep) -> list[Reply]:
    """Every fault that fired since the last reset, in the order it fired."""
    return [_fired(item) for item in bureau.state.faults.fired]


def _switches(switches: Switches) -> Reply:
    return {
        "sms_duplicate": switches.sms_duplicate,
        "sms_lose": switches.sms_lose,
        "sms_delay_ms": _span(switches.sms_delay_ms),
        "sms_reorder": switches.sms_reorder,
        "sms_reorder_hold_ms": switches.sms_reorder_hold_ms,
        "slow_ms": _span(switches.slow_ms),
        "error_5xx": switches.error_5xx,
        "person_not_found": switches.person_not_found,
        "session_drop": switches.session_drop,
    }


def _span(span: Span | None) -> list[int] | None:
    return list(span) if span is not None else None


def _fired(item: Fired) -> Reply:
    answer: Reply = {
        "fault": item.fault,
        "at": item.at.isoformat(),
        "detail": item.detail,
    }
    extra = {
        "phone": item.phone,
        "flow_id": item.flow_id,
        "sms_id": item.sms_id,
        "took_effect": item.took_effect,
    }
    answer.update({key: value for key, value in extra.items() if value is not None})
    return answer
