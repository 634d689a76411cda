"""Whether an agent's task list would hand it anything: the poll that finds nothing, cheaply.

Our agent polls its task list every minute besides its kicks; at 10,000 agents that is 167
polls a second, nearly all finding nothing. Handing out is a claim, a write (the single SQLite
writer's time); this one read answers the poll that would claim nothing, and tells the claim
which of its parts (tasks, files) it can leave out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from openassist.server.service.context import ServiceContext
from openassist.server.store import files, invocations


@dataclass(frozen=True)
class Waiting:
    tasks: bool  # a command task to run or stop
    files: bool  # a file to send

    def __bool__(self) -> bool:
        return self.tasks or self.files


async def anything_waiting(context: ServiceContext, instance_id: str) -> Waiting:
    """What a task list would hand out now: tasks to run or stop, files to send."""
    return await context.db.read(look(context, instance_id))


def look(context: ServiceContext, instance_id: str) -> Callable[[Connection], Waiting]:
    """``anything_waiting`` as a read to run in another transaction (the gateway runs it with
    the request's replay mark: one thread hop fewer per fetch)."""
    now = context.clock.now_ms()
    redeliver_before = now - context.limits.redeliver_after_s * 1000

    def read(conn: Connection) -> Waiting:
        return Waiting(
            tasks=invocations.anything_for_instance(conn, instance_id, redeliver_before, now),
            files=files.any_pending(conn, instance_id, redeliver_before, now),
        )

    return read
