"""Passwords, gateway secrets and session cookies never lie in the database in clear."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from banshui.accounts.service import PASSWORD_PURPOSE
from banshui.core.vault import Vault, VaultError
from banshui.demo.cast import LI_SI, ZHANG_SAN, A
from banshui.login.sessions import COOKIE_PURPOSE
from banshui.sms.models import Source
from banshui.sms.sources import SECRET_PURPOSE

if TYPE_CHECKING:
    from conftest import Sandbox


def database_bytes(database_url: str) -> bytes:
    """The SQLite file with its write-ahead log: everything on disk."""
    path = Path(str(make_url(database_url).database))
    files = sorted(path.parent.glob(path.name + "*"))
    assert path in files
    return b"".join(file.read_bytes() for file in files)


async def source_secrets(sandbox: Sandbox) -> list[str]:
    runtime = sandbox.stack.runtime
    async with runtime.db.session() as session:
        sealed = list(await session.scalars(select(Source.secret_sealed)))
    return [runtime.vault.open(value, SECRET_PURPOSE) for value in sealed]


@pytest.mark.sqlite_only
async def test_no_password_source_secret_or_cookie_is_in_the_sqlite_file(
    sandbox: Sandbox,
) -> None:
    asked = await sandbox.client.ask_login(A.tax_id, "receive")
    async with asyncio.timeout(15):
        async for login in sandbox.client.follow(asked["id"]):
            if login["status"] == "succeeded":
                break
    cookies = (await sandbox.client.session(asked["id"]))["cookies"]
    secrets = await source_secrets(sandbox)
    assert cookies and len(secrets) == 3

    on_disk = database_bytes(sandbox.stack.settings.database_url)

    for password in (ZHANG_SAN.password, LI_SI.password):
        assert password.encode() not in on_disk
    for secret in secrets:
        assert secret.encode() not in on_disk
    for value in cookies.values():
        assert len(value) >= 16 and value.encode() not in on_disk
    assert sandbox.api_key.encode() not in on_disk


@pytest.mark.parametrize(
    ("sealed_for", "opened_as"),
    [
        (PASSWORD_PURPOSE, SECRET_PURPOSE),
        (SECRET_PURPOSE, COOKIE_PURPOSE),
        (COOKIE_PURPOSE, PASSWORD_PURPOSE),
    ],
)
def test_the_vault_refuses_a_secret_sealed_for_another_purpose(
    sealed_for: str, opened_as: str
) -> None:
    vault = Vault(os.urandom(32))
    sealed = vault.seal(ZHANG_SAN.password, sealed_for)

    with pytest.raises(VaultError) as refused:
        vault.open(sealed, opened_as)

    assert ZHANG_SAN.password not in str(refused.value)
    assert vault.open(sealed, sealed_for) == ZHANG_SAN.password


def test_the_vault_refuses_a_secret_sealed_with_another_key() -> None:
    sealed = Vault(os.urandom(32)).seal(ZHANG_SAN.password, PASSWORD_PURPOSE)

    with pytest.raises(VaultError):
        Vault(os.urandom(32)).open(sealed, PASSWORD_PURPOSE)


def test_sealing_twice_gives_two_different_tokens() -> None:
    vault = Vault(os.urandom(32))

    first = vault.seal(ZHANG_SAN.password, PASSWORD_PURPOSE)
    second = vault.seal(ZHANG_SAN.password, PASSWORD_PURPOSE)

    assert first != second
    assert ZHANG_SAN.password not in first


@pytest.mark.parametrize(
    "token",
    ["Demo-zhangsan-2026", "v1:", "v1:abc", "v1:AAAAAAAA", "v1:!!!!"],
    ids=["clear-text", "empty", "bad-padding", "too-short", "not-base64"],
)
def test_the_vault_refuses_a_token_that_is_not_a_sealed_secret(token: str) -> None:
    with pytest.raises(VaultError):
        Vault(os.urandom(32)).open(token, PASSWORD_PURPOSE)
