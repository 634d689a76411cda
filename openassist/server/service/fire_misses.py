"""A fire of a server-fired schedule (service.fires) that a target misses ends for that target
only: what a one-shot task's row would end as (Aborted with its agent's code, or Error with
ClientNotResponse) is kept as a run of the schedule's history, and the row waits Scheduled for
the next fire, which hands it out again. Only deregistration and a stop take a target out of
the schedule for good.

The server's verdicts go through ``end_row`` instead of ``proposals.apply_event``: the
sweeper's (delivery window, DeliveryDeadline, silence while running), an outage settled and an
agent that came back past its fire's DeliveryDeadline. A miss counts against its fire's error
budget as the failed run of a one-shot rollout would (lifecycle.rollout.tally_fire).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from openassist.protocol.statuses import InstanceStatus
from openassist.server.lifecycle import Event, EventKind, transition
from openassist.server.service import timed
from openassist.server.store import fires, invocations, proposals, runs
from openassist.server.store.records import InvocationInstance, InvocationRun

# The verdicts a fire can miss with, from the states where the row is this fire's run.
_MISSES = {
    EventKind.ABORTED: InstanceStatus.PENDING,  # never handed out or never taken
    EventKind.ERRORED: InstanceStatus.RUNNING,  # the agent went silent during the run
}


def end_row(
    conn: Connection,
    tables: proposals.TaskTables,
    invoke_id: str,
    instance_id: str,
    event: Event,
    changes: dict[str, Any],
    now: int,
) -> InstanceStatus | None:
    """Apply a server verdict to one row: a server-fired schedule's row misses this fire only,
    any other ends as ``proposals.apply_event`` says. Returns the new status, or None."""
    if tables is invocations.TABLES and event.kind in _MISSES:
        task = fires.lock_task(conn, invoke_id)  # reports lock it too: the row holds still
        current = invocations.get_instance_row(conn, invoke_id, instance_id)
        # A row stopping (a stop the agent never confirmed) ends as any task's would.
        this_fire = current is not None and current.status is _MISSES[event.kind]
        if task is not None and current is not None and this_fire and timed.server_fired(task):
            return _miss(conn, current, event, changes, now)
    return proposals.apply_event(conn, tables, invoke_id, instance_id, event, changes, now)


def _miss(
    conn: Connection,
    current: InvocationInstance,
    event: Event,
    changes: dict[str, Any],
    now: int,
) -> InstanceStatus | None:
    ended_as = transition(current.status, event)
    assert ended_as is not None  # both verdicts are accepted from their state
    started = current.status is InstanceStatus.RUNNING
    waiting = {**changes, "repeats": current.repeats + started, "held": False}
    event = Event(event.kind, delivered=True, timed=True)
    new = invocations.apply_event(conn, current.invoke_id, current.instance_id, event, waiting, now)
    if new is not None:
        record_miss(conn, current, ended_as, changes, current.released_at or now)
    return new


def record_miss(
    conn: Connection,
    row: InvocationInstance,
    ended_as: InstanceStatus,
    changes: dict[str, Any],
    handed_out_at: int,
) -> None:
    """Keep one fire a target missed as a run of the history: a run cut off keeps its start and
    output; one never started is keyed by when its fire handed it out (its StartTime then, as
    a skipped fire's is)."""
    started = row.status is InstanceStatus.RUNNING
    runs.record(
        conn,
        InvocationRun(
            invoke_id=row.invoke_id,
            instance_id=row.instance_id,
            start_at=row.start_at if started and row.start_at is not None else handed_out_at,
            status=ended_as,
            error_code=changes.get("error_code", ""),
            error_info=changes.get("error_info", ""),
            exit_code=None,
            output=row.output if started else b"",
            dropped=row.dropped if started else 0,
            finish_at=changes.get("finish_at", handed_out_at),
            run_number=row.repeats + started,
        ),
    )
