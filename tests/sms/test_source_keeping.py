"""Keeping sources: listing them, replacing a secret, removing one whose SMS stay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from banshui.audit.models import AuditEntry
from banshui.core.clock import ManualClock
from banshui.core.errors import Conflict, InvalidInput, NotFound
from banshui.core.settings import Settings
from banshui.demo.cast import S1, S2
from banshui.runtime import Runtime, build_runtime
from banshui.sms.gateways.base import ReceivedSms, Verified
from banshui.sms.models import InboundSms, Source
from banshui.sms.sources import (
    SECRET_PURPOSE,
    SourceChanged,
    add_source,
    find_source,
    list_sources,
    remove_source,
    rotate_secret,
)

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
OLD = "zhang-phone-secret-01"
NEW = "zhang-phone-secret-02"


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=database_url, var_dir=tmp_path)
    made = build_runtime(settings, ManualClock(START))
    try:
        yield made
    finally:
        await made.close()


def clock(runtime: Runtime) -> ManualClock:
    assert isinstance(runtime.clock, ManualClock)
    return runtime.clock


async def add(runtime: Runtime, name: str, **given: object) -> Source:
    values: dict[str, object] = {"number": S1} | given
    return await add_source(
        runtime.db, runtime.vault, runtime.clock,
        kind="smsforwarder", name=name, secret=OLD, **values,  # type: ignore[arg-type]
    )  # fmt: skip


async def receive(runtime: Runtime, source: Source, identity: str) -> None:
    sms = ReceivedSms(
        sender="12366", text="【中国税务】验证码：418207", identity=identity
    )
    await runtime.inbox.store(source, Verified(None, ""), [sms])


async def audit(runtime: Runtime) -> list[AuditEntry]:
    async with runtime.db.session() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def test_every_source_is_listed_with_when_it_last_received_an_sms(
    runtime: Runtime,
) -> None:
    zhang = await add(runtime, "zhang-phone")
    await add(runtime, "office", number=None, sim_slots={"1": S1, "2": S2})
    await receive(runtime, zhang, "a")
    clock(runtime).advance(90)
    await receive(runtime, zhang, "b")

    listed = await list_sources(runtime.db)

    assert [item.source.name for item in listed] == ["zhang-phone", "office"]
    assert listed[0].last_received_at == datetime(2026, 3, 2, 2, 1, 30, tzinfo=UTC)
    assert listed[1].last_received_at is None
    assert listed[1].source.sim_slots == {"1": S1, "2": S2}


async def test_a_rotated_secret_is_the_one_the_source_holds_and_is_audited_without_it(
    runtime: Runtime,
) -> None:
    await add(runtime, "zhang-phone")

    await rotate_secret(runtime.db, runtime.vault, runtime.clock, "zhang-phone", NEW)

    source = await find_source(runtime.db, "smsforwarder", "zhang-phone")
    assert runtime.vault.open(source.secret_sealed, SECRET_PURPOSE) == NEW
    entry = (await audit(runtime))[-1]
    assert (entry.action, entry.subject, entry.actor) == (
        "source.secret_rotated",
        "zhang-phone",
        "cli",
    )
    assert NEW not in repr([(e.subject, e.detail) for e in await audit(runtime)])


async def test_a_short_secret_is_refused_naming_the_field_and_changes_nothing(
    runtime: Runtime,
) -> None:
    before = await add(runtime, "zhang-phone")

    with pytest.raises(InvalidInput) as refused:
        await rotate_secret(
            runtime.db, runtime.vault, runtime.clock, "zhang-phone", "short"
        )

    assert refused.value.field == "secret"
    after = await find_source(runtime.db, "smsforwarder", "zhang-phone")
    assert after.secret_sealed == before.secret_sealed


async def test_an_sms_checked_against_the_replaced_secret_is_not_stored(
    runtime: Runtime,
) -> None:
    # The source as a webhook of another process still remembers it.
    remembered = await add(runtime, "zhang-phone")
    await rotate_secret(runtime.db, runtime.vault, runtime.clock, "zhang-phone", NEW)

    with pytest.raises(SourceChanged):
        await receive(runtime, remembered, "a")

    async with runtime.db.session() as session:
        assert await session.scalar(select(func.count(InboundSms.id))) == 0


async def test_a_removed_source_is_found_no_more_and_its_sms_stay(
    runtime: Runtime,
) -> None:
    remembered = await add(runtime, "zhang-phone")
    await receive(runtime, remembered, "a")

    await remove_source(runtime.db, runtime.clock, "zhang-phone")

    with pytest.raises(NotFound):
        await find_source(runtime.db, "smsforwarder", "zhang-phone")
    with pytest.raises(SourceChanged):
        await receive(runtime, remembered, "b")
    async with runtime.db.session() as session:
        texts = list(await session.scalars(select(InboundSms.text)))
    assert texts == ["【中国税务】验证码：418207"]
    [listed] = await list_sources(runtime.db)
    assert listed.source.removed_at == START
    assert (await audit(runtime))[-1].action == "source.removed"


async def test_a_removed_source_is_neither_removed_again_nor_given_a_secret(
    runtime: Runtime,
) -> None:
    await add(runtime, "zhang-phone")
    await remove_source(runtime.db, runtime.clock, "zhang-phone")

    with pytest.raises(Conflict) as again:
        await remove_source(runtime.db, runtime.clock, "zhang-phone")
    with pytest.raises(Conflict) as rotated:
        await rotate_secret(
            runtime.db, runtime.vault, runtime.clock, "zhang-phone", NEW
        )

    assert again.value.field == rotated.value.field == "name"
    assert "was removed" in again.value.message


async def test_the_name_of_a_removed_source_is_not_given_to_a_new_one(
    runtime: Runtime,
) -> None:
    await add(runtime, "zhang-phone")
    await remove_source(runtime.db, runtime.clock, "zhang-phone")

    with pytest.raises(Conflict) as refused:
        await add(runtime, "zhang-phone")

    assert refused.value.field == "name"
    assert "removed" in refused.value.message


async def test_an_unknown_source_is_neither_removed_nor_rotated(
    runtime: Runtime,
) -> None:
    with pytest.raises(NotFound) as removed:
        await remove_source(runtime.db, runtime.clock, "nobody-phone")
    with pytest.raises(NotFound) as rotated:
        await rotate_secret(
            runtime.db, runtime.vault, runtime.clock, "nobody-phone", NEW
        )

    assert removed.value.field == rotated.value.field == "name"
