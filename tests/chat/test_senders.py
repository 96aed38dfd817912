"""The allow-list: allowing is idempotent, denying an unknown sender is an error."""

from __future__ import annotations

import pytest

from banshui.chat.senders import allow, deny, is_allowed, list_senders
from banshui.core.errors import InvalidInput, NotFound
from banshui.runtime import Runtime

from .world import audit_actions


async def test_allowing_a_sender_twice_keeps_one_entry_and_one_audit_line(
    runtime: Runtime,
) -> None:
    first = await allow(runtime.db, runtime.clock, " 运维小王 ", actor="cli")
    second = await allow(runtime.db, runtime.clock, "运维小王", actor="cli")

    assert (first.new, second.new) == (True, False)
    assert [s.sender for s in await list_senders(runtime.db)] == ["运维小王"]
    assert await audit_actions(runtime) == [("cli", "chat.sender_allowed", "运维小王")]


async def test_a_denied_sender_is_no_longer_allowed_and_the_denial_is_audited(
    runtime: Runtime,
) -> None:
    await allow(runtime.db, runtime.clock, "运维小王", actor="cli")

    await deny(runtime.db, runtime.clock, "运维小王", actor="cli")

    assert not await is_allowed(runtime.db, "运维小王")
    assert (await audit_actions(runtime))[-1] == (
        "cli",
        "chat.sender_denied",
        "运维小王",
    )


async def test_denying_a_sender_who_was_never_allowed_is_not_found(
    runtime: Runtime,
) -> None:
    with pytest.raises(NotFound) as refused:
        await deny(runtime.db, runtime.clock, "路人甲", actor="cli")

    assert refused.value.field == "sender"


@pytest.mark.parametrize("sender", ["", "   ", "x" * 201])
async def test_a_blank_or_overlong_sender_is_refused(
    runtime: Runtime, sender: str
) -> None:
    with pytest.raises(InvalidInput):
        await allow(runtime.db, runtime.clock, sender, actor="cli")
