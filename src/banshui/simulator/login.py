"""The login steps of the site: password, send code, submit code, choose identity.

After the password each region goes on its own way (R12): the SMS step, a slider
and then the SMS step, or straight to the choice of identities. Issuing for an
enterprise may need the issuer's face check before the session (R14).
"""

import re
from typing import Literal

from banshui.simulator import codes, errors, sessions, slider, wording
from banshui.simulator.bureau import Bureau
from banshui.simulator.flows import new_flow, open_flow
from banshui.simulator.phones import is_mobile
from banshui.simulator.regions import client_id, region_name
from banshui.simulator.state import (
    Cause,
    Enterprise,
    FaceCheck,
    Flow,
    Person,
    Relation,
    Session,
    Sms,
)

Business = Literal["issue", "receive"]

_TAX_ID = re.compile(r"[0-9A-Z]{15,20}")


def start(
    bureau: Bureau, tax_id: str, account: str, password: str, cause: Cause
) -> Flow:
    """The password step: checks in the site's order, then a flow for the next step."""
    enterprise = _taxpayer(bureau, tax_id)

    account = account.strip()
    person = bureau.state.person_by_account(account)
    if person is None:
        raise errors.not_registered()

    if _lookup_lags(bureau, person, cause):
        raise errors.person_not_found()

    # The password is the person's, whichever of their phones is the account (R2).
    if password != person.password:
        raise errors.wrong_password()

    sessions.confirmed_relation(bureau, person.person_id, enterprise.tax_id, None)
    return _next_step(bureau, person, enterprise, account, cause)


def check_client(bureau: Bureau, tax_id: str, client: str) -> None:
    """The client id must be the one of the region the enterprise belongs to."""
    enterprise = bureau.state.enterprises.get(tax_id.strip().upper())
    # An unknown taxpayer is left to the password step, which says so (2018).
    if enterprise is not None and client != client_id(enterprise.region):
        raise errors.wrong_client(region_name(enterprise.region))


def _lookup_lags(bureau: Bureau, person: Person, cause: Cause) -> bool:
    """Whether the person_not_found fault hits this password step (R11)."""
    # Only calls through the API meet it: a person at the keyboard simply types it
    # all again, so the admin's hand logins never see it.
    if cause != "banshui":
        return False

    return bureau.state.faults.person_not_found(bureau.clock.now(), person.person_id)


def _taxpayer(bureau: Bureau, tax_id: str) -> Enterprise:
    tax_id = tax_id.strip().upper()
    enterprise = bureau.state.enterprises.get(tax_id)
    if _TAX_ID.fullmatch(tax_id) is None or enterprise is None:
        raise errors.unknown_taxpayer()

    return enterprise


def _next_step(
    bureau: Bureau, person: Person, enterprise: Enterprise, account: str, cause: Cause
) -> Flow:
    mode = bureau.state.login_mode(enterprise.region)
    if mode == "session":
        # No code goes anywhere, so no phone is needed, not even a default one.
        flow = new_flow(bureau, person, enterprise, None, cause)
        flow.verified = True
        return flow

    flow = new_flow(bureau, person, enterprise, _code_phone(person, account), cause)
    if mode == "slider_sms":
        slider.new_challenge(bureau, flow)

    return flow


def _code_phone(person: Person, account: str) -> str:
    """Where the code goes: the phone typed as the account, else the default (R6)."""
    if is_mobile(account):
        return account

    if person.default_phone is None:
        raise errors.no_default_phone()

    return person.default_phone


def send_code(bureau: Bureau, flow_id: str) -> Sms:
    """Issue a fresh code on the flow (replacing its last) and write its SMS (R3)."""
    flow = open_flow(bureau, flow_id)
    if flow.verified:
        raise errors.flow_past_step()

    if flow.slider is not None and not flow.slider_passed:
        raise errors.slider_first()

    # Only a flow of a region without the SMS step lacks a phone, and it is
    # verified from the start.
    assert flow.phone is not None
    now = bureau.clock.now()
    code = codes.issue(bureau, flow, flow.phone, flow.cause, now)

    valid_seconds = bureau.config.code_valid_seconds
    text = wording.login_code_text(flow.region, code.value, flow.tax_id, valid_seconds)
    return bureau.state.record_sms(flow.phone, wording.SENDER, text, now, flow.cause)


def submit_code(bureau: Bureau, flow_id: str, code: str) -> list[Relation]:
    """Check the code; on success list the person's identities in that region."""
    flow = open_flow(bureau, flow_id)
    code = code.strip()

    if flow.phone is not None:
        codes.refuse_reuse(bureau, flow.phone, code)

    if flow.verified:
        raise errors.flow_past_step()

    assert flow.phone is not None
    codes.accept(bureau, flow, flow.phone, code)
    flow.verified = True
    return identities(bureau, flow)


def identities(bureau: Bureau, flow: Flow) -> list[Relation]:
    return bureau.state.relations_in_region(flow.person_id, flow.region)


def choose_identity(
    bureau: Bureau,
    flow_id: str,
    tax_id: str,
    identity_code: str,
    business: Business | None = None,
) -> Session | FaceCheck:
    """The last step: a session, or first the issuer's face check (R14)."""
    flow = open_flow(bureau, flow_id)
    if flow.finished:
        raise errors.flow_finished()

    if not flow.verified:
        raise errors.code_not_verified()

    enterprise = bureau.state.enterprises.get(tax_id.strip().upper())
    if enterprise is None or enterprise.region != flow.region:
        raise errors.no_relation()

    relation = sessions.confirmed_relation(
        bureau, flow.person_id, enterprise.tax_id, identity_code
    )
    if business == "issue" and relation.face_check_on_issue:
        return _face_check_for(bureau, flow, relation)

    flow.finished = True
    return sessions.open_session(bureau, relation, flow.region)


def _face_check_for(bureau: Bureau, flow: Flow, relation: Relation) -> FaceCheck:
    now = bureau.clock.now()
    check = bureau.state.open_face_check("issue", flow.person_id, flow.flow_id, now)
    check.tax_id = relation.tax_id
    check.identity_code = relation.identity_code
    return check


def issuing_face_check(bureau: Bureau, face_check_id: str) -> FaceCheck:
    check = bureau.state.face_checks.get(face_check_id)
    if check is None or check.purpose != "issue":
        raise errors.unknown_face_check()

    return check


def session_after_face_check(bureau: Bureau, face_check_id: str) -> Session:
    """The session the identity step held back, once the issuer passed the check."""
    check = issuing_face_check(bureau, face_check_id)
    flow = open_flow(bureau, check.subject)
    if flow.finished:
        raise errors.flow_finished()

    if not check.approved:
        raise errors.face_check_pending()

    assert check.tax_id is not None
    relation = sessions.confirmed_relation(
        bureau, flow.person_id, check.tax_id, check.identity_code
    )
    flow.finished = True
    return sessions.open_session(bureau, relation, flow.region)


def log_in_by_hand(bureau: Bureau, phone: str, tax_id: str) -> Sms | None:
    """The person logs in at the site with that phone; the SMS it cost, if any.

    They drag the slider and read the code off the phone themselves.
    """
    person = bureau.state.owner_of(phone)
    flow = start(bureau, tax_id, phone, person.password, cause="manual")
    flow.slider_passed = True

    sms: Sms | None = None
    if not flow.verified:
        sms = send_code(bureau, flow.flow_id)
        assert flow.code is not None
        submit_code(bureau, flow.flow_id, flow.code.value)

    relation = sessions.confirmed_relation(bureau, person.person_id, flow.tax_id, None)
    choose_identity(bureau, flow.flow_id, flow.tax_id, relation.identity_code)
    return sms
