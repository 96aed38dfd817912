"""What the QR code of a face check opens: the check, and how a rehearsal passes it.

On a real site the person scans the code with their app; here the admin API's
approve stands for that scan.
"""

from fastapi import APIRouter, Request

from banshui.simulator import errors
from banshui.simulator.answers import BureauDep, Reply, ok
from banshui.simulator.inputs import PathToken

router = APIRouter(prefix="/face-checks")


def qr_url(request: Request, face_check_id: str) -> str:
    """The address the QR code holds, under the simulator's own root when mounted."""
    # request.base_url is the outermost app's root, which misses a mount's prefix.
    root = str(request.scope.get("root_path", "")).rstrip("/")
    url = request.url
    return f"{url.scheme}://{url.netloc}{root}/face-checks/{face_check_id}"


@router.get("/{face_check_id}")
async def face_check_page(face_check_id: PathToken, bureau: BureauDep) -> Reply:
    check = bureau.state.face_checks.get(face_check_id)
    if check is None:
        raise errors.unknown_face_check()

    return ok(
        {
            "face_check_id": check.face_check_id,
            "purpose": check.purpose,
            "status": "approved" if check.approved else "pending",
            "approve": f"POST /admin/face-checks/{check.face_check_id}/approve",
        }
    )
