"""Sub-numbers hosted by another provider: its API address and appKey/appSecret.

They belong to the account (``Account.provider_*``), set by the 新增 form. The
appSecret is sealed at rest and never shown again; it can only be replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from banshui.accounts.models import Account
from banshui.accounts.service import PROVIDER_SECRET_PURPOSE
from banshui.audit.log import record
from banshui.core.clock import Clock
from banshui.core.errors import InvalidInput
from banshui.core.vault import Vault
from banshui.numbers.models import Number
from banshui.sync.changes import publishing_changes
from banshui.web.console import forms


@dataclass(frozen=True, slots=True)
class Hosting:
    provider_url: str
    app_key: str
    app_secret: str


def hosting_of(form: FormData) -> Hosting | None:
    """The three fields together, or none of them."""
    url = forms.text(form, "provider_url", 500)
    key = forms.text(form, "app_key", 64)
    secret = forms.secret(form, "app_secret", 200).strip()
    if not (url or key or secret):
        return None

    if not url.startswith(("https://", "http://")):
        raise InvalidInput(
            "服务商接口地址应以 https:// 或 http:// 开头。", field="provider_url"
        )
    if not key or any(char.isspace() for char in key):
        raise InvalidInput("请填写服务商提供的 appKey。", field="app_key")
    if not secret:
        raise InvalidInput("请填写服务商提供的 appSecret。", field="app_secret")
    return Hosting(url.rstrip("/"), key, secret)


def check_hostable(number: Number | None, hosting: Hosting | None) -> None:
    if hosting is not None and number is not None and number.customer_id is not None:
        raise InvalidInput(
            "该号码由本平台托管，无需填写 appKey/appSecret。", field="app_key"
        )


async def replace_hosting(
    session: AsyncSession,
    vault: Vault,
    clock: Clock,
    account: Account,
    hosting: Hosting,
    actor: str,
) -> None:
    """New credentials for an account hosted elsewhere; its listing is republished."""
    if account.provider_url is None:
        raise InvalidInput("这个账号的号码不由其他服务商托管。", field="app_key")
    async with publishing_changes(session, clock, [account.id]):
        account.provider_url = hosting.provider_url
        account.provider_app_key = hosting.app_key
        account.provider_app_secret_sealed = vault.seal(
            hosting.app_secret, PROVIDER_SECRET_PURPOSE
        )
        record(
            session,
            clock,
            actor=actor,
            action="account.provider_replaced",
            subject=f"account:{account.id}",
            detail=f"provider:{hosting.provider_url} app_key:{hosting.app_key}",
        )
