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

from openassist.server.service.context import ServiceContext, invoke_not_found
from openassist.server.store import files, invocations, proposals
from openassist.server.store.proposals import ResultsState

RECHECK_S = 1.0


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

    async def _read(self, invoke_id: str) -> ResultsState:
        tables = files.TABLES if invoke_id.startswith("f-") else invocations.TABLES
        found = await self._ctx.db.read(lambda c: proposals.results_state(c, tables, invoke_id))
        if found is None:
            raise invoke_not_found()
        return found

    async def wait(self, invoke_id: str, cursor: int, wait_s: float) -> ResultsState:
        """The task's state as soon as its cursor differs from ``cursor``, or after ``wait_s``
        seconds if it does not; raises InvalidInvokeId.NotFound for an unknown task."""
        woken = asyncio.Event()

        async def wake(_topic: str, _payload: str) -> None:
            woken.set()

        # Subscribed before the first read: a commit after that read is always heard.
        unsubscribe = self._ctx.bus.subscribe(results_topic(invoke_id), wake)
        try:
            deadline = time.monotonic() + wait_s
            while True:
                woken.clear()
                now = await self._read(invoke_id)
                left = deadline - time.monotonic()
                if now.seq != cursor or left <= 0:
                    return now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), min(left, RECHECK_S))
        finally:
            unsubscribe()
