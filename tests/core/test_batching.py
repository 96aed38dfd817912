"""Group commit: what arrives while a batch is written goes in the next one."""

from __future__ import annotations

import asyncio

import pytest

from banshui.core.batching import GroupCommit


class Refused(Exception):
    """What the test's writer raises for an item it will not store."""


class Writer:
    """Records each batch; holds the first until told to go on."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.first_started = asyncio.Event()
        self.go_on = asyncio.Event()

    async def write(self, items: list[str]) -> list[str]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.first_started.set()
            await self.go_on.wait()
        if "bad" in items:
            raise Refused("bad")
        return [item.upper() for item in items]


async def _submit_behind_a_first(
    group: GroupCommit[str, str], writer: Writer, items: list[str]
) -> tuple[asyncio.Task[str], list[asyncio.Task[str]]]:
    """A first item being written, and ``items`` submitted while it is."""
    first = asyncio.create_task(group.submit("first"))
    await writer.first_started.wait()
    waiting = [asyncio.create_task(group.submit(item)) for item in items]
    await asyncio.sleep(0)  # every submitter has queued its item
    return first, waiting


async def test_items_submitted_while_a_batch_is_written_go_together_next() -> None:
    writer = Writer()
    group = GroupCommit(writer.write)
    first, waiting = await _submit_behind_a_first(group, writer, ["a", "b", "c"])

    writer.go_on.set()

    assert await first == "FIRST"
    assert await asyncio.gather(*waiting) == ["A", "B", "C"]
    assert writer.batches == [["first"], ["a", "b", "c"]]


async def test_no_submitter_is_answered_before_its_batch_is_written() -> None:
    writer = Writer()
    group = GroupCommit(writer.write)
    first, waiting = await _submit_behind_a_first(group, writer, ["a"])

    await asyncio.sleep(0.05)
    assert not first.done()
    assert not any(task.done() for task in waiting)

    writer.go_on.set()
    await asyncio.gather(first, *waiting)


async def test_a_bad_item_fails_alone_and_the_others_of_its_batch_are_written() -> None:
    writer = Writer()
    group = GroupCommit(writer.write)
    first, waiting = await _submit_behind_a_first(group, writer, ["a", "bad", "b"])

    writer.go_on.set()
    answers = await asyncio.gather(*waiting, return_exceptions=True)

    assert await first == "FIRST"
    assert answers[0] == "A"
    assert isinstance(answers[1], Refused)
    assert answers[2] == "B"
    assert writer.batches[1:] == [["a", "bad", "b"], ["a"], ["bad"], ["b"]]


async def test_a_submitter_that_gave_up_before_its_batch_is_not_written_for() -> None:
    writer = Writer()
    group = GroupCommit(writer.write)
    first, waiting = await _submit_behind_a_first(group, writer, ["a", "gone", "b"])

    waiting[1].cancel()
    writer.go_on.set()

    assert await first == "FIRST"
    assert await asyncio.gather(waiting[0], waiting[2]) == ["A", "B"]
    with pytest.raises(asyncio.CancelledError):
        await waiting[1]
    assert writer.batches == [["first"], ["a", "b"]]


async def test_a_lone_item_is_written_without_waiting_for_company() -> None:
    writer = Writer()
    writer.go_on.set()
    group = GroupCommit(writer.write)

    assert await asyncio.wait_for(group.submit("alone"), 5) == "ALONE"
    assert writer.batches == [["alone"]]


async def test_no_batch_holds_more_than_the_most_it_may() -> None:
    writer = Writer()
    group = GroupCommit(writer.write, most=2)
    first, waiting = await _submit_behind_a_first(group, writer, ["a", "b", "c"])

    writer.go_on.set()
    await asyncio.gather(first, *waiting)

    assert writer.batches == [["first"], ["a", "b"], ["c"]]
