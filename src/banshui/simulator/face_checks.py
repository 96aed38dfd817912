"""Face checks (人脸识别认证): the person scans a QR code with their phone's app.

That is a human step a real site sends to a person; here the admin API says the
person did it, for adding a phone (R15) and for issuing (R14) alike.
"""

from banshui.simulator import errors, portal
from banshui.simulator.bureau import Bureau
from banshui.simulator.state import FaceCheck


def approve(bureau: Bureau, face_check_id: str) -> FaceCheck:
    """The person passed the check; a phone waiting on it is added at once."""
    check = face_check(bureau, face_check_id)
    check.approved = True

    if check.purpose == "add_phone":
        portal.complete(bureau, bureau.state.phone_requests[check.subject])

    return check


def face_check(bureau: Bureau, face_check_id: str) -> FaceCheck:
    check = bureau.state.face_checks.get(face_check_id)
    if check is None:
        raise errors.unknown("face check", face_check_id)

    return check
