"""Waiting for a task's results to change (WaitInvocationResults, an OpenAssist extension): a
client names the cursor it last saw and is answered the moment a per-instance row of the task
changes after it, instead of polling DescribeInvocationResults.

The cursor is the task's ``results_seq``, raised in the transaction that changes a row; the
wake-up is a hint on the bus published after that commit. A lost hint only delays the answer
to the next re-read of the cursor (every ``RECHECK_S``), never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection

from openassist.server.service.context import ServiceContext, invoke_not_found
from openassist.server.store import files, invocations, proposals
from openassist.server.store.proposals import ResultsState

RECHECK_S = 1.0
T = TypeVar("T")
# Read with the state that answers a wait, in the same read (its rows, say); None: nothing.
Beside = Callable[[Connection, ResultsState], T | None]


def results_topic(invoke_id: str) -> str:
    """Bus topic on which a committed change to ``invoke_id``'s results is announced."""
    return f"results:{invoke_id}"


class ResultWaitService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def announce(self, changed: frozenset[str]) -> None:
        """Called after a commit that changed these tasks' results (Database.on_tasks_changed)."""
        for invoke_id in changed:
            await self._ctx.bus.publish(results_topic(invoke_id), invoke_id)

    async def _read(
        self, invoke_id: str, cursor: int, deadline: float, beside: Beside[T] | None
    ) -> tuple[ResultsState, T | None]:
        tables = files.TABLES if invoke_id.startswith("f-") else invocations.TABLES

        def read(conn: Connection) -> tuple[ResultsState | None, T | None]:
            state = proposals.results_state(conn, tables, invoke_id)
            answers = state is not None and (state.seq != cursor or time.monotonic() >= deadline)
            # One read, one thread hop, for the answer and what goes with it (a snapshot where
            # the two agree); not for a state that does not answer the wait yet.
            return state, beside(conn, state) if beside and state and answers else None

        found, extra = await self._ctx.db.read(read)
        if found is None:
            raise invoke_not_found()
        return found, extra

    async def wait(self, invoke_id: str, cursor: int, wait_s: float) -> ResultsState:
        """The task's state as soon as its cursor differs from ``cursor``, or after ``wait_s``
        seconds if it does not; raises InvalidInvokeId.NotFound for an unknown task."""
        return (await self.wait_with(invoke_id, cursor, wait_s, None))[0]

    async def wait_with(
        self, invoke_id: str, cursor: int, wait_s: float, beside: Beside[T] | None
    ) -> tuple[ResultsState, T | None]:
        """As ``wait``, and what ``beside`` read with the state that answers (None when that
        read did not run it: the deadline passed between the read and its check)."""
        woken = asyncio.Event()

        async def wake(_topic: str, _payload: str) -> None:
            woken.set()

        # Subscribed before the first read: a commit after that read is always heard.
        unsubscribe = self._ctx.bus.subscribe(results_topic(invoke_id), wake)
        try:
            deadline = time.monotonic() + wait_s
            while True:
                woken.clear()
                now, extra = await self._read(invoke_id, cursor, deadline, beside)
                left = deadline - time.monotonic()
                if now.seq != cursor or left <= 0:
                    return now, extra
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), min(left, RECHECK_S))
        finally:
            unsubscribe()
