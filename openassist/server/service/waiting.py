"""Whether an agent's task list would hand it anything: the poll that finds nothing, cheaply.

Our agent polls its task list every minute besides its kicks; at 10,000 agents that is 167
polls a second, nearly all finding nothing. Handing out is a claim, a write transaction for the
tasks and another for the files (the single SQLite writer's time); this one read answers the
poll that would claim nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection

from openassist.server.service.context import ServiceContext
from openassist.server.store import files, invocations


async def anything_waiting(context: ServiceContext, instance_id: str) -> bool:
    """A task to run or stop, or a file to send, that a task list would hand out now."""
    now = context.clock.now_ms()
    redeliver_before = now - context.limits.redeliver_after_s * 1000

    def look(conn: Connection) -> bool:
        return invocations.anything_for_instance(
            conn, instance_id, redeliver_before, now
        ) or files.any_pending(conn, instance_id, redeliver_before, now)

    return await context.db.read(look)
