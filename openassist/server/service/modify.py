"""ModifyInvocationAttribute (API.md 5.10): change a timed task that is still going.

New content makes a new command (kept if the old one was); a new Frequency or new content
raises the task's invokeVersion, and each instance waiting for its next run is handed the task
again: the agent then replaces the schedule it holds. Added instances start like new targets.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import Connection

from openassist.catalog import api
from openassist.errors import (
    Conflict,
    Forbidden,
    InvalidParameter,
    LimitExceeded,
    NotFound,
)
from openassist.protocol.statuses import InstanceStatus, RepeatMode
from openassist.server.lifecycle import Event, EventKind
from openassist.server.service import ids, timed
from openassist.server.service.context import (
    ServiceContext,
    invoke_not_found,
    kick_topic,
)
from openassist.server.service.parameters import check_values
from openassist.server.store import fleet, invocations
from openassist.server.store.records import Instance, Invocation, InvocationInstance

MAX_INSTANCES = 100
NewRow = Callable[[Invocation, Instance, int], InvocationInstance]
_OPEN = ("Pending", "Running", "Scheduled", "Stopping")


@dataclass(frozen=True)
class Modification:
    invoke_id: str
    content: bytes | None = None
    enable_parameter: bool | None = None
    parameters: dict[str, str] | None = None
    frequency: str = ""
    add_instances: tuple[str, ...] = ()


def _check_task(task: Invocation | None, change: Modification) -> Invocation:
    if task is None:
        raise invoke_not_found()
    if task.repeat_mode not in timed.TIMED_MODES:
        raise Forbidden(api.MODIFY_NOT_TIMED, invoke_id=task.id, repeat_mode=task.repeat_mode)
    if task.status.value not in _OPEN:
        raise Conflict(api.MODIFY_FINISHED, invoke_id=task.id, status=task.status.value)
    if change.frequency and task.repeat_mode != RepeatMode.PERIOD:
        raise InvalidParameter(
            api.MODIFY_FREQUENCY_NOT_PERIOD, invoke_id=task.id, repeat_mode=task.repeat_mode
        )
    return task


async def modify(ctx: ServiceContext, change: Modification, new_row: NewRow) -> str:
    """Apply ``change``; returns the task's command id (a new one when the content changed)."""
    now = ctx.clock.now_ms()

    def apply(conn: Connection) -> tuple[str, list[str]]:
        task = _check_task(invocations.get_invocation(conn, change.invoke_id), change)
        command = invocations.commands_by_id(conn, [task.command_id])[task.command_id]
        if change.content is not None or change.enable_parameter is not None:
            command = replace(
                command,
                id=ids.command_id(),
                content=command.content if change.content is None else change.content,
                enable_parameter=(
                    command.enable_parameter
                    if change.enable_parameter is None
                    else change.enable_parameter
                ),
                created_at=now,
                invoke_times=1,
            )
            invocations.insert_command(conn, command)
        parameters = (
            json.loads(task.parameters or "{}") if change.parameters is None else change.parameters
        )
        try:
            check_values(command.content, command.enable_parameter, parameters)
        except (
            InvalidParameter,
            LimitExceeded,
        ) as refused:  # this action's own spelling of the same verdict
            raise InvalidParameter(api.MODIFY_PARAMETERS_REFUSED, reason=refused.message) from None
        frequency = change.frequency or task.frequency
        if change.frequency:
            frequency = timed.checked_frequency(
                change.frequency, now, task.timeout, ctx.limits, api.MODIFY_FREQUENCY_INVALID
            )
        rows = invocations.instances_of(conn, [task.id])[task.id]
        added = _added(conn, rows, change.add_instances)
        invocations.update_invocation(
            conn,
            task.id,
            {
                "command_id": command.id,
                "parameters": json.dumps(parameters, ensure_ascii=False),
                "frequency": frequency,
                "version": task.version + 1,
            },
        )
        kicks = []
        fired = timed.server_fired(task)  # the next fire hands out the new version
        if task.repeat_mode == RepeatMode.PERIOD and not fired:  # hand it to every agent
            event, undelivered = Event(EventKind.REARMED), {"delivered_at": None}
            for row in rows:
                if invocations.apply_event(conn, task.id, row.instance_id, event, undelivered, now):
                    kicks.append(row.instance_id)
        new_rows = [new_row(task, instance, now) for instance in added]
        if fired:  # they wait for the next fire too
            new_rows = [replace(r, status=timed.fire_wait(r.status)) for r in new_rows]
        invocations.add_rows(conn, new_rows)
        invocations.refresh_overall(conn, task.id)
        kicks += [r.instance_id for r in new_rows if r.status is InstanceStatus.PENDING]
        return command.id, kicks

    command_id, kicks = await ctx.db.write(apply)
    for instance_id in kicks:
        await ctx.bus.publish(kick_topic(instance_id), change.invoke_id)
    return command_id


def _added(
    conn: Connection, rows: list[InvocationInstance], wanted: tuple[str, ...]
) -> list[Instance]:
    known = {row.instance_id for row in rows}
    new_ids = [i for i in dict.fromkeys(wanted) if i not in known]
    if len(known) + len(new_ids) > MAX_INSTANCES:
        raise LimitExceeded(api.MODIFY_TOO_MANY_INSTANCES, limit=MAX_INSTANCES)
    found = fleet.instances_by_id(conn, new_ids)
    for instance_id in new_ids:
        if instance_id not in found:
            raise NotFound(api.MODIFY_INSTANCE_NOT_FOUND, instance_id=instance_id)
    return [found[i] for i in new_ids]
