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
    Connection,
    Select,
    Table,
    Update,
    bindparam,
    case,
    func,
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


@dataclass(frozen=True)
class TaskTables:
    tasks: Table  # id, status
    rows: Table  # invoke_id, instance_id, status, update_at, ...


@dataclass(frozen=True)
class LockedTask:
    """What ``apply_event`` reads of a task row, as read under its lock (``FOR UPDATE``)."""

    status_counts: str | None
    max_concurrency: str = ""
    max_errors: str = ""


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
    locked: LockedTask | None = None,
    seen: InstanceStatus | None = None,
) -> InstanceStatus | None:
    """Propose ``event`` for one instance of a task; returns the new status, or None if refused.

    The update is a compare-and-set on the status that was read, so two writers (two nodes, or a
    late report racing a sweep) can never both win. The task row is locked first, so its status
    counts (``status_counts``: rows per status, from which ``lifecycle`` derives the overall
    status) move by exactly this row's change, without reading the task's other rows.

    A caller that read the task row under its lock in this transaction passes it (``locked``),
    and one that read the row passes its status (``seen``): each saves a statement. ``seen`` is
    tried first and read again if it was stale (the compare-and-set found another status, or
    the event does not apply to it), so a stale one costs a statement, never a wrong count.
    """
    tasks, rows = tables.tasks, tables.rows
    rollout = "max_concurrency" in tasks.c
    built = _statements(tables)
    task: Any = locked
    if task is None:
        task = conn.execute(built.lock_task, {"w_invoke_id": invoke_id}).first()
    guess = seen
    for _attempt in range(4 if guess is not None else 3):
        current = (
            guess if guess is not None else current_status(conn, tables, invoke_id, instance_id)
        )
        guessed, guess = guess is not None, None
        if current is None:
            return None
        new_status = transition(current, event)
        if new_status is None:
            if guessed:  # what the caller saw may be stale: ask again
                continue
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
