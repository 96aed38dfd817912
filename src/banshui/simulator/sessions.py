"""Sessions: one live login per person and region (R4), switching enterprise (R5)."""

from datetime import datetime, timedelta

from banshui.simulator import errors
from banshui.simulator.bureau import Bureau
from banshui.simulator.state import EndReason, Relation, Session


def is_live(bureau: Bureau, session: Session, now: datetime) -> bool:
    idle = timedelta(seconds=bureau.config.session_idle_seconds)
    return session.ended is None and now - session.last_seen < idle


def open_session(bureau: Bureau, relation: Relation, region: str) -> Session:
    """Log a person in for an enterprise, ending their other session there (R4)."""
    now = bureau.clock.now()
    for other in live_sessions_of(bureau, relation.person_id, region):
        end(bureau, other, "replaced")

    session = Session(
        token=bureau.state.new_token(),
        person_id=relation.person_id,
        region=region,
        tax_id=relation.tax_id,
        identity_code=relation.identity_code,
        last_seen=now,
    )
    bureau.state.sessions[session.token] = session
    return session


def live_sessions_of(bureau: Bureau, person_id: str, region: str) -> list[Session]:
    now = bureau.clock.now()
    return [
        session
        for session in bureau.state.sessions.values()
        if session.person_id == person_id
        and session.region == region
        and is_live(bureau, session, now)
    ]


def end(bureau: Bureau, session: Session, reason: EndReason) -> None:
    # Only a login ending a session in use breaks a lease; a drop is a fault the
    # bureau was told to cause, not something banshui did.
    if reason == "replaced" and session.held:
        bureau.state.violations.lease_broken += 1

    session.ended = reason


def touch(bureau: Bureau, token: str | None) -> Session:
    """The live session a token names, its idle timer restarted; else 2100.

    Every check is a chance for the session_drop fault to find it dropped.
    """
    session = bureau.state.sessions.get(token) if token else None
    if session is None:
        raise errors.session_ended()

    now = bureau.clock.now()
    if not is_live(bureau, session, now):
        session.ended = session.ended or "idle"
        raise errors.session_ended()

    faults = bureau.state.faults
    if faults.session_drop(now, session.person_id, session.region):
        end(bureau, session, "dropped")
        raise errors.session_ended()

    session.last_seen = now
    return session


def switchable(bureau: Bureau, session: Session) -> list[Relation]:
    """The confirmed relations of the person with enterprises of that region."""
    relations = bureau.state.relations_in_region(session.person_id, session.region)
    return [relation for relation in relations if relation.confirmed]


def switch(
    bureau: Bureau, session: Session, tax_id: str, identity_code: str | None
) -> None:
    """Act for another enterprise of the same person and region, with no SMS (R5)."""
    enterprise = bureau.state.enterprises.get(tax_id.strip().upper())
    if enterprise is None or enterprise.region != session.region:
        raise errors.no_relation()

    relation = confirmed_relation(
        bureau, session.person_id, enterprise.tax_id, identity_code
    )
    session.tax_id = relation.tax_id
    session.identity_code = relation.identity_code


def confirmed_relation(
    bureau: Bureau, person_id: str, tax_id: str, identity_code: str | None
) -> Relation:
    """The person's confirmed identity in that enterprise (the named one, if any)."""
    relations = bureau.state.relations_with(person_id, tax_id)
    if identity_code is not None:
        relations = [r for r in relations if r.identity_code == identity_code]

    if not relations:
        raise errors.no_relation()

    confirmed = [relation for relation in relations if relation.confirmed]
    if not confirmed:
        raise errors.unconfirmed_relation()

    return confirmed[0]


def drop(bureau: Bureau, person_id: str, region: str) -> int:
    sessions = live_sessions_of(bureau, person_id, region)
    for session in sessions:
        end(bureau, session, "dropped")

    return len(sessions)


def hold(bureau: Bureau, token: str, held: bool) -> Session:
    session = bureau.state.sessions.get(token)
    if session is None:
        raise errors.unknown("session", token)

    session.held = held
    return session
