"""Queries on send-file tasks and their per-instance rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select, update

from openassist.protocol.statuses import InstanceStatus, InvocationStatus
from openassist.server.store import proposals
from openassist.server.store.paging import Page, PageQuery, fetch_page
from openassist.server.store.records import FileTask, FileTaskInstance, column_values
from openassist.server.store.schema.files import file_task_instances, file_tasks

_t, _r = file_tasks, file_task_instances
TABLES = proposals.TaskTables(tasks=file_tasks, rows=file_task_instances)


def _task(row: Any) -> FileTask:
    data = dict(row._mapping)
    data.pop("status_counts", None)  # the store's own (see proposals)
    data["status"] = InvocationStatus(data["status"])
    return FileTask(**data)


def _row(row: Any) -> FileTaskInstance:
    data = dict(row._mapping)
    data["status"] = InstanceStatus(data["status"])
    return FileTaskInstance(**data)


def insert(conn: Connection, task: FileTask, rows: Sequence[FileTaskInstance]) -> None:
    counts = proposals.encode_counts(row.status for row in rows)
    conn.execute(_t.insert().values(**asdict(task), status_counts=counts))
    conn.execute(_r.insert(), [column_values(row) for row in rows])


@dataclass(frozen=True)
class FileTaskFilter:
    invoke_id: str | None = None
    instance_id: str | None = None
    name: str | None = None
    status: str | None = None
    visible: tuple[str, ...] | None = None  # tasks on at least one of these instances; None: all


def _filtered(query: Select[Any], where: FileTaskFilter) -> Select[Any]:
    if where.invoke_id:
        query = query.where(_t.c.id == where.invoke_id)
    if where.visible is not None:
        query = query.where(
            _t.c.id.in_(select(_r.c.invoke_id).where(_r.c.instance_id.in_(where.visible)))
        )
    if where.instance_id:
        query = query.where(
            _t.c.id.in_(select(_r.c.invoke_id).where(_r.c.instance_id == where.instance_id))
        )
    if where.name:
        query = query.where(_t.c.name == where.name)
    if where.status:
        query = query.where(_t.c.status == where.status)
    return query


def list_tasks(conn: Connection, where: FileTaskFilter, page: PageQuery) -> Page[FileTask]:
    count = _filtered(select(func.count()).select_from(_t), where)
    return fetch_page(
        conn, _filtered(select(_t), where), count, (_t.c.created_at, _t.c.id), page, _task
    )


def rows_of(conn: Connection, invoke_ids: Iterable[str]) -> dict[str, list[FileTaskInstance]]:
    wanted = sorted(set(invoke_ids))
    found: dict[str, list[FileTaskInstance]] = {invoke_id: [] for invoke_id in wanted}
    if wanted:
        query = select(_r).where(_r.c.invoke_id.in_(wanted)).order_by(_r.c.instance_id)
        for row in conn.execute(query):
            found[row.invoke_id].append(_row(row))
    return found


def any_pending(conn: Connection, instance_id: str, redeliver_before: int, now: int) -> bool:
    """Whether ``claim_pending`` would find anything (no write for the poll that finds none)."""
    keys = {"instance_id": instance_id, "now": now, "redeliver_before": redeliver_before}
    return conn.execute(_ANY_PENDING, keys).first() is not None


# Built once: every task-list fetch asks (see store/invocations.py).
_ANY_PENDING = (
    select(_r.c.invoke_id)
    .where(
        _r.c.instance_id == bindparam("instance_id"),
        _r.c.status == InstanceStatus.PENDING.value,
        _r.c.held.is_(False),
        _r.c.released_at.is_(None) | (_r.c.released_at <= bindparam("now")),
        _r.c.delivered_at.is_(None) | (_r.c.delivered_at < bindparam("redeliver_before")),
    )
    .limit(1)
)


@dataclass(frozen=True)
class Claimed:
    """What an agent's fetch does with an instance's waiting send-file rows."""

    tasks: list[FileTask]  # handed out now
    overdue: list[tuple[str, int]]  # (invoke id, waiting since): past the delivery window
    too_late: list[tuple[str, int]]  # (invoke id, deliver by): past the DeliveryDeadline


def claim_pending(
    conn: Connection, instance_id: str, redeliver_before: int, now: int, overdue_before: int
) -> Claimed:
    """Send-file tasks to hand to the agent (new, or handed out and not confirmed; a rollout's
    row only once released and due), and those never handed out that waited past their
    delivery window (from their release, for a rollout's row) or past their task's
    DeliveryDeadline: these are not handed out (the caller ends them)."""
    found = conn.execute(
        select(
            _r.c.invoke_id, _r.c.created_at, _r.c.delivered_at, _r.c.released_at, _r.c.deliver_by
        )
        .where(
            _r.c.instance_id == instance_id,
            _r.c.status == InstanceStatus.PENDING.value,
            _r.c.held.is_(False),  # a rollout holds it back (see store.rollouts)
            _r.c.released_at.is_(None) | (_r.c.released_at <= now),  # its BatchWait is over
            _r.c.delivered_at.is_(None) | (_r.c.delivered_at < redeliver_before),
        )
        # Locked for this claim, and rows another claim holds left out (as the task list's,
        # ``invocations.pending_for_instance``): each row is handed out once.
        .with_for_update(skip_locked=True)
    ).all()
    never = [r for r in found if r.delivered_at is None]
    too_late = [(r.invoke_id, r.deliver_by) for r in never if r.deliver_by and now > r.deliver_by]
    overdue = [
        (r.invoke_id, r.released_at or r.created_at)
        for r in never
        if r.deliver_by is None and (r.released_at or r.created_at) < overdue_before
    ]
    ended = {invoke_id for invoke_id, _ in (*overdue, *too_late)}
    pending = [r.invoke_id for r in found if r.invoke_id not in ended]
    if not pending:
        return Claimed([], overdue, too_late)
    conn.execute(
        update(_r)
        .where(_r.c.instance_id == instance_id, _r.c.invoke_id.in_(pending))
        .values(delivered_at=now)
    )
    tasks = [_task(row) for row in conn.execute(select(_t).where(_t.c.id.in_(pending)))]
    return Claimed(tasks, overdue, too_late)
