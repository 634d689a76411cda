"""Items from many callers written together: a queue, background writers, an answer per caller.

At fleet scale many small writes arrive at once (reports, claims, heartbeats, replay marks); one
transaction each spends the single SQLite writer, and PostgreSQL's commit flush, on transaction
overhead instead of on the rows. Every such writer has the same shape, kept here once: a caller
hands in an item and awaits its own answer; a background task takes the waiting items in
arrival order, up to ``max_batch`` at a time, and hands them to the pluggable ``write`` function,
which answers each (a value or an exception of its own). A caller is answered only once
``write`` returned, so what ``write`` commits before returning is stored when the caller hears.

``linger_s`` 0 (the default): an item that finds no batch in flight is written at once, alone,
and the items that arrive while one is in flight go together next; an idle server adds no
delay. With a linger, the first item of a batch waits up to ``linger_s`` for others to join it,
unless the batch fills up or an ``urgent`` item arrives. ``writers`` > 1 lets that many batches
be in flight at once (a database that takes concurrent transactions).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
R = TypeVar("R")


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What one item's caller is answered: ``value``, or ``error`` raised to it."""

    value: R | None = None
    error: Exception | None = None


# Writes a batch of items; one outcome per item, in order. Raising fails every item with it.
WriteBatch = Callable[[list[Item]], Awaitable[Sequence[Outcome[R]]]]


class Batcher(Generic[Item, R]):
    """See the module docstring."""

    def __init__(
        self,
        write: WriteBatch[Item, R],
        *,
        name: str,
        max_batch: int,
        linger_s: float = 0.0,
        writers: int = 1,
        urgent: Callable[[Item], bool] | None = None,
    ) -> None:
        self._write, self._name = write, name
        self._max_batch, self._linger_s = max_batch, linger_s
        self._writers, self._urgent = writers, urgent
        self._waiting: list[tuple[Item, asyncio.Future[R]]] = []
        self._flush = asyncio.Event()
        # Writer tasks alive, counted down as their loop ends (a done callback would come a turn
        # later, and an item handed in meanwhile would wait for a writer that is gone).
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()  # referenced until done

    async def submit(self, item: Item) -> R:
        """Write ``item`` with the others of its batch; its value, or its error raised."""
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, answer))
        if len(self._waiting) >= self._max_batch or (self._urgent and self._urgent(item)):
            self._flush.set()
        if self._running < self._writers:
            self._running += 1
            # A context of its own: a batch is never part of one caller's unit of work.
            task = asyncio.create_task(
                self._drain(), name=self._name, context=contextvars.Context()
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await answer

    async def _drain(self) -> None:
        try:
            while self._waiting:
                if self._linger_s > 0 and not self._flush.is_set():
                    with suppress(TimeoutError):
                        async with asyncio.timeout(self._linger_s):
                            await self._flush.wait()
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                if len(self._waiting) < self._max_batch:
                    self._flush.clear()  # (else the next batch is full already: no linger)
                if batch:  # (another writer may have taken them while this one lingered)
                    await self._write_one(batch)
        finally:
            self._running -= 1

    async def _write_one(self, batch: list[tuple[Item, asyncio.Future[R]]]) -> None:
        try:
            outcomes = await self._write([item for item, _ in batch])
        except Exception as error:  # the batch as a whole failed: each of its callers hears
            outcomes = [Outcome[R](error=error)] * len(batch)
        except BaseException:  # cancelled (the loop is closing): nobody waits for ever
            for _, answer in batch:
                answer.cancel()
            raise
        for (_, answer), outcome in zip(batch, outcomes, strict=True):
            if answer.done():  # its caller went away (a cancelled request): nothing to tell
                continue
            if outcome.error is not None:
                answer.set_exception(outcome.error)
            else:
                answer.set_result(outcome.value)  # type: ignore[arg-type]
