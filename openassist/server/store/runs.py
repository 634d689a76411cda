"""Runs of timed tasks: one row per run per instance (DescribeInvocationResults IncludeHistory)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, Select, func, select

from openassist.protocol.statuses import InstanceStatus, InvokeRecordStatus
from openassist.server.store.invocations import record_condition
from openassist.server.store.paging import Page, PageQuery, fetch_page
from openassist.server.store.records import InvocationRun
from openassist.server.store.schema.results import invocation_runs
from openassist.server.store.schema.tasks import invocation_instances, invocations

_r = invocation_runs


def _run(row: Any) -> InvocationRun:
    data = dict(row._mapping)
    data["status"] = InstanceStatus(data["status"])
    return InvocationRun(**data)


def record(conn: Connection, run: InvocationRun) -> bool:
    """Keep one run; a run already kept (the same report sent again) is left as it is."""
    exists = conn.execute(
        select(_r.c.start_at).where(
            _r.c.invoke_id == run.invoke_id,
            _r.c.instance_id == run.instance_id,
            _r.c.start_at == run.start_at,
        )
    ).first()
    if exists is not None:
        return False
    values = asdict(run)
    values["status"] = run.status.value
    conn.execute(_r.insert().values(**values))
    return True


def count(conn: Connection, invoke_id: str, instance_id: str) -> int:
    query = select(func.count()).where(_r.c.invoke_id == invoke_id, _r.c.instance_id == instance_id)
    return int(conn.scalar(query) or 0)


def _filtered(
    query: Select[Any], invoke_id: str, instance_id: str | None, wanted: InvokeRecordStatus | None
) -> Select[Any]:
    query = query.where(_r.c.invoke_id == invoke_id)
    if instance_id:
        query = query.where(_r.c.instance_id == instance_id)
    if wanted is not None:
        query = query.where(record_condition(_r, wanted))
    return query


def list_runs(
    conn: Connection,
    invoke_id: str,
    instance_id: str | None,
    wanted: InvokeRecordStatus | None,
    page: PageQuery,
) -> Page[InvocationRun]:
    """Newest first; keyset on (start_at, instance_id)."""
    total = _filtered(select(func.count()).select_from(_r), invoke_id, instance_id, wanted)
    query = _filtered(select(_r), invoke_id, instance_id, wanted)
    return fetch_page(conn, query, total, (_r.c.start_at, _r.c.instance_id), page, _run)


def waiting_for_boot(conn: Connection, instance_id: str, modes: list[str]) -> list[str]:
    """Invoke ids of the instance's tasks in ``modes`` (reboot tasks) waiting Scheduled."""
    ii, tasks = invocation_instances.c, invocations.c
    query = (
        select(ii.invoke_id)
        .join(invocations, tasks.id == ii.invoke_id)
        .where(
            ii.instance_id == instance_id,
            ii.status == InstanceStatus.SCHEDULED.value,
            tasks.repeat_mode.in_(modes),
        )
    )
    return [row.invoke_id for row in conn.execute(query)]
