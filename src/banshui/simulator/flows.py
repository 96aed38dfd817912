"""Login flows (登录流程) in progress: opening one, finding one, their time limit."""

from datetime import timedelta

from banshui.simulator import errors
from banshui.simulator.bureau import Bureau
from banshui.simulator.state import Cause, Enterprise, Flow, Person


def new_flow(
    bureau: Bureau,
    person: Person,
    enterprise: Enterprise,
    phone: str | None,
    cause: Cause,
) -> Flow:
    flow = Flow(
        flow_id=bureau.state.new_token(),
        person_id=person.person_id,
        tax_id=enterprise.tax_id,
        region=enterprise.region,
        phone=phone,
        cause=cause,
        started_at=bureau.clock.now(),
    )
    bureau.state.flows[flow.flow_id] = flow
    return flow


def open_flow(bureau: Bureau, flow_id: str) -> Flow:
    """The flow, unless unknown or older than its time limit (2101), or locked."""
    flow = bureau.state.flows.get(flow_id)
    if flow is None or _expired(bureau, flow):
        raise errors.unknown_flow()

    if flow.locked:
        raise errors.code_locked()

    return flow


def _expired(bureau: Bureau, flow: Flow) -> bool:
    limit = timedelta(seconds=bureau.config.flow_seconds)
    return bureau.clock.now() - flow.started_at >= limit
