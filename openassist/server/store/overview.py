"""Counts for the console's overview, each one query: machines online and offline, tasks by
hour and overall status, the most frequent error codes of per-machine results."""

from __future__ import annotations

from sqlalchemy import Connection, case, func, select

from openassist.server.store.records import GONE_STATES, RegistrationState
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tasks import invocation_instances, invocations

_ii = invocation_instances


def presence(
    conn: Connection, online_since: int, visible: tuple[str, ...] | None
) -> tuple[int, int]:
    """(online, offline) among registered machines: online has a heartbeat since
    ``online_since`` and has not said goodbye."""
    c = instances.c
    online = (c.last_heartbeat_at >= online_since) & c.agent_state.notin_(GONE_STATES)
    query = select(func.count(), func.sum(case((online, 1), else_=0)))
    query = query.where(c.registration_state == RegistrationState.REGISTERED)
    if visible is not None:
        query = query.where(c.id.in_(visible))
    total, up = conn.execute(query).one()
    return int(up or 0), int(total or 0) - int(up or 0)


def tasks_by_hour(
    conn: Connection, since: int, hour_ms: int, visible: tuple[str, ...] | None
) -> list[tuple[int, str, int]]:
    """(hour index from ``since``, overall status, tasks) of the tasks created since then."""
    c = invocations.c
    bucket = ((c.created_at - since) // hour_ms).label("bucket")
    query = select(bucket, c.status, func.count()).where(c.created_at >= since)
    if visible is not None:
        query = query.where(c.id.in_(select(_ii.c.invoke_id).where(_ii.c.instance_id.in_(visible))))
    rows = conn.execute(query.group_by(bucket, c.status))
    return [(int(b), str(status), int(n)) for b, status, n in rows]


def frequent_errors(
    conn: Connection, since: int, limit: int, visible: tuple[str, ...] | None
) -> list[tuple[str, int]]:
    """The error codes of per-machine results created since ``since``, most frequent first."""
    count = func.count().label("n")
    query = select(_ii.c.error_code, count).where(_ii.c.created_at >= since, _ii.c.error_code != "")
    if visible is not None:
        query = query.where(_ii.c.instance_id.in_(visible))
    query = query.group_by(_ii.c.error_code).order_by(count.desc(), _ii.c.error_code).limit(limit)
    return [(str(code), int(n)) for code, n in conn.execute(query)]
