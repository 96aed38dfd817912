"""Only the bureau's senders make login codes; anyone else's SMS is kept, not used."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from banshui.core.clock import ManualClock
from banshui.core.db import Database
from banshui.core.settings import DEFAULT_BUREAU_SENDERS, SettingsError, load_settings
from banshui.core.vault import Vault
from banshui.demo.cast import S1
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.inbox import Inbox
from banshui.sms.models import InboundSms, Source
from banshui.sms.notify import CodeNotifier
from banshui.sms.senders import is_bureau_sender
from banshui.sms.sources import add_source

CODE_SMS = "【中国税务】您的登录验证码：{code}，请确认是本人操作。"
STRANGER = "13912345678"

_identities = itertools.count(1)


@dataclass
class Desk:
    inbox: Inbox
    clock: ManualClock
    db: Database
    source: Source

    async def receive(self, code: str, sender: str) -> InboundSms:
        sms = ReceivedSms(
            sender=sender,
            text=CODE_SMS.format(code=code),
            identity=f"sms-{next(_identities)}",
        )
        [stored] = await self.inbox.store(self.source, Verified(None, ""), [sms])
        async with self.db.session() as session:
            row = await session.get(InboundSms, stored.id)
        assert row is not None
        return row


async def _desk(database_url: str, senders: Sequence[str]) -> tuple[Desk, Database]:
    db = Database(database_url)
    clock = ManualClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    source = await add_source(
        db, Vault(os.urandom(32)), clock,
        kind="smsforwarder", name="zhang-phone", secret="zhang-phone-secret", number=S1,
    )  # fmt: skip
    inbox = Inbox(db, clock, CodeNotifier(), bureau_senders=senders)
    return Desk(inbox, clock, db, source), db


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    made, db = await _desk(database_url, DEFAULT_BUREAU_SENDERS)
    try:
        yield made
    finally:
        await db.close()


async def test_a_bureau_text_from_a_stranger_is_kept_but_marked_not_the_bureaus(
    desk: Desk,
) -> None:
    stored = await desk.receive("418207", sender=STRANGER)

    assert (stored.code, stored.kind) == ("418207", "bureau_login")
    assert stored.from_bureau is False
    assert [sms.id for sms in await desk.inbox.latest(S1)] == [stored.id]


async def test_a_waiting_login_never_gets_a_strangers_code(desk: Desk) -> None:
    expectation = await desk.inbox.expect_code(S1, "login:a")
    await desk.receive("111111", sender=STRANGER)

    assert await desk.inbox.wait_for_code(expectation, 0.2) is None


async def test_a_waiting_login_gets_the_bureaus_code_after_a_strangers(
    desk: Desk,
) -> None:
    expectation = await desk.inbox.expect_code(S1, "login:a")
    await desk.receive("111111", sender=STRANGER)
    await desk.receive("418207", sender="12366")

    assert await desk.inbox.wait_for_code(expectation, 1) == "418207"


async def test_a_strangers_code_spends_none_of_the_days_quota(desk: Desk) -> None:
    for code in ("111111", "222222", "333333"):
        await desk.receive(code, sender=STRANGER)

    assert await desk.inbox.spent_today(S1) == 0
    await desk.receive("418207", sender="12366")
    assert await desk.inbox.spent_today(S1) == 1


async def test_a_strangers_code_is_never_claimed_through_the_provider_api(
    desk: Desk,
) -> None:
    await desk.receive("111111", sender=STRANGER)

    since = desk.clock.now()
    assert await desk.inbox.claim_since(S1, since, "customer:1") is None
    await desk.receive("418207", sender="12366")
    claimed = await desk.inbox.claim_since(S1, since, "customer:1")
    assert claimed is not None and claimed.code == "418207"


@pytest.mark.parametrize(
    "sender",
    ["12366", "+8612366", "0086 12366", "106575260012366", "1065 7526 0012 366"],
)
def test_the_bureaus_senders_are_known_in_the_forms_gateways_write(
    sender: str,
) -> None:
    assert is_bureau_sender(sender, DEFAULT_BUREAU_SENDERS)


@pytest.mark.parametrize(
    "sender", [STRANGER, "12366123", "95588", "中国税务", "", "123661", "10612367"]
)
def test_other_senders_are_not_the_bureau(sender: str) -> None:
    assert not is_bureau_sender(sender, DEFAULT_BUREAU_SENDERS)


async def test_the_bureaus_senders_are_a_setting(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANSHUI_BUREAU_SENDERS", "10690*, 12366")
    senders = load_settings().bureau_senders
    made, db = await _desk(database_url, senders)
    try:
        local = await made.receive("418207", sender="1069012345")
        stranger = await made.receive("418208", sender="1068012345")
    finally:
        await db.close()

    assert senders == ("10690*", "12366")
    assert (local.from_bureau, stranger.from_bureau) == (True, False)


@pytest.mark.parametrize("value", ["*", "", "12?66", "12366,[0-9]"])
def test_a_bad_sender_setting_stops_start_up_by_name(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANSHUI_BUREAU_SENDERS", value)

    with pytest.raises(SettingsError, match="BANSHUI_BUREAU_SENDERS"):
        load_settings()
