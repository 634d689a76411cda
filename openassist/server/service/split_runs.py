"""Console runs split into several tasks (more machines than one RunCommand takes): kept in the
store so their page, merged results and Stop need nothing but the run's id.

The tasks themselves are ordinary tasks (each made by ``InvocationService`` with its own policy
check); a run only groups them. Stopping a run is StopInvocation on each of its unfinished tasks,
a transaction each, after one check of every machine: refused whole when the caller may not
stop one of them, as one task's Stop is.
"""

from __future__ import annotations

from sqlalchemy import Connection

from openassist.server.service import ids
from openassist.server.service.context import ServiceContext, invoke_not_found, kick_topic
from openassist.server.service.guard import UNGUARDED, Guard
from openassist.server.service.stopping import stop_rows
from openassist.server.store import split_runs
from openassist.server.store.split_runs import SplitRun


class SplitRunService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def create(self, machines: int, tasks: int, invoked_by: str) -> str:
        """A new run's id; its tasks name it in ``TaskArgs.split_run_id`` as they are made."""
        run = SplitRun(ids.split_run_id(), self._ctx.clock.now_ms(), invoked_by, machines, tasks)
        await self._ctx.db.write(lambda conn: split_runs.insert(conn, run))
        return run.id

    async def get(self, run_id: str) -> tuple[SplitRun, list[str]] | None:
        """The run and its tasks' ids in creation order; None when there is no such run (which
        tasks the caller may see is the task tables' business)."""

        def query(conn: Connection) -> tuple[SplitRun, list[str]] | None:
            run = split_runs.get(conn, run_id)
            return (run, split_runs.task_ids(conn, run_id)) if run else None

        return await self._ctx.db.read(query)

    async def runs_of(self, invoke_ids: list[str]) -> dict[str, str]:
        """The run each task is part of, for the tasks that are part of one."""
        return await self._ctx.db.read(lambda conn: split_runs.runs_of(conn, invoke_ids))

    async def stop(self, run_id: str, guard: Guard = UNGUARDED) -> int:
        """Stop every unfinished task of the run; how many machines were asked to stop (or were
        cancelled before they started). Refused whole (``guard``'s refusal), before any task is
        touched, when the caller may not stop the task on one of the run's machines;
        InvalidInvokeId.NotFound when there is no such run."""

        def checked(conn: Connection) -> list[str]:
            if split_runs.get(conn, run_id) is None:
                raise invoke_not_found()
            unfinished = split_runs.task_ids(conn, run_id, unfinished=True)
            guard.check_instances(conn, split_runs.instance_ids(conn, unfinished))
            return unfinished

        asked = 0
        # One transaction per task, as its own StopInvocation (checked again there): a run of
        # 100 tasks does not hold the writer for all its 10,000 rows at once.
        for invoke_id in await self._ctx.db.read(checked):
            now = self._ctx.clock.now_ms()

            def request_stop(
                conn: Connection, invoke_id: str = invoke_id, now: int = now
            ) -> tuple[list[str], int]:
                reached = split_runs.active_rows(conn, invoke_id)
                return stop_rows(conn, invoke_id, [], guard, now), reached

            stopping, reached = await self._ctx.db.write(request_stop)
            asked += reached
            for instance_id in stopping:
                await self._ctx.bus.publish(kick_topic(instance_id), invoke_id)
        return asked
