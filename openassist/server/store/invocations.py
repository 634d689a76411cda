"""Queries on commands, invocations and their per-instance rows (the only place that builds SQL
for them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
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


def insert_command(conn: Connection, command: Command) -> None:
    conn.execute(commands.insert().values(**asdict(command)))


def commands_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Command]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(select(commands).where(commands.c.id.in_(wanted)))
    return {row.id: command_from_row(row) for row in rows}


def insert_invocation(
    conn: Connection, invocation: Invocation, targets: Sequence[InvocationInstance]
) -> None:
    """Insert the task and all its per-instance rows (the caller's transaction makes it atomic)."""
    counts = proposals.encode_counts(target.status for target in targets)
    conn.execute(
        invocations.insert().values(
            **invocation_values(invocation),
            status_counts=counts,
            target_set=target_sets.ensure(conn, [target.instance_id for target in targets]),
        )
    )
    conn.execute(_ii.insert(), [asdict(target) for target in targets])


def update_invocation(conn: Connection, invoke_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(invocations).where(invocations.c.id == invoke_id).values(**values))


def add_rows(conn: Connection, rows: Sequence[InvocationInstance]) -> None:
    """New rows of existing tasks; each task's target set grows with them."""
    if not rows:
        return
    conn.execute(_ii.insert(), [asdict(row) for row in rows])
    for invoke_id in sorted({row.invoke_id for row in rows}):
        members = select(_ii.c.instance_id).where(_ii.c.invoke_id == invoke_id)
        name = target_sets.ensure(conn, list(conn.scalars(members)))
        update_invocation(conn, invoke_id, {"target_set": name})


def get_invocation(conn: Connection, invoke_id: str) -> Invocation | None:
    row = (conn.execute(select(invocations).where(invocations.c.id == invoke_id))).first()
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
    query = select(_ii).where(_ii.c.invoke_id == invoke_id, _ii.c.instance_id == instance_id)
    row = (conn.execute(query)).first()
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
    query = select(_ii).where(
        _ii.c.instance_id == instance_id,
        _ii.c.status == InstanceStatus.PENDING.value,
        _ii.c.held.is_(False),  # a rollout holds it back (see store.rollouts)
        _ii.c.released_at.is_(None) | (_ii.c.released_at <= now),  # its BatchWait is over
        (_ii.c.delivered_at.is_(None)) | (_ii.c.delivered_at < redeliver_before),
    )
    query = query.order_by(_ii.c.created_at).with_for_update(skip_locked=True)
    return [_instance_row(row) for row in conn.execute(query)]


def anything_for_instance(
    conn: Connection, instance_id: str, redeliver_before: int, now: int
) -> bool:
    """Whether a task list would hand the instance anything (``pending_for_instance`` or
    ``stopping_for_instance``): one indexed look, and no write, for the poll that finds none."""
    c = _ii.c
    pending = (
        (c.status == InstanceStatus.PENDING.value)
        & c.held.is_(False)
        & (c.released_at.is_(None) | (c.released_at <= now))
        & (c.delivered_at.is_(None) | (c.delivered_at < redeliver_before))
    )
    stopping = c.status == InstanceStatus.STOPPING.value
    query = select(c.invoke_id).where(c.instance_id == instance_id, pending | stopping).limit(1)
    return conn.execute(query).first() is not None


def mark_delivered(conn: Connection, rows: Sequence[InvocationInstance], now: int) -> None:
    for row in rows:
        conn.execute(
            update(_ii)
            .where(_ii.c.invoke_id == row.invoke_id, _ii.c.instance_id == row.instance_id)
            .values(delivered_at=now)
        )


def stopping_for_instance(conn: Connection, instance_id: str) -> list[InvocationInstance]:
    query = select(_ii).where(
        _ii.c.instance_id == instance_id, _ii.c.status == InstanceStatus.STOPPING.value
    )
    return [_instance_row(row) for row in conn.execute(query)]


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
    rows = conn.execute(select(invocations).where(invocations.c.id.in_(wanted)))
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
