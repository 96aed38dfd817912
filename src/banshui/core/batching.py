"""Group commit: writes that arrive together are committed in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

Write = Callable[[list[Item]], Awaitable[list[Result]]]


class GroupCommit(Generic[Item, Result]):
    """Items submitted while one batch commits go together in the next batch.

    A durable commit costs a flush to disk (SQLite) or to the WAL (PostgreSQL)
    whatever it holds, so one writer committing request by request caps the
    rate at the disk's flushes a second. Here each commit serves every request
    that waited for it. A lone item is written at once, without waiting for
    company. Each submitter is answered only after the transaction holding its
    item has committed.

    ``write`` stores a batch in one transaction and answers each item, in order.
    A batch that fails is written again one item at a time, so that one bad
    item (a replayed signature, say) fails alone and the others still commit.
    """

    def __init__(self, write: Write[Item, Result], most: int = 64) -> None:
        self._write = write
        self._most = most
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """The item's result, once it is committed; its error if it failed."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            # Requests read in the same turn of the loop come along.
            await asyncio.sleep(0)
            while self._waiting:
                batch = self._waiting[: self._most]
                del self._waiting[: self._most]
                # A submitter that gave up is not answered, nor written for.
                batch = [entry for entry in batch if not entry[1].done()]
                if batch:
                    await self._commit(batch)
        except BaseException:
            # Stopped from outside (the loop is closing): nobody waits forever.
            for _, future in batch + self._waiting:
                future.cancel()
            self._waiting.clear()
            raise

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as error:
            if len(batch) == 1:
                _answer_error(batch[0][1], error)
                return
            for entry in batch:
                await self._commit([entry])
            return

        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _answer_error(future: asyncio.Future[Result], error: Exception) -> None:
    if not future.done():
        future.set_exception(error)
