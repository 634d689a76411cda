"""Rows of a task table that are not final yet, as the sweeper and the outage rules judge them
(for any kind of task: commands and send-file tasks keep their rows in tables of the same
shape, ``proposals.TaskTables``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, null, select

from openassist.protocol.statuses import InstanceStatus
from openassist.server.store.proposals import TaskTables
from openassist.server.store.schema.fleet import instances


@dataclass(frozen=True)
class ActiveRow:
    invoke_id: str
    instance_id: str
    status: InstanceStatus
    created_at: int  # when the row last became Pending (its creation, or a timed task's rearm)
    start_at: int | None
    stop_at: int | None
    timeout: int
    last_heartbeat_at: int | None
    delivered_at: int | None
    deliver_by: int | None = None  # the task's DeliveryDeadline, instead of the window


def _waiting_since(tables: TaskTables) -> ColumnElement[Any]:
    rows = tables.rows.c
    released_at = rows.get("released_at")
    if released_at is None:
        return rows.update_at
    return func.coalesce(released_at, rows.update_at)


def active_rows(conn: Connection, tables: TaskTables) -> list[ActiveRow]:
    """Every per-instance row not final yet, with its task's timeout and its agent's last
    heartbeat (what the sweeper judges)."""
    rows, tasks = tables.rows.c, tables.tasks.c
    stop_at, deliver_by = rows.get("stop_at"), rows.get("deliver_by")
    query = (
        select(
            rows.invoke_id,
            rows.instance_id,
            rows.status,
            # A Pending row's last change made it Pending: at creation, or when a timed task
            # was handed out again (a new boot, a modified schedule); a rollout's row waits
            # from when it is due (its release plus BatchWait).
            _waiting_since(tables).label("created_at"),
            rows.start_at,
            (stop_at if stop_at is not None else null()).label("stop_at"),
            rows.delivered_at,
            (deliver_by if deliver_by is not None else null()).label("deliver_by"),
            tasks.timeout,
            instances.c.last_heartbeat_at,
        )
        .join(tables.tasks, tasks.id == rows.invoke_id)
        .join(instances, instances.c.id == rows.instance_id)
        .where(rows.status.in_([s.value for s in InstanceStatus if not s.is_final]))
    )
    held = rows.get("held")
    if held is not None:  # a row a rollout holds back is not due anywhere yet
        query = query.where(held.is_(False))
    return [
        ActiveRow(
            r.invoke_id,
            r.instance_id,
            InstanceStatus(r.status),
            r.created_at,
            r.start_at,
            r.stop_at,
            r.timeout,
            r.last_heartbeat_at,
            r.delivered_at,
            r.deliver_by,
        )
        for r in conn.execute(query)
    ]


def undelivered_before(
    conn: Connection, tables: TaskTables, instance_id: str, created_before: int
) -> list[tuple[str, int]]:
    """(invoke id, created at) of the instance's waiting rows never handed out and created
    before ``created_before`` (those past their delivery window)."""
    rows = tables.rows.c
    held, released_at = rows.get("held"), rows.get("released_at")
    # A rollout's row waits from its release; one still held is not waiting for delivery.
    since = rows.created_at if released_at is None else func.coalesce(released_at, rows.created_at)
    query = select(rows.invoke_id, since.label("since")).where(
        rows.instance_id == instance_id,
        rows.status == InstanceStatus.PENDING.value,
        rows.delivered_at.is_(None),
        since < created_before,
    )
    if held is not None:
        query = query.where(held.is_(False))
    deliver_by = rows.get("deliver_by")
    if deliver_by is not None:  # waits for its DeliveryDeadline instead (see sweeps)
        query = query.where(deliver_by.is_(None))
    return [(r.invoke_id, r.since) for r in conn.execute(query)]
