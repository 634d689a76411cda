"""Queries on commands, invocations and their per-instance rows (the only place that builds SQL
for them).

The statements every run goes through (create, hand out, report) are built once, with bound
parameters: building a statement and its cache key anew for each call cost SQLAlchemy ~50 us of
CPU per statement, several times what running it on SQLite costs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    bindparam,
    func,
    not_,
    or_,
    select,
    update,
)

from openassist.protocol.statuses import InstanceStatus, InvocationStatus, InvokeRecordStatus
from openassist.server.lifecycle import (
    EXIT_CODE_NONZERO,
    RECORD_BY_STATUS,
    Event,
)
from openassist.server.store import proposals, target_sets
from openassist.server.store.records import (
    Command,
    Invocation,
    InvocationInstance,
    column_values,
    command_from_row,
    invocation_from_row,
    invocation_values,
    result_from_row,
)
from openassist.server.store.schema.tasks import commands, invocation_instances, invocations
from openassist.server.store.tags import Tag

_ii = invocation_instances
TABLES = proposals.TaskTables(tasks=invocations, rows=invocation_instances)


@dataclass(frozen=True)
class InvocationFilter:
    invoke_id: str | None = None
    command_id: str | None = None
    command_type: str | None = None
    instance_id: str | None = None
    statuses: tuple[str, ...] | None = None
    repeat_mode: str | None = None
    command_name: str | None = None
    resource_group_id: str | None = None  # the ResourceGroupId given at creation
    tags: tuple[Tag, ...] = ()
    created_from: int | None = None  # ms since the epoch, inclusive
    created_to: int | None = None  # ms since the epoch, exclusive
    timed: bool | None = None  # True: timed tasks still active; False: the others
    visible: tuple[str, ...] | None = None  # tasks on at least one of these instances; None: all


@dataclass(frozen=True)
class ResultFilter:
    invoke_id: str | None = None
    instance_id: str | None = None
    command_id: str | None = None
    record_status: InvokeRecordStatus | None = None
    visible: tuple[str, ...] | None = None  # rows of these instances only; None: all


def _invocation(row: Any) -> Invocation:
    return invocation_from_row(row)


_instance_row = result_from_row

_INSERT_COMMAND = commands.insert()
_INSERT_TASK = invocations.insert()
_INSERT_ROWS = _ii.insert()
_COMMANDS = select(commands).where(commands.c.id.in_(bindparam("ids", expanding=True)))
_TASKS = select(invocations).where(invocations.c.id.in_(bindparam("ids", expanding=True)))
_TASK = select(invocations).where(invocations.c.id == bindparam("invoke_id"))
_ROW = select(_ii).where(
    _ii.c.invoke_id == bindparam("invoke_id"), _ii.c.instance_id == bindparam("instance_id")
)


def insert_command(conn: Connection, command: Command) -> None:
    conn.execute(_INSERT_COMMAND, column_values(command))


def commands_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Command]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(_COMMANDS, {"ids": wanted})
    return {row.id: command_from_row(row) for row in rows}


def insert_invocation(
    conn: Connection, invocation: Invocation, targets: Sequence[InvocationInstance]
) -> None:
    """Insert the task and all its per-instance rows (the caller's transaction makes it atomic)."""
    counts = proposals.encode_counts(target.status for target in targets)
    target_set = target_sets.ensure(conn, [target.instance_id for target in targets])
    values = {**invocation_values(invocation), "status_counts": counts, "target_set": target_set}
    conn.execute(_INSERT_TASK, values)
    conn.execute(_INSERT_ROWS, [column_values(target) for target in targets])


def update_invocation(conn: Connection, invoke_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(invocations).where(invocations.c.id == invoke_id).values(**values))


def add_rows(conn: Connection, rows: Sequence[InvocationInstance]) -> None:
    """New rows of existing tasks; each task's target set grows with them."""
    if not rows:
        return
    conn.execute(_INSERT_ROWS, [column_values(row) for row in rows])
    for invoke_id in sorted({row.invoke_id for row in rows}):
        members = select(_ii.c.instance_id).where(_ii.c.invoke_id == invoke_id)
        name = target_sets.ensure(conn, list(conn.scalars(members)))
        update_invocation(conn, invoke_id, {"target_set": name})


def get_invocation(conn: Connection, invoke_id: str) -> Invocation | None:
    row = conn.execute(_TASK, {"invoke_id": invoke_id}).first()
    return _invocation(row) if row else None


def instances_of(
    conn: Connection, invoke_ids: Iterable[str]
) -> dict[str, list[InvocationInstance]]:
    wanted = sorted(set(invoke_ids))
    result: dict[str, list[InvocationInstance]] = {invoke_id: [] for invoke_id in wanted}
    if not wanted:
        return result
    query = select(_ii).where(_ii.c.invoke_id.in_(wanted)).order_by(_ii.c.instance_id)
    for row in conn.execute(query):
        result[row.invoke_id].append(_instance_row(row))
    return result


def record_condition(table: Table, wanted: InvokeRecordStatus) -> ColumnElement[bool]:
    """SQL for ``record_status(status, error_code) == wanted`` (see lifecycle) on the rows of
    ``table`` (per-instance rows, or runs of timed tasks)."""
    return record_condition_on(table.c.status, table.c.error_code, wanted)


def record_condition_on(
    status: ColumnElement[Any], error_code: ColumnElement[Any], wanted: InvokeRecordStatus
) -> ColumnElement[bool]:
    """``record_condition`` on the given expressions of a row's status and error code."""
    statuses = [s.value for s, r in RECORD_BY_STATUS.items() if r is wanted]
    exited_nonzero = and_(status == InstanceStatus.FAILED.value, error_code == EXIT_CODE_NONZERO)
    condition = status.in_(statuses)
    if wanted is InvokeRecordStatus.FINISHED:
        return or_(condition, exited_nonzero)
    if wanted is InvokeRecordStatus.FAILED:
        return and_(condition, not_(exited_nonzero))
    return condition


def get_instance_row(
    conn: Connection, invoke_id: str, instance_id: str
) -> InvocationInstance | None:
    row = conn.execute(_ROW, {"invoke_id": invoke_id, "instance_id": instance_id}).first()
    return _instance_row(row) if row else None


def apply_event(
    conn: Connection,
    invoke_id: str,
    instance_id: str,
    event: Event,
    changes: dict[str, Any],
    now: int,
) -> InstanceStatus | None:
    """Propose ``event`` for one instance of a command task (see ``proposals.apply_event``)."""
    return proposals.apply_event(conn, TABLES, invoke_id, instance_id, event, changes, now)


def update_output(
    conn: Connection,
    invoke_id: str,
    instance_id: str,
    output: bytes,
    dropped: int,
    now: int,
) -> bool:
    """Replace the partial output of a run that is still going (no status change)."""
    result = conn.execute(
        update(_ii)
        .where(
            _ii.c.invoke_id == invoke_id,
            _ii.c.instance_id == instance_id,
            _ii.c.status.in_((InstanceStatus.RUNNING.value, InstanceStatus.STOPPING.value)),
        )
        .values(output=output, dropped=dropped, update_at=now)
    )
    return bool(result.rowcount)


def refresh_overall(conn: Connection, invoke_id: str) -> InvocationStatus:
    return proposals.refresh_overall(conn, TABLES, invoke_id)


def pending_for_instance(
    conn: Connection, instance_id: str, redeliver_before: int, now: int
) -> list[InvocationInstance]:
    """Rows to hand out in a task list: never delivered, or delivered before ``redeliver_before``
    and not yet confirmed by a report (acknowledged delivery: the task list is the truth); a
    rollout's row only once released and due. The rows are locked for the caller's claim and
    rows another transaction holds are left out (PostgreSQL; SQLite has one writer): two claims
    at once, on one node or two, never both hand out a row."""
    found = conn.execute(
        _PENDING,
        {"instance_id": instance_id, "now": now, "redeliver_before": redeliver_before},
    )
    return [_instance_row(row) for row in found]


_PENDING = (
    select(_ii)
    .where(
        _ii.c.instance_id == bindparam("instance_id"),
        _ii.c.status == InstanceStatus.PENDING.value,
        _ii.c.held.is_(False),  # a rollout holds it back (see store.rollouts)
        _ii.c.released_at.is_(None) | (_ii.c.released_at <= bindparam("now")),  # BatchWait over
        _ii.c.delivered_at.is_(None) | (_ii.c.delivered_at < bindparam("redeliver_before")),
    )
    .order_by(_ii.c.created_at)
    .with_for_update(skip_locked=True)
)
_c = _ii.c
_ANYTHING = (
    select(_c.invoke_id)
    .where(
        _c.instance_id == bindparam("instance_id"),
        (
            (_c.status == InstanceStatus.PENDING.value)
            & _c.held.is_(False)
            & (_c.released_at.is_(None) | (_c.released_at <= bindparam("now")))
            & (_c.delivered_at.is_(None) | (_c.delivered_at < bindparam("redeliver_before")))
        )
        | (_c.status == InstanceStatus.STOPPING.value),
    )
    .limit(1)
)
_DELIVERED = (
    update(_ii)
    .where(_c.invoke_id == bindparam("w_invoke_id"), _c.instance_id == bindparam("w_instance_id"))
    .values(delivered_at=bindparam("delivered_at"))
)
_STOPPING = select(_ii).where(
    _c.instance_id == bindparam("instance_id"), _c.status == InstanceStatus.STOPPING.value
)


def anything_for_instance(
    conn: Connection, instance_id: str, redeliver_before: int, now: int
) -> bool:
    """Whether a task list would hand the instance anything (``pending_for_instance`` or
    ``stopping_for_instance``): one indexed look, and no write, for the poll that finds none."""
    found = conn.execute(
        _ANYTHING,
        {"instance_id": instance_id, "now": now, "redeliver_before": redeliver_before},
    )
    return found.first() is not None


def mark_delivered(conn: Connection, rows: Sequence[InvocationInstance], now: int) -> None:
    if rows:
        keys = [
            {"w_invoke_id": row.invoke_id, "w_instance_id": row.instance_id, "delivered_at": now}
            for row in rows
        ]
        conn.execute(_DELIVERED, keys)


def stopping_for_instance(conn: Connection, instance_id: str) -> list[InvocationInstance]:
    return [_instance_row(row) for row in conn.execute(_STOPPING, {"instance_id": instance_id})]


def held_by_agent(conn: Connection, instance_id: str) -> list[InvocationInstance]:
    """Rows the instance's agent holds: a run it started (Running, Stopping) or a schedule it
    keeps (Scheduled)."""
    held = (InstanceStatus.RUNNING, InstanceStatus.STOPPING, InstanceStatus.SCHEDULED)
    query = select(_ii).where(
        _ii.c.instance_id == instance_id, _ii.c.status.in_([s.value for s in held])
    )
    return [_instance_row(row) for row in conn.execute(query)]


def invocations_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Invocation]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(_TASKS, {"ids": wanted})
    return {row.id: _invocation(row) for row in rows}


def end_active_on_instance(
    conn: Connection, instance_id: str, error_code: str, error_info: str, now: int
) -> list[str]:
    """End every command task still waiting or running on the instance (see
    ``proposals.end_active_rows``)."""
    return proposals.end_active_rows(conn, TABLES, instance_id, error_code, error_info, now)


def count_running(conn: Connection, instance_ids: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(instance_ids))
    if not wanted:
        return {}
    query = (
        select(_ii.c.instance_id, func.count())
        .where(
            _ii.c.instance_id.in_(wanted),
            _ii.c.status.in_((InstanceStatus.RUNNING.value, InstanceStatus.STOPPING.value)),
        )
        .group_by(_ii.c.instance_id)
    )
    return {row[0]: int(row[1]) for row in conn.execute(query)}
