"""Moving a rollout on: release held rows into free slots, or cancel them once the error budget
is spent (the rules are in lifecycle.rollout). Runs inside the transaction that created the task
or ended one of its rows, with the task row locked, so two finishes never both take one slot
and a restart finds the rollout exactly where the last commit left it."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from openassist.protocol.statuses import InstanceStatus
from openassist.server.lifecycle.rollout import BUDGET_SPENT, next_step, tally
from openassist.server.store.db import note_released
from openassist.server.store.schema import invocation_instances as _ii
from openassist.server.store.schema import invocations as _tasks


def advance(conn: Connection, invoke_id: str, now: int, first: bool = False) -> None:
    """Release or cancel held rows of the task as its limits say; a task without limits (or
    without held rows) is left alone. A row released into a slot a finished target freed is
    handed out after the task's BatchWait; the ``first`` batch at once. The caller refreshes
    the task's overall status."""
    c = _tasks.c
    task = conn.execute(
        select(c.max_concurrency, c.max_errors, c.batch_wait).where(c.id == invoke_id)
    ).first()
    if task is None or not (task.max_concurrency or task.max_errors):
        return
    rows = conn.execute(select(_ii.c.status, _ii.c.held).where(_ii.c.invoke_id == invoke_id))
    counts = tally((InstanceStatus(r.status), bool(r.held)) for r in rows)
    if not counts.held:
        return
    step = next_step(task.max_concurrency, task.max_errors, counts)
    waiting = (_ii.c.invoke_id == invoke_id, _ii.c.held.is_(True), _ii.c.status == "Pending")
    if step.cancel_reason:
        conn.execute(
            update(_ii)
            .where(*waiting)
            .values(
                status=InstanceStatus.CANCELLED.value,
                held=False,
                error_code=BUDGET_SPENT,
                error_info=step.cancel_reason,
                finish_at=now,
                update_at=now,
            )
        )
        conn.execute(
            update(_tasks).where(_tasks.c.id == invoke_id).values(stop_reason=step.cancel_reason)
        )
        return
    if not step.release:
        return
    chosen = conn.execute(
        select(_ii.c.instance_id).where(*waiting).order_by(_ii.c.instance_id).limit(step.release)
    ).all()
    due = now if first else now + task.batch_wait * 1000
    for (instance_id,) in chosen:
        conn.execute(
            update(_ii)
            .where(_ii.c.instance_id == instance_id, *waiting)
            .values(held=False, released_at=due, update_at=now)
        )
        note_released(conn, instance_id, invoke_id, due)
