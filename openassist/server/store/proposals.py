"""Applying a state-machine event to one per-instance row, for any kind of task (commands and
send-file tasks keep their rows in tables of the same shape)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Connection,
    Select,
    Table,
    Update,
    bindparam,
    case,
    func,
    null,
    select,
    update,
)

from openassist.protocol.statuses import InstanceStatus, InvocationStatus
from openassist.server.lifecycle import (
    Event,
    EventKind,
    StatusCounts,
    count_statuses,
    moved,
    overall_from_counts,
    transition,
)
from openassist.server.store import rollouts
from openassist.server.store.db import note_task_changed
from openassist.server.store.schema.fleet import instances


@dataclass(frozen=True)
class TaskTables:
    tasks: Table  # id, status
    rows: Table  # invoke_id, instance_id, status, update_at, ...


@dataclass(frozen=True)
class _Statements:
    """What every report runs, built once per pair of tables: building a statement and its
    cache key anew cost SQLAlchemy more CPU than running it on SQLite."""

    lock_task: Select[Any]  # the task's counts (and rollout limits), FOR UPDATE
    status: Select[Any]  # one row's status
    set_row: Update  # compare-and-set of one row; SET from the parameters' other keys
    move_counts: Update  # the task's status, counts and cursor at once
    bump_seq: Update
    results: Select[Any]  # results_state's read


@functools.cache
def _statements(tables: TaskTables) -> _Statements:
    tasks, rows = tables.tasks, tables.rows
    columns = [tasks.c.status_counts]
    if "max_concurrency" in tasks.c:
        columns += [tasks.c.max_concurrency, tasks.c.max_errors]
    task_is = tasks.c.id == bindparam("w_invoke_id")
    row_is = (rows.c.invoke_id == bindparam("w_invoke_id")) & (
        rows.c.instance_id == bindparam("w_instance_id")
    )
    return _Statements(
        lock_task=select(*columns).where(task_is).with_for_update(),
        status=select(rows.c.status).where(row_is),
        set_row=update(rows).where(row_is, rows.c.status == bindparam("w_status")),
        move_counts=update(tasks)
        .where(task_is)
        .values(
            status=bindparam("status"),
            status_counts=bindparam("status_counts"),
            results_seq=tasks.c.results_seq + 1,
        ),
        bump_seq=update(tasks).where(task_is).values(results_seq=tasks.c.results_seq + 1),
        results=select(tasks.c.results_seq, tasks.c.status, tasks.c.status_counts).where(task_is),
    )


def current_status(
    conn: Connection, tables: TaskTables, invoke_id: str, instance_id: str
) -> InstanceStatus | None:
    keys = {"w_invoke_id": invoke_id, "w_instance_id": instance_id}
    found = conn.execute(_statements(tables).status, keys).first()
    return InstanceStatus(found.status) if found else None


def encode_counts(statuses: Iterable[InstanceStatus]) -> str:
    """The ``status_counts`` column of a new task with rows in ``statuses``."""
    return _encoded(count_statuses(statuses))


def _encoded(counts: StatusCounts) -> str:
    return json.dumps({status.value: n for status, n in sorted(counts.items())})


def decoded_counts(text: str | None) -> StatusCounts | None:
    """A task's ``status_counts`` column read; None when it has none (see ``_decoded``)."""
    return _decoded(text)


def _decoded(text: str | None) -> StatusCounts | None:
    """None for a task without counts (created before they were kept) or with unreadable ones."""
    if not text:
        return None
    try:
        return {InstanceStatus(status): int(n) for status, n in json.loads(text).items()}
    except (ValueError, TypeError, AttributeError):
        return None


def refresh_overall(conn: Connection, tables: TaskTables, invoke_id: str) -> InvocationStatus:
    """Count the task's rows again and set its overall status from them (after changes to many
    rows at once; one row's change moves the counts instead, see ``apply_event``)."""
    rows = conn.execute(select(tables.rows.c.status).where(tables.rows.c.invoke_id == invoke_id))
    counts = count_statuses(InstanceStatus(row.status) for row in rows)
    status = overall_from_counts(counts)
    conn.execute(
        update(tables.tasks)
        .where(tables.tasks.c.id == invoke_id)
        .values(status=status.value, status_counts=_encoded(counts))
    )
    return status


def _count_move(
    conn: Connection,
    tables: TaskTables,
    invoke_id: str,
    counts: StatusCounts | None,
    old: InstanceStatus,
    new: InstanceStatus,
) -> None:
    """One row went from ``old`` to ``new``: move the task's counts and set its overall status
    and change cursor in one statement, reading no other row (counts missing or stale: count)."""
    after = moved(counts, old, new) if counts is not None else None
    if after is None:
        refresh_overall(conn, tables, invoke_id)
        bump_results_seq(conn, tables, invoke_id)
        return
    values = {
        "w_invoke_id": invoke_id,
        "status": overall_from_counts(after).value,
        "status_counts": _encoded(after),
    }
    conn.execute(_statements(tables).move_counts, values)
    note_task_changed(conn, invoke_id)


def bump_results_seq(conn: Connection, tables: TaskTables, invoke_id: str) -> None:
    """A row of the task changed: move its cursor, and wake its waiters after the commit."""
    conn.execute(_statements(tables).bump_seq, {"w_invoke_id": invoke_id})
    note_task_changed(conn, invoke_id)


@dataclass(frozen=True)
class ResultsState:
    """Where a task's results stand: its change cursor, overall status and row counts."""

    seq: int
    status: str
    finished: int  # rows in a final status
    total: int


def results_state(conn: Connection, tables: TaskTables, invoke_id: str) -> ResultsState | None:
    """None if there is no such task."""
    rows = tables.rows
    task = conn.execute(_statements(tables).results, {"w_invoke_id": invoke_id}).first()
    if task is None:
        return None
    counts = _decoded(task.status_counts)
    if counts is not None:  # moved in the transactions that changed the rows: no scan
        finished = sum(n for status, n in counts.items() if status.is_final)
        return ResultsState(int(task.results_seq), str(task.status), finished, sum(counts.values()))
    final = [s.value for s in InstanceStatus if s.is_final]
    counted = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((rows.c.status.in_(final), 1), else_=0)), 0),
        ).where(rows.c.invoke_id == invoke_id)
    ).one()
    return ResultsState(int(task.results_seq), str(task.status), int(counted[1]), int(counted[0]))


def apply_event(
    conn: Connection,
    tables: TaskTables,
    invoke_id: str,
    instance_id: str,
    event: Event,
    changes: dict[str, Any],
    now: int,
) -> InstanceStatus | None:
    """Propose ``event`` for one instance of a task; returns the new status, or None if refused.

    The update is a compare-and-set on the status that was read, so two writers (two nodes, or a
    late report racing a sweep) can never both win. The task row is locked first, so its status
    counts (``status_counts``: rows per status, from which ``lifecycle`` derives the overall
    status) move by exactly this row's change, without reading the task's other rows.
    """
    tasks, rows = tables.tasks, tables.rows
    rollout = "max_concurrency" in tasks.c
    built = _statements(tables)
    task = conn.execute(built.lock_task, {"w_invoke_id": invoke_id}).first()
    for _attempt in range(3):
        current = current_status(conn, tables, invoke_id, instance_id)
        if current is None:
            return None
        new_status = transition(current, event)
        if new_status is None:
            return None
        result = _set_row(conn, tables, invoke_id, instance_id, current, new_status, now, changes)
        if result == 1:
            limited = task is not None and rollout and (task.max_concurrency or task.max_errors)
            # A run ends: the row is final, or (a server-fired schedule) back to Scheduled.
            run_ended = new_status.is_final or (
                new_status is InstanceStatus.SCHEDULED and current is not InstanceStatus.SCHEDULED
            )
            if run_ended and limited:
                # A slot freed, or a failure counted.
                rollouts.advance(conn, invoke_id, now, tasks=tasks, rows=rows)
            if limited:  # the rollout may have cancelled held rows too: count them all
                refresh_overall(conn, tables, invoke_id)
                bump_results_seq(conn, tables, invoke_id)
            elif new_status is not current:
                counts = _decoded(task.status_counts) if task is not None else None
                _count_move(conn, tables, invoke_id, counts, current, new_status)
            else:
                bump_results_seq(conn, tables, invoke_id)
            return new_status
    return None


def _set_row(
    conn: Connection,
    tables: TaskTables,
    invoke_id: str,
    instance_id: str,
    current: InstanceStatus,
    new: InstanceStatus,
    now: int,
    changes: dict[str, Any],
) -> int:
    """The compare-and-set of ``apply_event``; how many rows it changed (0 or 1)."""
    if any(isinstance(value, ClauseElement) for value in changes.values()):
        rows = tables.rows  # a change computed in SQL: a statement of its own
        statement = (
            update(rows)
            .where(
                rows.c.invoke_id == invoke_id,
                rows.c.instance_id == instance_id,
                rows.c.status == current.value,
            )
            .values(status=new.value, update_at=now, **changes)
        )
        return int(conn.execute(statement).rowcount)
    keys = {"w_invoke_id": invoke_id, "w_instance_id": instance_id, "w_status": current.value}
    values = {**changes, "status": new.value, "update_at": now, **keys}
    return int(conn.execute(_statements(tables).set_row, values).rowcount)


def end_active_rows(
    conn: Connection,
    tables: TaskTables,
    instance_id: str,
    error_code: str,
    error_info: str,
    now: int,
) -> list[str]:
    """End every task of ``tables`` still waiting or running on the instance with
    ``error_code``: not started ones are Aborted, started ones Failed (a rollout's slot frees,
    and its held rows end too). Returns the invoke ids changed."""
    rows = tables.rows.c
    query = select(rows.invoke_id, rows.status).where(
        rows.instance_id == instance_id,
        rows.status.in_([s.value for s in InstanceStatus if not s.is_final]),
    )
    changed = []
    for row in conn.execute(query).all():
        started = row.status in (InstanceStatus.RUNNING.value, InstanceStatus.STOPPING.value)
        event = Event(EventKind.FAILED if started else EventKind.ABORTED)
        changes = {"error_code": error_code, "error_info": error_info, "finish_at": now}
        if apply_event(conn, tables, row.invoke_id, instance_id, event, changes, now):
            changed.append(row.invoke_id)
    return changed


def claim_task(conn: Connection, tables: TaskTables, invoke_id: str) -> bool:
    """Lock a task's row for this transaction unless another holds it (another node's sweep,
    an agent's report): False then, and the caller leaves the task to that transaction.
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer, so the lock is its own."""
    tasks = tables.tasks
    query = select(tasks.c.id).where(tasks.c.id == invoke_id).with_for_update(skip_locked=True)
    return conn.execute(query).first() is not None


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
