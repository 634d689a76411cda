"""Queries of server-fired Period tasks (a Period task given rollout limits; see service.fires)."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from openassist.protocol.statuses import InstanceStatus, InvocationStatus, RepeatMode
from openassist.server.store.records import Invocation, invocation_from_row
from openassist.server.store.schema.tasks import invocation_instances as _ii
from openassist.server.store.schema.tasks import invocations as _t


def live_tasks(conn: Connection) -> list[Invocation]:
    """Server-fired tasks that have not ended."""
    ended = [s.value for s in InvocationStatus if s.is_final]
    query = select(_t).where(
        _t.c.repeat_mode == RepeatMode.PERIOD.value,
        (_t.c.max_concurrency != "") | (_t.c.max_errors != ""),
        _t.c.status.not_in(ended),
    )
    return [invocation_from_row(row) for row in conn.execute(query)]


def mark_fired(conn: Connection, invoke_id: str, fires: int, now: int) -> None:
    """The task's fire number ``fires`` starts now (a new rollout: no stop reason yet)."""
    conn.execute(
        update(_t).where(_t.c.id == invoke_id).values(fires=fires, fired_at=now, stop_reason="")
    )


def mark_skipped(conn: Connection, invoke_id: str, now: int) -> None:
    """The fires due until ``now`` were skipped: the next is the schedule's next time after it."""
    conn.execute(update(_t).where(_t.c.id == invoke_id).values(fired_at=now))


def waiting_rows(conn: Connection, invoke_id: str) -> list[tuple[str, int | None]]:
    """(instance id, last exit code) of the task's rows waiting Scheduled for a fire."""
    query = select(_ii.c.instance_id, _ii.c.exit_code).where(
        _ii.c.invoke_id == invoke_id, _ii.c.status == InstanceStatus.SCHEDULED.value
    )
    return [(row.instance_id, row.exit_code) for row in conn.execute(query)]


def carry_held(conn: Connection, invoke_id: str, fire: int) -> None:
    """Targets the last fire still held (never started) join fire ``fire`` instead."""
    conn.execute(
        update(_ii)
        .where(
            _ii.c.invoke_id == invoke_id,
            _ii.c.held.is_(True),
            _ii.c.status == InstanceStatus.PENDING.value,
        )
        .values(fire=fire)
    )


def lock_task(conn: Connection, invoke_id: str) -> Invocation | None:
    """The task, its row locked for this transaction (as an agent's report locks it)."""
    row = conn.execute(select(_t).where(_t.c.id == invoke_id).with_for_update()).first()
    return invocation_from_row(row) if row else None
