"""R12: regions differ after the password step; each login goes its region's way."""

from __future__ import annotations

from banshui.demo.cast import A, C

from .conftest import Sandbox, outbox, served


async def test_a_session_region_and_an_sms_region_each_log_in_their_own_way(
    sandbox: Sandbox,
) -> None:
    # 深圳 opens the session right after the password; 湖北 keeps the SMS step.
    body = {"login": "session"}
    answer = await sandbox.stack.sim.put(f"/admin/regions/{A.region}", json=body)
    answer.raise_for_status()

    in_shenzhen = await served(sandbox, A)
    in_hubei = await served(sandbox, C)

    assert (in_shenzhen["status"], in_shenzhen["sms_used"]) == ("succeeded", 0)
    assert (in_hubei["status"], in_hubei["sms_used"]) == ("succeeded", 1)
    # One lane each, one number: the only SMS is 湖北's.
    (sent,) = await outbox(sandbox, in_hubei["number"])
    assert C.tax_id in sent["text"]
