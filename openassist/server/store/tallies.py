"""Counts for monitoring: agents online and offline, task instances by status and error code,
and the schema revision the database is at. Read at scrape time, never on the hot path."""

from __future__ import annotations

from sqlalchemy import Connection, func, inspect, select

from openassist.server.store.records import GONE_STATES, RegistrationState
from openassist.server.store.schema.files import file_task_instances
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tasks import invocation_instances


def agent_counts(conn: Connection, now_ms: int, online_window_ms: int) -> dict[str, int]:
    """Registered instances whose agent is online (heard within the window, no goodbye) and
    offline (all the others)."""
    c = instances.c
    online = (
        c.last_heartbeat_at.is_not(None)
        & (c.last_heartbeat_at >= now_ms - online_window_ms)
        & c.agent_state.notin_(GONE_STATES)
    )
    rows = conn.execute(
        select(online.label("online"), func.count())
        .where(c.registration_state == RegistrationState.REGISTERED)
        .group_by(online)
    ).all()
    counts = {"online": 0, "offline": 0}
    for is_online, count in rows:
        counts["online" if is_online else "offline"] += int(count)
    return counts


def task_counts(conn: Connection) -> dict[tuple[str, str], int]:
    """Task instances (RunCommand/InvokeCommand and SendFile) by (status, error code)."""
    counts: dict[tuple[str, str], int] = {}
    for table in (invocation_instances, file_task_instances):
        rows = conn.execute(
            select(table.c.status, table.c.error_code, func.count()).group_by(
                table.c.status, table.c.error_code
            )
        ).all()
        for status, code, count in rows:
            key = (str(status), str(code or ""))
            counts[key] = counts.get(key, 0) + int(count)
    return counts


def schema_revisions(conn: Connection) -> set[str]:
    """The migration revision(s) the database is stamped with (empty before the first)."""
    if not inspect(conn).has_table("alembic_version"):
        return set()
    return {str(row[0]) for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
