"""Moving a rollout on: release held rows into free slots, or cancel them once the error budget
is spent (the rules are in lifecycle.rollout). Runs inside the transaction that created the task
or ended one of its rows, with the task row locked, so two finishes never both take one slot
and a restart finds the rollout exactly where the last commit left it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    LargeBinary,
    String,
    Table,
    Text,
    exists,
    insert,
    literal,
    select,
    update,
)

from openassist.protocol.statuses import InstanceStatus, RepeatMode
from openassist.server.lifecycle.rollout import BUDGET_SPENT, next_step, tally, tally_fire
from openassist.server.store.db import note_released
from openassist.server.store.schema.results import invocation_runs as _runs
from openassist.server.store.schema.tasks import invocation_instances as _ii
from openassist.server.store.schema.tasks import invocations as _tasks


def advance(
    conn: Connection,
    invoke_id: str,
    now: int,
    first: bool = False,
    tasks: Table = _tasks,
    rows: Table = _ii,
) -> None:
    """Release or cancel held rows of the task as its limits say; a task without limits (or
    without held rows) is left alone. A row released into a slot a finished target freed is
    handed out after the task's BatchWait; the ``first`` batch at once. ``tasks`` / ``rows``:
    the task's tables (commands by default, or send-file tasks). The caller refreshes the
    task's overall status."""
    c = tasks.c
    fire_columns = (c.repeat_mode, c.fires, c.fired_at) if "fires" in c else ()
    task = conn.execute(
        select(c.max_concurrency, c.max_errors, c.batch_wait, *fire_columns).where(
            c.id == invoke_id
        )
    ).first()
    if task is None or not (task.max_concurrency or task.max_errors):
        return
    fire = task.fires if fire_columns and task.repeat_mode == RepeatMode.PERIOD else None
    r = rows.c
    waiting: list[ColumnElement[bool]] = [
        r.invoke_id == invoke_id,
        r.held.is_(True),
        r.status == "Pending",
    ]
    if fire is None:
        found = conn.execute(select(r.status, r.held).where(r.invoke_id == invoke_id))
        counts = tally((InstanceStatus(x.status), bool(x.held)) for x in found)
    else:  # a server-fired Period task: this fire is the rollout (service.fires)
        found = conn.execute(
            select(r.status, r.held, r.fire, r.error_code).where(r.invoke_id == invoke_id)
        )
        counts = tally_fire(
            (InstanceStatus(x.status), bool(x.held), x.fire == fire, x.error_code) for x in found
        )
        waiting.append(r.fire == fire)
    if not counts.held:
        return
    step = next_step(task.max_concurrency, task.max_errors, counts)
    if step.cancel_reason:
        if fire is not None:  # each kept as a Cancelled run of the schedule's history
            told = f"fire {fire}: {step.cancel_reason}"
            _keep_cancelled(conn, waiting, task.fired_at or now, told, now)
        # The rest of a fire wait Scheduled for the next one; a one-shot task's end Cancelled.
        ended = {"finish_at": now} if fire is None else {}
        status = InstanceStatus.CANCELLED if fire is None else InstanceStatus.SCHEDULED
        conn.execute(
            update(rows)
            .where(*waiting)
            .values(
                status=status.value,
                held=False,
                error_code=BUDGET_SPENT,
                error_info=step.cancel_reason,
                update_at=now,
                **ended,
            )
        )
        reason = step.cancel_reason if fire is None else f"fire {fire}: {step.cancel_reason}"
        conn.execute(update(tasks).where(tasks.c.id == invoke_id).values(stop_reason=reason))
        return
    if not step.release:
        return
    chosen = conn.execute(
        select(r.instance_id).where(*waiting).order_by(r.instance_id).limit(step.release)
    ).all()
    due = now if first else now + task.batch_wait * 1000
    for (instance_id,) in chosen:
        conn.execute(
            update(rows)
            .where(r.instance_id == instance_id, *waiting)
            .values(held=False, released_at=due, update_at=now)
        )
        note_released(conn, instance_id, invoke_id, due)


def _keep_cancelled(
    conn: Connection, waiting: list[ColumnElement[bool]], fired_at: int, reason: str, now: int
) -> None:
    """The fire's targets its spent budget cancels, each as a Cancelled run of the history
    keyed by the fire's time (the StartTime a skipped fire shows too; nothing ran), in one
    statement. A record kept already for that fire (none should be) is left alone."""
    kept = select(_runs.c.instance_id).where(
        _runs.c.invoke_id == _ii.c.invoke_id,
        _runs.c.instance_id == _ii.c.instance_id,
        _runs.c.start_at == fired_at,
    )
    rows = select(
        _ii.c.invoke_id,
        _ii.c.instance_id,
        literal(fired_at, BigInteger),
        literal(InstanceStatus.CANCELLED.value, String),
        literal(BUDGET_SPENT, String),
        literal(reason, Text),
        literal(b"", LargeBinary),
        literal(0, BigInteger),
        literal(now, BigInteger),
        _ii.c.repeats,
    ).where(*waiting, ~exists(kept))
    columns = ["invoke_id", "instance_id", "start_at", "status", "error_code", "error_info"]
    columns += ["output", "dropped", "finish_at", "run_number"]
    conn.execute(insert(_runs).from_select(columns, rows))
