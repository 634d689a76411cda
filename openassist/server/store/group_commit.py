"""Group commit: writes that arrive while one is in flight are committed together.

Agent reports and claims come in thousands at once during a fan-out; one transaction each
spends the single SQLite writer (and PostgreSQL's commit flush) on transaction overhead instead
of on the rows. Here (a ``store/batcher.py`` batcher) a write that finds the writer idle runs at
once, alone, exactly as ``Database.write`` would (no timer: an idle server adds no delay);
writes that arrive while it runs wait and then go together, in arrival order, in one
transaction. Every caller is answered only after the commit of the transaction that holds its
write (what is acknowledged is stored), and result waiters are woken after it.

A write that raises rolls back the whole transaction: the writes before it go together again,
then it alone (its error, or its value if the batch was the cause), then the rest together.
The writes carry no savepoint each: that was two statements per write (a third of a fan-out's
statements, issue 20) for a failure the usual run never has. When the batch's transaction
fails as a whole (its commit refused, the connection lost), each of its writes is tried again
alone. A write may so run more than once; only its last run commits."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection

from openassist.server.store.batcher import Batcher, Outcome

if TYPE_CHECKING:
    from openassist.server.store.db import Database, Released

T = TypeVar("T")
MAX_BATCH = 100  # writes per transaction: bounds how long other writes wait behind a batch
Work = Callable[[Connection], Any]
_Keyed = tuple[str, Work]  # (lock order, work)


class GroupCommit:
    """Batches the ``write`` calls of one ``Database`` (see the module docstring).

    ``writers`` > 1 (PostgreSQL) keeps that many batches in flight at once. Two batches that
    lock the same rows in opposite orders would deadlock (PostgreSQL breaks it by failing one,
    which is then written one by one): a batch runs its writes sorted by ``lock_order``, the
    shared row each locks last and longest (a report: its task's row, for the status counts), so
    concurrent batches queue on such a row in one order instead."""

    def __init__(self, db: Database, max_batch: int = MAX_BATCH, writers: int = 1) -> None:
        self._db = db
        self._batcher: Batcher[_Keyed, Any] = Batcher(
            self._write_batch, name="group-commit", max_batch=max_batch, writers=writers
        )
        self.batches = 0  # transactions that carried more than one write (for tests, metrics)

    async def write(self, work: Callable[[Connection], T], lock_order: str = "") -> T:
        """Run ``work`` in a transaction, possibly shared with others; returns its value or
        raises its error once that transaction committed (or rolled ``work`` back)."""
        value: T = await self._batcher.submit((lock_order, work))
        return value

    async def _write_batch(self, batch: list[_Keyed]) -> list[Outcome[Any]]:
        outcomes: list[Outcome[Any]] = [Outcome()] * len(batch)
        # Stable: arrival order among the writes of one key.
        order = sorted(range(len(batch)), key=lambda n: batch[n][0])
        await self._together(batch, order, outcomes)
        return outcomes

    async def _together(
        self, batch: list[_Keyed], order: list[int], outcomes: list[Outcome[Any]]
    ) -> None:
        """Write ``batch[n]`` for each ``n`` of ``order``, in that order, into ``outcomes[n]``."""
        while len(order) > 1:
            works = [batch[n][1] for n in order]
            try:
                values, changed, released = await self._db.write_executor.run(
                    functools.partial(self._transaction, works)
                )
            except _Raised as raised:
                # Rolled back. The writes before it go together again, then it alone, then
                # the rest: each write still sees the ones before it, as it did in the batch.
                await self._together(batch, order[: raised.index], outcomes)
                failed = order[raised.index]
                outcomes[failed] = await self._alone(batch[failed][1])
                order = order[raised.index + 1 :]
                continue
            except Exception:  # the transaction as a whole failed: each write alone
                break
            self.batches += 1
            await self._db.announce(changed, released)
            for n, value in zip(order, values, strict=True):
                outcomes[n] = Outcome(value)
            return
        for n in order:
            outcomes[n] = await self._alone(batch[n][1])

    async def _alone(self, work: Work) -> Outcome[Any]:
        try:
            return Outcome(await self._db.write(work))
        except Exception as error:
            return Outcome(error=error)

    def _transaction(
        self, works: list[Work]
    ) -> tuple[list[Any], frozenset[str], frozenset[Released]]:
        """The writer thread's side: every work in one transaction; raises ``_Raised`` (rolled
        back) if one of them raised."""
        started = time.perf_counter()
        values: list[Any] = []
        try:
            with self._db.engine.begin() as connection:
                if self._db.is_sqlite:
                    # pysqlite begins a transaction only before the first DML statement: the
                    # reads before it would be outside the batch's transaction.
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                self._db.forget_notes(connection)
                for index, work in enumerate(works):
                    try:
                        values.append(work(connection))
                    except Exception as error:
                        raise _Raised(index) from error
                changed, released = self._db.take_notes(connection)
            return values, changed, released
        finally:
            if self._db.observe is not None:
                self._db.observe("write", time.perf_counter() - started)


class _Raised(Exception):
    """The work at ``index`` of a batch raised; the batch's transaction was rolled back."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index
