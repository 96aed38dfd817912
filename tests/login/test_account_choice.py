"""R9: which account serves a request, by business and by the caller's choice."""

from __future__ import annotations

import pytest

from banshui.client import ApiError
from banshui.demo.cast import S1, S3, A, D

from .conftest import Sandbox, account_on, outbox, served


async def test_receiving_uses_only_an_account_whose_default_business_is_receive(
    sandbox: Sandbox,
) -> None:
    login = await served(sandbox, D, "receive")

    assert login["status"] == "failed"
    assert "收票管理" in login["reason"] and D.tax_id in login["reason"]
    assert (login["sms_used"], await outbox(sandbox, S3)) == (0, [])


async def test_issuing_for_d_uses_li_sis_issue_account(sandbox: Sandbox) -> None:
    login = await served(sandbox, D, "issue")

    assert login["status"] == "succeeded"
    assert login["account_id"] == await account_on(sandbox, S3)
    assert (login["number"], login["sms_used"]) == (S3, 1)


async def test_issuing_without_a_chosen_account_needs_an_issue_account(
    sandbox: Sandbox,
) -> None:
    login = await served(sandbox, A, "issue")

    assert login["status"] == "failed"
    assert "开票管理" in login["reason"]


async def test_issuing_with_a_chosen_account_uses_that_account(
    sandbox: Sandbox,
) -> None:
    zhang_san = await account_on(sandbox, S1)

    login = await served(sandbox, A, "issue", account_id=zhang_san)

    assert (login["status"], login["account_id"]) == ("succeeded", zhang_san)


async def test_a_chosen_account_that_does_not_serve_the_enterprise_fails_clearly(
    sandbox: Sandbox,
) -> None:
    li_si = await account_on(sandbox, S3)

    login = await served(sandbox, A, "issue", account_id=li_si)

    assert login["status"] == "failed"
    assert login["reason"] == f"account {li_si} does not serve {A.tax_id}"
    assert login["sms_used"] == 0


async def test_receiving_with_a_chosen_issue_account_is_refused_by_r9(
    sandbox: Sandbox,
) -> None:
    li_si = await account_on(sandbox, S3)

    login = await served(sandbox, D, "receive", account_id=li_si)

    assert login["status"] == "failed"
    assert "收票管理" in login["reason"]


async def test_an_account_unknown_to_the_tenant_is_refused_on_account_id(
    sandbox: Sandbox,
) -> None:
    with pytest.raises(ApiError) as refused:
        await sandbox.client.ask_login(A.tax_id, "receive", account_id=999)

    assert (refused.value.status, refused.value.field) == (422, "account_id")
    assert "999" in str(refused.value)
