"""Group commit: writes that arrive while one is in flight are committed together.

Agent reports and claims come in thousands at once during a fan-out; one transaction each
spends the single SQLite writer (and PostgreSQL's commit flush) on transaction overhead instead
of on the rows. Here (a ``store/batcher.py`` batcher) a write that finds the writer idle runs at
once, alone, exactly as ``Database.write`` would (no timer: an idle server adds no delay);
writes that arrive while it runs wait and then go together, in arrival order, in one
transaction, each inside a savepoint of its own, so one that raises is rolled back alone and the
rest of its batch commits. Every caller is answered only after the commit of the transaction
that holds its write (what is acknowledged is stored), and result waiters are woken after it.
When the batch's transaction fails as a whole (its commit refused, the connection lost), each of
its writes is tried again alone."""

from __future__ import annotations

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
        if len(batch) == 1:
            return [await self._alone(batch[0][1])]
        order = sorted(range(len(batch)), key=lambda n: batch[n][0])  # stable: arrival order
        works = [batch[n][1] for n in order]
        try:
            done, changed, released = await self._db.write_executor.run(
                lambda: self._transaction(works)
            )
        except Exception:  # the transaction as a whole failed: each write alone
            return [await self._alone(work) for _, work in batch]
        self.batches += 1
        await self._db.announce(changed, released)
        outcomes: list[Outcome[Any]] = [Outcome()] * len(batch)
        for n, outcome in zip(order, done, strict=True):
            outcomes[n] = outcome
        return outcomes

    async def _alone(self, work: Work) -> Outcome[Any]:
        try:
            return Outcome(await self._db.write(work))
        except Exception as error:
            return Outcome(error=error)

    def _transaction(
        self, works: list[Work]
    ) -> tuple[list[Outcome[Any]], frozenset[str], frozenset[Released]]:
        """The writer thread's side: every work in a savepoint of one transaction."""
        started = time.perf_counter()
        outcomes: list[Outcome[Any]] = []
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
                            outcomes.append(Outcome(work(connection)))
                    except Exception as error:  # rolled back to its savepoint, alone
                        outcomes.append(Outcome(error=error))
                changed, released = self._db.take_notes(connection)
            return outcomes, changed, released
        finally:
            if self._db.observe is not None:
                self._db.observe("write", time.perf_counter() - started)
