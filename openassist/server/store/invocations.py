"""Queries on commands, invocations and their per-instance rows (the only place that builds SQL
for them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    exists,
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
from openassist.server.store import proposals
from openassist.server.store.paging import Page, PageQuery, fetch_page
from openassist.server.store.records import (
    Command,
    Invocation,
    InvocationInstance,
    command_from_row,
    invocation_from_row,
    invocation_values,
)
from openassist.server.store.schema import commands, invocation_instances, invocations
from openassist.server.store.tags import Tag, ids_tagged

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
    tags: tuple[Tag, ...] = ()
    created_from: int | None = None  # ms since the epoch, inclusive
    created_to: int | None = None  # ms since the epoch, exclusive
    timed: bool | None = None  # True: timed tasks still active; False: the others
    visible: tuple[str, ...] | None = None  # tasks on at least one of these instances; None: all


_TIMED_MODES = ("Period", "NextRebootOnly", "EveryReboot")
_ACTIVE_OVERALL = ("Pending", "Scheduled", "Running", "Stopping")


@dataclass(frozen=True)
class ResultFilter:
    invoke_id: str | None = None
    instance_id: str | None = None
    command_id: str | None = None
    record_status: InvokeRecordStatus | None = None
    visible: tuple[str, ...] | None = None  # rows of these instances only; None: all


def _invocation(row: Any) -> Invocation:
    return invocation_from_row(row)


def _instance_row(row: Any) -> InvocationInstance:
    data = dict(row._mapping)
    data["status"] = InstanceStatus(data["status"])
    return InvocationInstance(**data)


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
    conn.execute(invocations.insert().values(**invocation_values(invocation), status_counts=counts))
    conn.execute(_ii.insert(), [asdict(target) for target in targets])


def update_invocation(conn: Connection, invoke_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(invocations).where(invocations.c.id == invoke_id).values(**values))


def add_rows(conn: Connection, rows: Sequence[InvocationInstance]) -> None:
    if rows:
        conn.execute(_ii.insert(), [asdict(row) for row in rows])


def get_invocation(conn: Connection, invoke_id: str) -> Invocation | None:
    row = (conn.execute(select(invocations).where(invocations.c.id == invoke_id))).first()
    return _invocation(row) if row else None


def _on_instances(query: Select[Any], where: InvocationFilter) -> Select[Any]:
    """Tasks on the given instance, and on at least one instance the caller may see."""
    c = invocations.c
    if where.instance_id:
        # EXISTS, not IN (subquery): newest first, the database walks the tasks by creation
        # time and stops at the page's end instead of sorting every task of the instance.
        query = query.where(
            exists().where(_ii.c.invoke_id == c.id, _ii.c.instance_id == where.instance_id)
        )
    if where.visible is not None:
        query = query.where(
            c.id.in_(select(_ii.c.invoke_id).where(_ii.c.instance_id.in_(where.visible)))
        )
    return query


def _filtered_invocations(query: Select[Any], where: InvocationFilter) -> Select[Any]:
    c = invocations.c
    if where.invoke_id:
        query = query.where(c.id == where.invoke_id)
    if where.command_id:
        query = query.where(c.command_id == where.command_id)
    if where.command_type:
        query = query.where(
            c.command_id.in_(select(commands.c.id).where(commands.c.type == where.command_type))
        )
    query = _on_instances(query, where)
    if where.statuses:
        query = query.where(c.status.in_(where.statuses))
    if where.repeat_mode:
        query = query.where(c.repeat_mode == where.repeat_mode)
    if where.command_name:
        query = query.where(
            c.command_id.in_(select(commands.c.id).where(commands.c.name == where.command_name))
        )
    if where.tags:
        query = query.where(c.id.in_(ids_tagged("invocation", where.tags)))
    if where.created_from is not None:
        query = query.where(c.created_at >= where.created_from)
    if where.created_to is not None:
        query = query.where(c.created_at < where.created_to)
    if where.timed is not None:
        active_timed = and_(c.repeat_mode.in_(_TIMED_MODES), c.status.in_(_ACTIVE_OVERALL))
        query = query.where(active_timed if where.timed else not_(active_timed))
    return query


def list_invocations(
    conn: Connection, where: InvocationFilter, page: PageQuery
) -> Page[Invocation]:
    """Newest first; keyset on (created_at, id) so that paging returns each task exactly once."""
    c = invocations.c
    count = _filtered_invocations(select(func.count()).select_from(invocations), where)
    query = _filtered_invocations(select(invocations), where)
    return fetch_page(conn, query, count, (c.created_at, c.id), page, _invocation)


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


def _filtered_results(query: Select[Any], where: ResultFilter) -> Select[Any]:
    if where.invoke_id:
        query = query.where(_ii.c.invoke_id == where.invoke_id)
    if where.instance_id:
        query = query.where(_ii.c.instance_id == where.instance_id)
    if where.visible is not None:
        query = query.where(_ii.c.instance_id.in_(where.visible))
    if where.command_id:
        query = query.where(
            _ii.c.invoke_id.in_(
                select(invocations.c.id).where(invocations.c.command_id == where.command_id)
            )
        )
    if where.record_status is not None:
        query = query.where(record_condition(_ii, where.record_status))
    return query


def record_condition(table: Table, wanted: InvokeRecordStatus) -> ColumnElement[bool]:
    """SQL for ``record_status(status, error_code) == wanted`` (see lifecycle) on the rows of
    ``table`` (per-instance rows, or runs of timed tasks)."""
    statuses = [s.value for s, r in RECORD_BY_STATUS.items() if r is wanted]
    exited_nonzero = and_(
        table.c.status == InstanceStatus.FAILED.value, table.c.error_code == EXIT_CODE_NONZERO
    )
    condition = table.c.status.in_(statuses)
    if wanted is InvokeRecordStatus.FINISHED:
        return or_(condition, exited_nonzero)
    if wanted is InvokeRecordStatus.FAILED:
        return and_(condition, not_(exited_nonzero))
    return condition


def list_results(
    conn: Connection, where: ResultFilter, page: PageQuery
) -> Page[InvocationInstance]:
    """Newest first; keyset on (created_at, invoke_id, instance_id)."""
    key = (_ii.c.created_at, _ii.c.invoke_id, _ii.c.instance_id)
    count = _filtered_results(select(func.count()).select_from(_ii), where)
    query = _filtered_results(select(_ii), where)
    return fetch_page(conn, query, count, key, page, _instance_row)


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
    rollout's row only once released and due."""
    query = select(_ii).where(
        _ii.c.instance_id == instance_id,
        _ii.c.status == InstanceStatus.PENDING.value,
        _ii.c.held.is_(False),  # a rollout holds it back (see store.rollouts)
        _ii.c.released_at.is_(None) | (_ii.c.released_at <= now),  # its BatchWait is over
        (_ii.c.delivered_at.is_(None)) | (_ii.c.delivered_at < redeliver_before),
    )
    return [_instance_row(row) for row in conn.execute(query.order_by(_ii.c.created_at))]


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
