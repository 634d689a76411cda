"""The per-machine rows of one task (or of the tasks of one split run) as a table and as groups
of identical output, read a page at a time (the console's results table: 1,000 machines a task,
never all loaded at once).

Rows come with the machine's name and the first bytes of their output only; sorting, filtering,
search and counting happen in SQL on both dialects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, literal, or_, select

from openassist.protocol.statuses import InstanceStatus
from openassist.server.store import proposals
from openassist.server.store.fleet import name_pattern
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tasks import invocation_instances
from openassist.server.store.schema.tasks import invocations as _tasks

_ii = invocation_instances
HEAD_BYTES = 240  # of output, enough for its first line on a table row
SORTS = ("name", "status", "exit_code", "duration", "output")


@dataclass(frozen=True)
class RowQuery:
    """Which rows of one task (or of the tasks of a run, merged), in which order, which page
    (offset paging: a table sorted on any column; a task has at most a few thousand rows, a run
    at most 100 tasks of 100)."""

    invoke_ids: tuple[str, ...]
    statuses: tuple[str, ...] | None = None  # None: every status
    search: str = ""  # part of the machine's name, hostname or id (case-insensitive)
    same_as: str = ""  # only rows whose result equals this machine's (an output group)
    sort: str = "name"  # one of SORTS
    descending: bool = False
    offset: int = 0
    limit: int = 50
    visible: tuple[str, ...] | None = None  # rows of these instances only; None: all


@dataclass(frozen=True)
class ResultLine:
    """One machine's row: what the table shows."""

    instance_id: str
    name: str
    status: InstanceStatus
    exit_code: int | None
    error_code: str
    start_at: int | None
    finish_at: int | None
    head: bytes  # the first HEAD_BYTES of the output
    invoke_id: str = ""  # its task (a run's rows come from several)

    @property
    def duration_ms(self) -> int | None:
        if self.start_at is None or self.finish_at is None:
            return None
        return max(0, self.finish_at - self.start_at)


@dataclass(frozen=True)
class OutputGroup:
    """Machines whose result is the same: status, exit code, error code and whole output."""

    count: int
    sample: str  # one of its machines (the group's key in URLs)
    status: InstanceStatus
    exit_code: int | None
    error_code: str
    head: bytes
    names: list[tuple[str, str, str]]  # (invoke id, instance id, name) of its first machines


def _where(query: Select[Any], q: RowQuery) -> Select[Any]:
    query = query.where(_in_tasks(_ii, q.invoke_ids))
    if q.statuses is not None:
        query = query.where(_ii.c.status.in_(q.statuses))
    if q.visible is not None:
        query = query.where(_ii.c.instance_id.in_(q.visible))
    if q.search:
        pattern = name_pattern(q.search)
        query = query.where(
            or_(
                func.lower(instances.c.name).like(pattern, escape="\\"),
                func.lower(instances.c.hostname).like(pattern, escape="\\"),
                func.lower(_ii.c.instance_id).like(pattern, escape="\\"),
            )
        )
    if q.same_as:
        query = query.where(*_same_result(q.invoke_ids, q.same_as))
    return query


def _in_tasks(table: Any, invoke_ids: tuple[str, ...]) -> ColumnElement[bool]:
    column: ColumnElement[str] = table.c.invoke_id
    if len(invoke_ids) == 1:
        return column == invoke_ids[0]
    return column.in_(invoke_ids)


def _same_result(invoke_ids: tuple[str, ...], sample: str) -> list[ColumnElement[bool]]:
    """Rows with the same status, codes and output as ``sample``'s row (a machine is in one
    task of a run; should it be in several, the first by task id is the sample)."""
    other = _ii.alias("sample")
    one = and_(_in_tasks(other, invoke_ids), other.c.instance_id == sample)

    def of_sample(column: str) -> Any:
        first = select(other.c[column]).where(one).order_by(other.c.invoke_id).limit(1)
        return first.scalar_subquery()

    exit_same = or_(
        _ii.c.exit_code == of_sample("exit_code"),
        and_(_ii.c.exit_code.is_(None), of_sample("exit_code").is_(None)),
    )
    return [
        _ii.c.status == of_sample("status"),
        _ii.c.error_code == of_sample("error_code"),
        _ii.c.output == of_sample("output"),
        exit_same,
    ]


def _joined(*columns: Any) -> Select[Any]:
    return select(*columns).select_from(
        _ii.outerjoin(instances, instances.c.id == _ii.c.instance_id)
    )


def _order(q: RowQuery) -> list[Any]:
    duration = _ii.c.finish_at - _ii.c.start_at
    column = {
        "name": func.coalesce(func.nullif(instances.c.name, ""), _ii.c.instance_id),
        "status": _ii.c.status,
        "exit_code": _ii.c.exit_code,
        "duration": duration,
        "output": func.substr(_ii.c.output, 1, HEAD_BYTES),
    }.get(q.sort, instances.c.name)
    # NULLs (not finished, no exit code) last either way, then a stable tie-break on the id.
    ordered = column.desc() if q.descending else column.asc()
    return [column.is_(None), ordered, _ii.c.instance_id, _ii.c.invoke_id]


def list_rows(conn: Connection, q: RowQuery) -> tuple[list[ResultLine], int]:
    """One page of the task's rows and how many match in all."""
    total = conn.scalar(_where(_joined(func.count()), q)) or 0
    head = func.substr(_ii.c.output, 1, HEAD_BYTES).label("head")
    query = _where(
        _joined(
            _ii.c.invoke_id,
            _ii.c.instance_id,
            func.coalesce(instances.c.name, literal("")).label("name"),
            _ii.c.status,
            _ii.c.exit_code,
            _ii.c.error_code,
            _ii.c.start_at,
            _ii.c.finish_at,
            head,
        ),
        q,
    )
    rows = conn.execute(query.order_by(*_order(q)).offset(q.offset).limit(q.limit))
    lines = [
        ResultLine(
            instance_id=row.instance_id,
            name=row.name,
            status=InstanceStatus(row.status),
            exit_code=row.exit_code,
            error_code=row.error_code,
            start_at=row.start_at,
            finish_at=row.finish_at,
            head=bytes(row.head or b""),
            invoke_id=row.invoke_id,
        )
        for row in rows
    ]
    return lines, int(total)


def output_groups(
    conn: Connection, q: RowQuery, names_per_group: int = 8
) -> tuple[list[OutputGroup], int]:
    """A page of the groups of identical results, largest first, and how many groups in all."""
    keys = (_ii.c.status, _ii.c.exit_code, _ii.c.error_code, _ii.c.output)
    grouped = _where(_joined(*keys, func.count().label("n"), func.min(_ii.c.instance_id)), q)
    grouped = grouped.group_by(*keys)
    total = conn.scalar(select(func.count()).select_from(grouped.subquery())) or 0
    page = conn.execute(
        grouped.order_by(func.count().desc(), func.min(_ii.c.instance_id))
        .offset(q.offset)
        .limit(q.limit)
    ).all()
    groups = []
    for row in page:
        sample = row[5]
        members = RowQuery(
            invoke_ids=q.invoke_ids,
            statuses=q.statuses,
            search=q.search,
            same_as=sample,
            visible=q.visible,
            limit=names_per_group,
        )
        lines, _ = list_rows(conn, members)
        groups.append(
            OutputGroup(
                count=int(row.n),
                sample=sample,
                status=InstanceStatus(row.status),
                exit_code=row.exit_code,
                error_code=row.error_code,
                head=bytes(row.output or b"")[:HEAD_BYTES],
                names=[(line.invoke_id, line.instance_id, line.name) for line in lines],
            )
        )
    return groups, int(total)


def status_counts(
    conn: Connection, invoke_ids: Iterable[str], visible: tuple[str, ...] | None = None
) -> dict[str, dict[InstanceStatus, int]]:
    """Rows by status for each task (what its tabs and the task list count)."""
    wanted = sorted(set(invoke_ids))
    found: dict[str, dict[InstanceStatus, int]] = {i: {} for i in wanted}
    if not wanted:
        return found
    query = select(_ii.c.invoke_id, _ii.c.status, func.count()).where(_ii.c.invoke_id.in_(wanted))
    if visible is not None:
        query = query.where(_ii.c.instance_id.in_(visible))
    for invoke_id, status, count in conn.execute(query.group_by(_ii.c.invoke_id, _ii.c.status)):
        found[invoke_id][InstanceStatus(status)] = int(count)
    return found


def kept_status_counts(
    conn: Connection, invoke_ids: Iterable[str]
) -> dict[str, dict[InstanceStatus, int]]:
    """``status_counts`` of every row of each task, read from the counts the task keeps (moved
    with each row's change, see ``proposals``) instead of its rows; counted from the rows for a
    task without kept counts (created before them)."""
    wanted = sorted(set(invoke_ids))
    found: dict[str, dict[InstanceStatus, int]] = {i: {} for i in wanted}
    uncounted = []
    query = select(_tasks.c.id, _tasks.c.status_counts).where(_tasks.c.id.in_(wanted))
    for invoke_id, text in conn.execute(query) if wanted else ():
        kept = proposals.decoded_counts(text)
        if kept is None:
            uncounted.append(invoke_id)
        else:
            found[invoke_id] = {status: n for status, n in kept.items() if n}
    found.update(status_counts(conn, uncounted))
    return found


def waiting_counts(
    conn: Connection, invoke_ids: Iterable[str], visible: tuple[str, ...] | None = None
) -> dict[str, int]:
    """Rows not yet handed to their agent (Pending, never delivered), for each task."""
    wanted = sorted(set(invoke_ids))
    query = select(_ii.c.invoke_id, func.count()).where(
        _ii.c.invoke_id.in_(wanted),
        _ii.c.status == InstanceStatus.PENDING.value,
        _ii.c.delivered_at.is_(None),
    )
    if visible is not None:
        query = query.where(_ii.c.instance_id.in_(visible))
    found = dict.fromkeys(wanted, 0)
    for invoke_id, count in conn.execute(query.group_by(_ii.c.invoke_id)):
        found[invoke_id] = int(count)
    return found


def first_instances(
    conn: Connection, invoke_ids: Iterable[str], per_task: int, visible: tuple[str, ...] | None
) -> dict[str, list[str]]:
    """The first ``per_task`` instance ids of each task (by id), for a task list's summary."""
    found: dict[str, list[str]] = {}
    for invoke_id in sorted(set(invoke_ids)):
        query = select(_ii.c.instance_id).where(_ii.c.invoke_id == invoke_id)
        if visible is not None:
            query = query.where(_ii.c.instance_id.in_(visible))
        rows = conn.execute(query.order_by(_ii.c.instance_id).limit(per_task))
        found[invoke_id] = [row.instance_id for row in rows]
    return found
