"""The reads of an agent's task-list fetch, each in one statement.

During a fan-out every agent fetches at once, and each statement is a round trip to the
database and, in this process, SQLAlchemy's work of building, keying and running it (issue 20:
most of the server's CPU per result). So the look that finds whether anything waits asks about
tasks and files in one statement, and the claim reads the rows to run, the rows to stop, their
tasks and commands in one, where it took four. The statements are built once, with bound
parameters: building a statement and its cache key on each call cost as much as running it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, exists, select

from openassist.protocol.statuses import InstanceStatus
from openassist.server.store.records import (
    Command,
    Invocation,
    InvocationInstance,
    command_from_mapping,
    invocation_from_mapping,
    result_from_mapping,
)
from openassist.server.store.schema.files import file_task_instances
from openassist.server.store.schema.tasks import commands, invocation_instances, invocations

_PENDING, _STOPPING = InstanceStatus.PENDING.value, InstanceStatus.STOPPING.value


def _due(rows: Any) -> Any:
    """A row waiting to be handed out now (parameters ``now``, ``redeliver_before``): never
    handed out, or handed out before ``redeliver_before`` and not confirmed by a report
    (acknowledged delivery: the task list is the truth); a rollout's row only once released and
    due."""
    return (
        (rows.status == _PENDING)
        & rows.held.is_(False)  # a rollout holds it back (see store.rollouts)
        & (rows.released_at.is_(None) | (rows.released_at <= bindparam("now")))  # BatchWait over
        & (rows.delivered_at.is_(None) | (rows.delivered_at < bindparam("redeliver_before")))
    )


_ii, _fi = invocation_instances.c, file_task_instances.c
_mine = _ii.instance_id == bindparam("instance_id")
_WAITING = select(
    exists().where(_mine, _due(_ii) | (_ii.status == _STOPPING)).label("tasks"),
    exists().where(_fi.instance_id == bindparam("instance_id"), _due(_fi)).label("files"),
)

_II_NAMES = [column.name for column in invocation_instances.c]
_TASK_NAMES = [column.name for column in invocations.c]
_COMMAND_NAMES = [column.name for column in commands.c]
# Rows to run and rows to stop, each with its task and command. The rows are locked for the
# caller's claim and rows another transaction holds are left out (PostgreSQL; SQLite has one
# writer): two claims at once, on one node or two, never both hand out a row. A Stopping row
# another transaction holds (its report, a sweep) is left for the next fetch: that transaction
# ends it, or it is Stopping still then.
_CLAIM = (
    select(invocation_instances, invocations, commands)
    .join(invocations, invocations.c.id == _ii.invoke_id)
    .join(commands, commands.c.id == invocations.c.command_id)
    .where(_mine, _due(_ii) | (_ii.status == _STOPPING))
    .order_by(_ii.created_at)
    .with_for_update(of=invocation_instances, skip_locked=True)
)


@dataclass(frozen=True)
class Waiting:
    tasks: bool  # a command task to run or stop
    files: bool  # a file to send

    def __bool__(self) -> bool:
        return self.tasks or self.files


def waiting(conn: Connection, instance_id: str, redeliver_before: int, now: int) -> Waiting:
    """What a task list would hand the instance: tasks to run or stop (``claim_rows``), files
    to send (``files.claim_pending``); one indexed look, and no write, for the poll that finds
    none."""
    params = {"instance_id": instance_id, "redeliver_before": redeliver_before, "now": now}
    found = conn.execute(_WAITING, params).one()
    return Waiting(bool(found.tasks), bool(found.files))


@dataclass(frozen=True)
class ClaimRows:
    pending: list[InvocationInstance]  # oldest first
    stopping: list[InvocationInstance]
    tasks: dict[str, Invocation]  # of both, by id
    commands: dict[str, Command]  # of those tasks, by id


def claim_rows(conn: Connection, instance_id: str, redeliver_before: int, now: int) -> ClaimRows:
    """The instance's rows waiting to be handed out (see ``_due``), locked for the caller's
    claim, and those Stopping, with their tasks and commands."""
    params = {"instance_id": instance_id, "redeliver_before": redeliver_before, "now": now}
    claim = ClaimRows([], [], {}, {})
    tasks_at = len(_II_NAMES)
    commands_at = tasks_at + len(_TASK_NAMES)
    for found in conn.execute(_CLAIM, params):
        row = result_from_mapping(_named(_II_NAMES, found[:tasks_at]))
        (claim.stopping if row.status is InstanceStatus.STOPPING else claim.pending).append(row)
        if row.invoke_id not in claim.tasks:
            task = invocation_from_mapping(_named(_TASK_NAMES, found[tasks_at:commands_at]))
            claim.tasks[task.id] = task
            command = command_from_mapping(_named(_COMMAND_NAMES, found[commands_at:]))
            claim.commands[command.id] = command
    return claim


def _named(names: list[str], values: Any) -> Mapping[str, Any]:
    return dict(zip(names, values, strict=True))
