"""Use cases of tasks: run a command, list tasks and results, stop a task."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from openassist.errors import ApiError
from openassist.protocol.statuses import CommandType, InstanceStatus, RepeatMode
from openassist.server.lifecycle import Event, EventKind, overall_status
from openassist.server.service import ids
from openassist.server.service.context import ServiceContext, invoke_not_found, kick_topic
from openassist.server.store import fleet, invocations
from openassist.server.store.paging import Page, PageQuery
from openassist.server.store.records import (
    Command,
    Instance,
    Invocation,
    InvocationInstance,
)


@dataclass(frozen=True)
class RunCommandArgs:
    type: CommandType
    content: bytes
    instance_ids: tuple[str, ...]
    timeout: int
    access_key_id: str
    name: str = ""
    description: str = ""
    working_dir: str = ""
    username: str = ""
    launcher: str = ""
    repeat_mode: RepeatMode = RepeatMode.ONCE
    keep_command: bool = False
    enable_parameter: bool = False
    parameters: dict[str, str] = field(default_factory=dict)
    termination_mode: str = ""


@dataclass(frozen=True)
class TaskView:
    """A task with its command and per-instance rows, as the API and console show it."""

    invocation: Invocation
    command: Command
    instances: list[InvocationInstance]


def agent_absence_code(instance: Instance, now: int, online_window_ms: int) -> str | None:
    """Why the agent cannot take a task now, as a catalog code; None when it is online."""
    if instance.last_heartbeat_at is None:
        return "ClientNotRunning"
    if now - instance.last_heartbeat_at > online_window_ms:
        return "ClientNotOnline"
    return None


class InvocationService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def run_command(self, args: RunCommandArgs) -> tuple[str, str]:
        """Create the command and the task on every target in one transaction; returns
        (CommandId, InvokeId). Raises ApiError when a target is unknown (nothing is written)."""
        now = self._ctx.clock.now_ms()
        command = Command(
            id=ids.command_id(),
            name=args.name,
            description=args.description,
            type=args.type.value,
            content=args.content,
            working_dir=args.working_dir,
            timeout=args.timeout,
            enable_parameter=args.enable_parameter,
            launcher=args.launcher,
            kept=args.keep_command,
            created_at=now,
        )
        invoke_id = ids.invoke_id()

        def create(conn: Connection) -> list[InvocationInstance]:
            targets = fleet.instances_by_id(conn, args.instance_ids)
            missing = [
                i
                for i in args.instance_ids
                if i not in targets or targets[i].registration_state != "registered"
            ]
            if missing:
                raise ApiError(
                    "InvalidInstance.NotFound",
                    f"The specified instance does not exist or is not registered: {missing[0]}.",
                    404,
                )
            rows = [self._initial_row(invoke_id, targets[i], now) for i in args.instance_ids]
            invocation = Invocation(
                id=invoke_id,
                command_id=command.id,
                repeat_mode=args.repeat_mode.value,
                frequency="",
                timeout=args.timeout,
                working_dir=args.working_dir,
                username=args.username,
                parameters=json.dumps(args.parameters, ensure_ascii=False),
                termination_mode=args.termination_mode,
                status=overall_status(row.status for row in rows),
                access_key_id=args.access_key_id,
                created_at=now,
            )
            invocations.insert_command(conn, command)
            invocations.insert_invocation(conn, invocation, rows)
            fleet.count_invoked(conn, args.instance_ids, now)
            return rows

        rows = await self._ctx.db.write(create)
        for row in rows:
            if row.status is InstanceStatus.PENDING:
                await self._ctx.bus.publish(kick_topic(row.instance_id), invoke_id)
        return command.id, invoke_id

    def _initial_row(self, invoke_id: str, instance: Instance, now: int) -> InvocationInstance:
        absence = agent_absence_code(instance, now, self._ctx.limits.heartbeat_online_s * 1000)
        return InvocationInstance(
            invoke_id=invoke_id,
            instance_id=instance.id,
            status=InstanceStatus.ABORTED if absence else InstanceStatus.PENDING,
            error_code=absence or "",
            error_info=_absence_info(instance, absence),
            exit_code=None,
            output=b"",
            dropped=0,
            repeats=0,
            created_at=now,
            delivered_at=None,
            start_at=None,
            finish_at=now if absence else None,
            stop_at=None,
            update_at=now,
        )

    async def describe(
        self, where: invocations.InvocationFilter, page: PageQuery
    ) -> Page[TaskView]:
        def query(conn: Connection) -> Page[TaskView]:
            found = invocations.list_invocations(conn, where, page)
            rows = invocations.instances_of(conn, [i.id for i in found.items])
            cmds = invocations.commands_by_id(conn, [i.command_id for i in found.items])
            views = [TaskView(i, cmds[i.command_id], rows[i.id]) for i in found.items]
            return Page(items=views, total=found.total, next_key=found.next_key)

        return await self._ctx.db.read(query)

    async def results(
        self, where: invocations.ResultFilter, page: PageQuery
    ) -> tuple[Page[InvocationInstance], dict[str, Invocation], dict[str, Command]]:
        def query(
            conn: Connection,
        ) -> tuple[Page[InvocationInstance], dict[str, Invocation], dict[str, Command]]:
            found = invocations.list_results(conn, where, page)
            tasks = invocations.invocations_by_id(conn, [r.invoke_id for r in found.items])
            cmds = invocations.commands_by_id(conn, [t.command_id for t in tasks.values()])
            return found, tasks, cmds

        return await self._ctx.db.read(query)

    async def stop(self, invoke_id: str, instance_ids: Sequence[str]) -> None:
        """Ask every (or the given) instance of the task to stop; not started runs are cancelled."""
        now = self._ctx.clock.now_ms()

        def request_stop(conn: Connection) -> list[str]:
            if invocations.get_invocation(conn, invoke_id) is None:
                raise invoke_not_found()
            rows = invocations.instances_of(conn, [invoke_id])[invoke_id]
            known = {row.instance_id for row in rows}
            unknown = [i for i in instance_ids if i not in known]
            if unknown:
                raise ApiError(
                    "InvalidInstanceId.NotFound",
                    f"The instance {unknown[0]} is not a target of task {invoke_id}.",
                    404,
                )
            wanted = set(instance_ids) or known
            stopping: list[str] = []
            for row in rows:
                if row.instance_id not in wanted:
                    continue
                event = Event(EventKind.STOP_REQUESTED, delivered=row.delivered_at is not None)
                new = invocations.apply_event(
                    conn, invoke_id, row.instance_id, event, {"stop_at": now}, now
                )
                if new is InstanceStatus.STOPPING:
                    stopping.append(row.instance_id)
            return stopping

        stopping = await self._ctx.db.write(request_stop)
        for instance_id in stopping:
            await self._ctx.bus.publish(kick_topic(instance_id), invoke_id)


def _absence_info(instance: Instance, code: str | None) -> str:
    if code == "ClientNotRunning":
        return f"the agent of {instance.id} has never connected to this server."
    if code == "ClientNotOnline":
        return f"the agent of {instance.id} has not sent a heartbeat for more than two minutes."
    return ""
