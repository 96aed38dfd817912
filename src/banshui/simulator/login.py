"""The login steps of the site: password, send code, submit code, choose identity."""

import re
from datetime import date, timedelta

from banshui.simulator import errors, sessions, wording
from banshui.simulator.bureau import Bureau
from banshui.simulator.clock import bureau_day
from banshui.simulator.phones import is_mobile
from banshui.simulator.state import (
    Cause,
    Enterprise,
    Flow,
    IssuedCode,
    Person,
    Relation,
    Session,
    Sms,
)

_TAX_ID = re.compile(r"[0-9A-Z]{15,20}")


def start(
    bureau: Bureau, tax_id: str, account: str, password: str, cause: Cause
) -> Flow:
    """The password step: checks in the site's order, then a flow for the SMS step."""
    enterprise = _taxpayer(bureau, tax_id)

    account = account.strip()
    person = bureau.state.person_by_account(account)
    if person is None:
        raise errors.not_registered()

    # The password is the person's, whichever of their phones is the account (R2).
    if password != person.password:
        raise errors.wrong_password()

    sessions.confirmed_relation(bureau, person.person_id, enterprise.tax_id, None)
    return _new_flow(bureau, person, enterprise, _code_phone(person, account), cause)


def _taxpayer(bureau: Bureau, tax_id: str) -> Enterprise:
    tax_id = tax_id.strip().upper()
    enterprise = bureau.state.enterprises.get(tax_id)
    if _TAX_ID.fullmatch(tax_id) is None or enterprise is None:
        raise errors.unknown_taxpayer()

    return enterprise


def _code_phone(person: Person, account: str) -> str:
    """Where the code goes: the phone typed as the account, else the default (R6)."""
    if is_mobile(account):
        return account

    if person.default_phone is None:
        raise errors.no_default_phone()

    return person.default_phone


def _new_flow(
    bureau: Bureau, person: Person, enterprise: Enterprise, phone: str, cause: Cause
) -> Flow:
    flow = Flow(
        flow_id=bureau.state.new_token(),
        person_id=person.person_id,
        tax_id=enterprise.tax_id,
        region=enterprise.region,
        phone=phone,
        cause=cause,
    )
    bureau.state.flows[flow.flow_id] = flow
    return flow


def send_code(bureau: Bureau, flow_id: str) -> Sms:
    """Issue a fresh code on the flow (replacing its last) and write its SMS (R3)."""
    flow = _open_flow(bureau, flow_id)
    if flow.verified:
        raise errors.flow_past_step()

    now = bureau.clock.now()
    _within_daily_limit(bureau, flow, bureau_day(now))

    if flow.code is not None and not flow.code.used:
        flow.superseded.add(flow.code.value)

    valid_seconds = bureau.config.code_valid_seconds
    value = bureau.state.new_code(flow.phone)
    flow.code = IssuedCode(value, expires_at=now + timedelta(seconds=valid_seconds))
    bureau.state.codes_sent[(flow.phone, bureau_day(now))] += 1

    text = wording.login_code_text(flow.region, value, flow.tax_id, valid_seconds)
    return bureau.state.record_sms(flow.phone, wording.SENDER, text, now, flow.cause)


def _within_daily_limit(bureau: Bureau, flow: Flow, day: date) -> None:
    if bureau.state.codes_sent[(flow.phone, day)] < bureau.config.daily_code_limit:
        return

    # A person at the keyboard may hit the limit; banshui never should.
    if flow.cause == "banshui":
        bureau.state.violations.over_quota_requests += 1

    raise errors.daily_limit_reached()


def _open_flow(bureau: Bureau, flow_id: str) -> Flow:
    flow = bureau.state.flows.get(flow_id)
    if flow is None:
        raise errors.unknown_flow()

    if flow.locked:
        raise errors.code_locked()

    return flow


def submit_code(bureau: Bureau, flow_id: str, code: str) -> list[Relation]:
    """Check the code; on success list the person's identities in that region."""
    flow = _open_flow(bureau, flow_id)
    code = code.strip()

    if code in bureau.state.used_codes[flow.phone]:
        bureau.state.violations.code_reused += 1
        raise errors.code_expired()

    if flow.verified:
        raise errors.flow_past_step()

    _check_code(bureau, flow, code)
    return bureau.state.relations_in_region(flow.person_id, flow.region)


def _check_code(bureau: Bureau, flow: Flow, code: str) -> None:
    current = flow.code
    if current is not None and code == current.value:
        _use(bureau, flow, current)
        return

    if code in flow.superseded:
        raise errors.code_expired()

    flow.wrong_tries += 1
    tries_left = bureau.config.wrong_code_limit - flow.wrong_tries
    if tries_left <= 0:
        flow.locked = True
        raise errors.code_locked()

    raise errors.wrong_code(tries_left)


def _use(bureau: Bureau, flow: Flow, code: IssuedCode) -> None:
    if bureau.clock.now() >= code.expires_at:
        raise errors.code_expired()

    code.used = True
    bureau.state.used_codes[flow.phone].add(code.value)
    flow.verified = True


def choose_identity(
    bureau: Bureau, flow_id: str, tax_id: str, identity_code: str
) -> Session:
    """The last step: a session for that enterprise and identity."""
    flow = _open_flow(bureau, flow_id)
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
    flow.finished = True
    return sessions.open_session(bureau, relation, flow.region)


def log_in_by_hand(bureau: Bureau, phone: str, tax_id: str) -> Sms:
    """The person logs in at the site with that phone, reading the code off it."""
    person = bureau.state.owner_of(phone)
    flow = start(bureau, tax_id, phone, person.password, cause="manual")
    sms = send_code(bureau, flow.flow_id)

    assert flow.code is not None
    submit_code(bureau, flow.flow_id, flow.code.value)

    relation = sessions.confirmed_relation(bureau, person.person_id, flow.tax_id, None)
    choose_identity(bureau, flow.flow_id, flow.tax_id, relation.identity_code)
    return sms
