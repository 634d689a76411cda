"""Use cases of tasks: run a command, list tasks and results, stop a task."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.protocol.statuses import InvokeRecordStatus
from openassist.server.service import checks, modify, timed
from openassist.server.service.context import (
    ServiceContext,
    instance_not_found,
    invoke_not_found,
    kick_topic,
)
from openassist.server.service.guard import UNGUARDED, Guard
from openassist.server.service.starting import initial_row, start_task
from openassist.server.service.stopping import stop_rows
from openassist.server.service.task_specs import CommandSpec, TaskArgs, new_command, vars_of
from openassist.server.store import invocations, listings, outputs, runs, tags
from openassist.server.store.outputs import OutputSlice
from openassist.server.store.paging import Page, PageQuery
from openassist.server.store.records import (
    Command,
    Instance,
    Invocation,
    InvocationInstance,
    InvocationRun,
)

# A page of result rows, with their tasks and commands by id.
Results = tuple[Page[InvocationInstance], dict[str, Invocation], dict[str, Command]]


@dataclass(frozen=True)
class TaskView:
    """A task with its command and per-instance rows, as the API and console show it."""

    invocation: Invocation
    command: Command
    instances: list[InvocationInstance]
    tags: list[tuple[str, str]] = field(default_factory=list)


class InvocationService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def run_command(
        self, spec: CommandSpec, args: TaskArgs, keep_command: bool = False
    ) -> tuple[str, str]:
        """Create the command and the task on every target in one transaction; returns
        (CommandId, InvokeId). Raises NotFound when a target is unknown (nothing is written)."""
        checks.command_fields(vars_of(spec), self._ctx.limits)
        checks.content(spec.content, self._ctx.limits)
        command = new_command(spec, kept=keep_command, now=self._ctx.clock.now_ms())
        invoke_id = await start_task(self._ctx, args, command=command)
        return command.id, invoke_id

    async def invoke_command(self, command_id: str, args: TaskArgs) -> str:
        """Run a saved command; raises NotFound InvalidCmdId.NotFound when there is none."""
        return await start_task(self._ctx, args, command_id=command_id)

    async def describe(
        self, where: invocations.InvocationFilter, page: PageQuery, guard: Guard = UNGUARDED
    ) -> Page[TaskView]:
        """Tasks on instances the caller may see, each with the rows of those instances only."""

        def query(conn: Connection) -> Page[TaskView]:
            visible = guard.visible(conn)
            found = listings.list_invocations(conn, replace(where, visible=visible), page)
            rows = invocations.instances_of(conn, [i.id for i in found.items])
            if visible is not None:
                shown = set(visible)
                rows = {k: [r for r in v if r.instance_id in shown] for k, v in rows.items()}
            cmds = invocations.commands_by_id(conn, [i.command_id for i in found.items])
            labels = tags.tags_of(conn, "invocation", [i.id for i in found.items])
            views = [TaskView(i, cmds[i.command_id], rows[i.id], labels[i.id]) for i in found.items]
            return Page(items=views, total=found.total, next_key=found.next_key)

        return await self._ctx.db.read(query)

    async def results(
        self, where: invocations.ResultFilter, page: PageQuery, guard: Guard = UNGUARDED
    ) -> Results:
        return await self._ctx.db.read(self.results_query(where, page, guard))

    @staticmethod
    def results_query(
        where: invocations.ResultFilter, page: PageQuery, guard: Guard = UNGUARDED
    ) -> Callable[[Connection], Results]:
        """``results`` as a read to run in another's (the result wait's)."""

        def query(conn: Connection) -> Results:
            seen = replace(where, visible=guard.visible(conn))
            found = listings.list_results(conn, seen, page)
            tasks = invocations.invocations_by_id(conn, [r.invoke_id for r in found.items])
            cmds = invocations.commands_by_id(conn, [t.command_id for t in tasks.values()])
            return found, tasks, cmds

        return query

    async def modify(self, change: modify.Modification) -> str:
        """ModifyInvocationAttribute; returns the task's (maybe new) command id."""

        def new_row(task: Invocation, instance: Instance, now: int) -> InvocationInstance:
            return initial_row(self._ctx, task.id, instance, task.repeat_mode, now)

        return await modify.modify(self._ctx, change, new_row)

    async def history(
        self,
        invoke_id: str,
        instance_id: str | None,
        wanted: InvokeRecordStatus | None,
        page: PageQuery,
    ) -> tuple[Page[InvocationRun], Invocation, Command]:
        """Every run of a Period / EveryReboot task; InvalidParameter for another kind of task."""

        def query(conn: Connection) -> tuple[Page[InvocationRun], Invocation, Command]:
            task = invocations.get_invocation(conn, invoke_id)
            if task is None:
                raise invoke_not_found()
            if not timed.keeps_history(task):
                raise InvalidParameter(
                    api.INCLUDE_HISTORY_NOT_TIMED, invoke_id=invoke_id, repeat_mode=task.repeat_mode
                )
            found = runs.list_runs(conn, invoke_id, instance_id, wanted, page)
            command = invocations.commands_by_id(conn, [task.command_id])[task.command_id]
            return found, task, command

        return await self._ctx.db.read(query)

    async def full_output(
        self, invoke_id: str, instance_id: str, offset: int, limit: int
    ) -> tuple[InvocationInstance, OutputSlice]:
        """A slice of the full output kept for one instance of a task (from ``offset``)."""

        def query(conn: Connection) -> tuple[InvocationInstance | None, OutputSlice]:
            row = invocations.get_instance_row(conn, invoke_id, instance_id)
            return row, outputs.read(conn, invoke_id, instance_id, offset, limit)

        row, found = await self._ctx.db.read(query)
        if row is None:
            if await self._ctx.db.read(lambda conn: invocations.get_invocation(conn, invoke_id)):
                raise instance_not_found(instance_id)
            raise invoke_not_found()
        return row, found

    async def stop(
        self, invoke_id: str, instance_ids: Sequence[str], guard: Guard = UNGUARDED
    ) -> None:
        """Ask every (or the given) instance of the task to stop; not started runs are cancelled."""
        now = self._ctx.clock.now_ms()

        def request_stop(conn: Connection) -> list[str]:
            return stop_rows(conn, invoke_id, instance_ids, guard, now)

        stopping = await self._ctx.db.write(request_stop)
        for instance_id in stopping:
            await self._ctx.bus.publish(kick_topic(instance_id), invoke_id)
