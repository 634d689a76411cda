"""Console runs split into several tasks (a run on more machines than one RunCommand takes):
the run's own row, and its tasks found by ``invocations.split_run_id``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from sqlalchemy import Connection, func, select

from openassist.protocol.statuses import InstanceStatus, InvocationStatus
from openassist.server.store.schema.tasks import invocation_instances as _ii
from openassist.server.store.schema.tasks import invocations as _tasks
from openassist.server.store.schema.tasks import split_runs

ACTIVE_TASKS = frozenset(s for s in InvocationStatus if not s.is_final)
ACTIVE_ROWS = frozenset(s for s in InstanceStatus if not s.is_final)


@dataclass(frozen=True)
class SplitRun:
    id: str
    created_at: int
    invoked_by: str
    machines: int  # targets chosen, each in exactly one of its tasks
    tasks: int  # tasks it was split into


def insert(conn: Connection, run: SplitRun) -> None:
    conn.execute(split_runs.insert().values(**asdict(run)))


def get(conn: Connection, run_id: str) -> SplitRun | None:
    row = conn.execute(select(split_runs).where(split_runs.c.id == run_id)).first()
    return SplitRun(**row._mapping) if row else None


def task_ids(conn: Connection, run_id: str, unfinished: bool = False) -> list[str]:
    """The run's tasks (``unfinished``: only those not yet in a final status), in the order
    they were created."""
    query = select(_tasks.c.id).where(_tasks.c.split_run_id == run_id)
    if unfinished:
        query = query.where(_tasks.c.status.in_(sorted(s.value for s in ACTIVE_TASKS)))
    return list(conn.scalars(query.order_by(_tasks.c.created_at, _tasks.c.id)))


def active_rows(conn: Connection, invoke_id: str) -> int:
    """The task's machines not yet in a final status (what a Stop still reaches)."""
    query = select(func.count()).where(
        _ii.c.invoke_id == invoke_id, _ii.c.status.in_(sorted(s.value for s in ACTIVE_ROWS))
    )
    return int(conn.scalar(query) or 0)


def runs_of(conn: Connection, invoke_ids: Iterable[str]) -> dict[str, str]:
    """The run each of ``invoke_ids`` is part of (tasks of no run are left out)."""
    wanted = sorted(set(invoke_ids))
    if not wanted:
        return {}
    query = select(_tasks.c.id, _tasks.c.split_run_id).where(
        _tasks.c.id.in_(wanted), _tasks.c.split_run_id.is_not(None)
    )
    return {row.id: row.split_run_id for row in conn.execute(query)}


def instance_ids(conn: Connection, invoke_ids: Iterable[str]) -> list[str]:
    """Every machine of the given tasks (for a policy check over a whole run)."""
    wanted = sorted(set(invoke_ids))
    if not wanted:
        return []
    query = select(_ii.c.instance_id).where(_ii.c.invoke_id.in_(wanted))
    return sorted(set(conn.scalars(query)))
