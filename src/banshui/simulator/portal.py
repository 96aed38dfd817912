"""The natural-person portal's add-a-phone (R15).

自然人业务 → 账户中心 → 手机号码修改 → 添加手机号 → 其他手机号: the person signs in
with ID number and password at any region's portal (the data is national), names
the phone, types the code sent to that phone, and passes a face check in
国家网络身份认证. Then the phone is theirs, taken from whoever held it (R1), as
their default phone or not, as they chose. Shanghai's portal refuses it (R10).
"""

from typing import Literal

from banshui.simulator import codes, errors, wording
from banshui.simulator.bureau import Bureau
from banshui.simulator.state import FaceCheck, Person, PhoneRequest, Sms

SHANGHAI = "31"

Status = Literal["code_sent", "face_check", "added"]


def request_phone(
    bureau: Bureau,
    id_number: str,
    password: str,
    phone: str,
    default: bool,
    region: str,
) -> tuple[PhoneRequest, Sms]:
    """Ask to add the phone: a code SMS to that phone, counted for its day (R3)."""
    person = _signed_in(bureau, id_number, password)

    # Its carrier real-name check fails for a sub-number; any other region's
    # portal adds the same number to the same national record.
    if region == SHANGHAI:
        raise errors.real_name_mismatch()

    request = PhoneRequest(
        bureau.state.new_token(), person.person_id, phone, default, region
    )
    now = bureau.clock.now()
    code = codes.issue(bureau, request, phone, "portal", now)
    bureau.state.phone_requests[request.request_id] = request

    text = wording.phone_binding_text(code.value, bureau.config.code_valid_seconds)
    sms = bureau.state.record_sms(phone, wording.SENDER, text, now, "portal")
    return request, sms


def _signed_in(bureau: Bureau, id_number: str, password: str) -> Person:
    person_id = bureau.state.id_numbers.get(id_number.strip().upper())
    if person_id is None:
        raise errors.not_registered()

    person = bureau.state.persons[person_id]
    if password != person.password:
        raise errors.wrong_password()

    return person


def submit_code(bureau: Bureau, request_id: str, code: str) -> FaceCheck:
    """Check the code; on success the face check the person must pass next."""
    request = phone_request(bureau, request_id)
    if request.locked:
        raise errors.code_locked()

    code = code.strip()
    codes.refuse_reuse(bureau, request.phone, code)
    if request.face_check_id is not None:
        raise errors.phone_request_past_step()

    codes.accept(bureau, request, request.phone, code)
    check = bureau.state.open_face_check(
        "add_phone", request.person_id, request.request_id, bureau.clock.now()
    )
    request.face_check_id = check.face_check_id
    return check


def phone_request(bureau: Bureau, request_id: str) -> PhoneRequest:
    request = bureau.state.phone_requests.get(request_id)
    if request is None:
        raise errors.unknown_phone_request()

    return request


def status(request: PhoneRequest) -> Status:
    if request.added:
        return "added"

    return "code_sent" if request.face_check_id is None else "face_check"


def complete(bureau: Bureau, request: PhoneRequest) -> None:
    """The face check passed: the phone is the person's now (R1 moves it)."""
    if request.added:
        return

    state = bureau.state
    request.moved_from = state.add_phone(
        request.person_id, request.phone, request.default
    )
    request.added = True
