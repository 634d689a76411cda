"""StopInvocation's change to the rows of one task, inside the caller's transaction: asked of
one task by the API and the console, and of every task of a console run at once."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from openassist.catalog import api
from openassist.errors import NotFound
from openassist.protocol.statuses import InstanceStatus
from openassist.server.lifecycle import Event, EventKind
from openassist.server.service import timed
from openassist.server.service.context import invoke_not_found
from openassist.server.service.guard import Guard
from openassist.server.store import invocations


def stop_rows(
    conn: Connection, invoke_id: str, instance_ids: Sequence[str], guard: Guard, now: int
) -> list[str]:
    """Ask every (or the given) instance of the task to stop; not started runs are cancelled.
    Returns the machines whose agent must hear of it (their rows are now Stopping). Refused
    whole, before any change, when ``guard`` may not touch one of those machines."""
    task = invocations.get_invocation(conn, invoke_id)
    if task is None:
        raise invoke_not_found()
    rows = invocations.instances_of(conn, [invoke_id])[invoke_id]
    known = {row.instance_id for row in rows}
    unknown = [i for i in instance_ids if i not in known]
    if unknown:
        raise NotFound(api.TASK_INSTANCE_NOT_FOUND, instance_id=unknown[0], invoke_id=invoke_id)
    wanted = set(instance_ids) or known
    guard.check_instances(conn, sorted(wanted))
    stopping: list[str] = []
    for row in rows:
        if row.instance_id not in wanted:
            continue
        # A reboot task waiting for a boot, or a server-fired one for its next fire, is not on
        # the agent: it is simply cancelled.
        waiting_boot = row.status is InstanceStatus.SCHEDULED and (
            task.repeat_mode in timed.REBOOT_MODES or timed.server_fired(task)
        )
        delivered = row.delivered_at is not None and not waiting_boot
        event = Event(EventKind.STOP_REQUESTED, delivered=delivered)
        new = invocations.apply_event(
            conn, invoke_id, row.instance_id, event, {"stop_at": now}, now
        )
        if new is InstanceStatus.STOPPING:
            stopping.append(row.instance_id)
    return stopping
