"""Group commit: writes that arrive while one is in flight are committed together.

Agent reports come in thousands at once during a fan-out; one transaction each spends the
single SQLite writer (and PostgreSQL's commit flush) on transaction overhead instead of on the
rows. Here a write that finds the writer idle runs at once, alone, exactly as
``Database.write`` would (no timer: an idle server adds no delay); writes that arrive while it
runs wait and then go together, in arrival order, in one transaction, each inside a savepoint
of its own, so one that raises is rolled back alone and the rest of its batch commits. Every
caller is answered only after the commit of the transaction that holds its write (what is
acknowledged is stored), and result waiters are woken after it. When the batch's transaction
fails as a whole (its commit refused, the connection lost), each of its writes is tried again
alone.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection

if TYPE_CHECKING:
    from openassist.server.store.db import Database, Released

T = TypeVar("T")
MAX_BATCH = 100  # writes per transaction: bounds how long other writes wait behind a batch


@dataclass
class _Pending:
    work: Callable[[Connection], Any]
    answer: asyncio.Future[Any]


@dataclass(frozen=True)
class _Outcome:
    value: Any = None
    error: Exception | None = None


class GroupCommit:
    """Batches the ``write`` calls of one ``Database`` (see the module docstring)."""

    def __init__(self, db: Database, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._max_batch = max_batch
        self._waiting: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # transactions that carried more than one write (for tests, metrics)

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a transaction, possibly shared with others; returns its value or
        raises its error once that transaction committed (or rolled ``work`` back)."""
        answer: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Pending(work, answer))
        if self._writer is None or self._writer.done():
            # A context of its own: a batch is never part of one caller's unit of work.
            self._writer = asyncio.create_task(
                self._drain(), name="group-commit", context=contextvars.Context()
            )
        return await answer

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            if len(batch) == 1:
                await self._alone(batch[0])
            else:
                await self._together(batch)

    async def _alone(self, pending: _Pending) -> None:
        try:
            value = await self._db.write(pending.work)
        except Exception as error:
            _answer(pending, _Outcome(error=error))
        else:
            _answer(pending, _Outcome(value))

    async def _together(self, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        works = [pending.work for pending in batch]
        try:
            outcomes, changed, released = await loop.run_in_executor(
                self._db.write_executor, self._transaction, works
            )
        except Exception:  # the transaction as a whole failed: each write alone
            for pending in batch:
                await self._alone(pending)
            return
        self.batches += 1
        await self._db.announce(changed, released)
        for pending, outcome in zip(batch, outcomes, strict=True):
            _answer(pending, outcome)

    def _transaction(
        self, works: list[Callable[[Connection], Any]]
    ) -> tuple[list[_Outcome], frozenset[str], frozenset[Released]]:
        """The writer thread's side: every work in a savepoint of one transaction."""
        started = time.perf_counter()
        outcomes: list[_Outcome] = []
        try:
            with self._db.engine.begin() as connection:
                if self._db.is_sqlite:
                    # pysqlite begins a transaction only before the first DML statement, so the
                    # first SAVEPOINT would start one of its own and its RELEASE commit it.
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                self._db.forget_notes(connection)
                for work in works:
                    try:
                        with connection.begin_nested():
                            outcomes.append(_Outcome(work(connection)))
                    except Exception as error:  # rolled back to its savepoint, alone
                        outcomes.append(_Outcome(error=error))
                changed, released = self._db.take_notes(connection)
            return outcomes, changed, released
        finally:
            if self._db.observe is not None:
                self._db.observe("write", time.perf_counter() - started)


def _answer(pending: _Pending, outcome: _Outcome) -> None:
    if pending.answer.done():  # its caller went away (a cancelled request): nothing to tell
        return
    if outcome.error is not None:
        pending.answer.set_exception(outcome.error)
    else:
        pending.answer.set_result(outcome.value)
