"""DescribeInvocations and DescribeInvocationResults: the lists of tasks and of per-instance
results, newest first, with their totals, fast at a million results.

A list's total comes from the result tallies (store.result_counts) where its filter allows,
else from a count that an index serves. A list known to hold few rows among many (the total
says so) is gathered by its most selective index and then ordered (paging.fetch_few); any other
is read in list order and stops at the page's end (paging.fetch_page). Both page the same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    not_,
    or_,
    select,
)

from openassist.server.store import result_counts, target_sets
from openassist.server.store.invocations import (
    InvocationFilter,
    ResultFilter,
    record_condition,
    record_condition_on,
)
from openassist.server.store.paging import Page, PageQuery, fetch_few, fetch_page, page_of
from openassist.server.store.records import (
    Invocation,
    InvocationInstance,
    invocation_from_row,
    result_from_row,
)
from openassist.server.store.schema.tallies import result_counts as tallies
from openassist.server.store.schema.tallies import task_counts
from openassist.server.store.schema.tasks import commands, invocation_instances, invocations, tags
from openassist.server.store.tags import Tag, ids_tagged

_ii = invocation_instances
_TIMED_MODES = ("Period", "NextRebootOnly", "EveryReboot")
_ACTIVE_OVERALL = ("Pending", "Scheduled", "Running", "Stopping")
_TASK_KEY = (invocations.c.created_at, invocations.c.id)
_RESULT_KEY = (_ii.c.created_at, _ii.c.invoke_id, _ii.c.instance_id)
# A list with at most this many rows is gathered by its most selective index and sorted; a
# longer one is dense enough that walking the list's order finds a page soon.
FEW = 5000


def _on_instances(query: Select[Any], where: InvocationFilter, few: bool) -> Select[Any]:
    """Tasks on the given instance, and on at least one instance the caller may see."""
    c = invocations.c
    if where.instance_id and few:  # found from the instance's rows
        query = query.where(
            c.id.in_(select(_ii.c.invoke_id).where(_ii.c.instance_id == where.instance_id))
        )
    elif where.instance_id:
        # EXISTS, not IN (subquery): newest first, the database walks the tasks by creation
        # time and stops at the page's end instead of sorting every task of the instance.
        query = query.where(
            exists().where(_ii.c.invoke_id == c.id, _ii.c.instance_id == where.instance_id)
        )
    if where.visible is not None:
        query = query.where(_seen(where.visible, few))
    return query


def _seen(visible: tuple[str, ...], few: bool) -> ColumnElement[bool]:
    """The task runs on one of ``visible``: its target set holds one (a column of the task,
    the sets found once per query), or, its set not known, one of its rows is on one."""
    target_set = invocations.c.target_set
    rows = exists().where(_ii.c.invoke_id == invocations.c.id, _ii.c.instance_id.in_(visible))
    return or_(
        _unindexed(target_set, not few).in_(target_sets.touching(visible)),
        and_(target_set == target_sets.UNKNOWN, rows),
    )


def _tagged(query: Select[Any], pairs: tuple[Tag, ...], few: bool) -> Select[Any]:
    """Tasks carrying every tag: found from the tags (few), or each task looked up in them."""
    if few:
        return query.where(invocations.c.id.in_(ids_tagged("invocation", pairs)))
    for key, value in pairs:
        match = [tags.c.resource_type == "invocation", tags.c.resource_id == invocations.c.id]
        match.append(tags.c.key == key)
        if value:
            match.append(tags.c.value == value)
        query = query.where(exists().where(*match))
    return query


def _filtered_invocations(
    query: Select[Any], where: InvocationFilter, few: bool = True
) -> Select[Any]:
    """``few``: the conditions as a query that gathers a few matching tasks is best served;
    else as one that walks the tasks newest first and checks each."""
    c = invocations.c
    if where.invoke_id:
        query = query.where(c.id == where.invoke_id)
    if where.command_id:
        query = query.where(c.command_id == where.command_id)
    walk = not few
    if where.command_type:
        query = query.where(_unindexed(c.command_type, walk) == where.command_type)
    query = _on_instances(query, where, few)
    if where.statuses:
        query = query.where(_unindexed(c.status, walk).in_(where.statuses))
    if where.repeat_mode:
        query = query.where(_unindexed(c.repeat_mode, walk) == where.repeat_mode)
    if where.command_name:
        query = query.where(
            c.command_id.in_(select(commands.c.id).where(commands.c.name == where.command_name))
        )
    if where.resource_group_id:
        query = query.where(_unindexed(c.resource_group_id, walk) == where.resource_group_id)
    if where.tags:
        query = _tagged(query, where.tags, few)
    if where.created_from is not None:
        query = query.where(c.created_at >= where.created_from)
    if where.created_to is not None:
        query = query.where(c.created_at < where.created_to)
    if where.timed is not None:
        query = query.where(_timed(where.timed))
    return query


def _timed(wanted: bool, table: Table = invocations) -> ColumnElement[bool]:
    c = table.c
    active_timed = and_(c.repeat_mode.in_(_TIMED_MODES), c.status.in_(_ACTIVE_OVERALL))
    return active_timed if wanted else not_(active_timed)


def _tallied(where: InvocationFilter) -> ColumnElement[bool] | None:
    """The filter as a condition on the task tallies' status, repeat mode, command type and
    target set; None when it filters on anything else (or on nothing). The tallies of tasks
    whose set is not known are left out: ``_task_total`` counts those by their rows."""
    kept = InvocationFilter(
        statuses=where.statuses,
        repeat_mode=where.repeat_mode,
        timed=where.timed,
        command_type=where.command_type,
        visible=where.visible,
    )
    if where != kept or where == InvocationFilter():
        return None
    c = task_counts.c
    conditions: list[ColumnElement[bool]] = []
    if where.statuses:
        conditions.append(c.status.in_(where.statuses))
    if where.repeat_mode:
        conditions.append(c.repeat_mode == where.repeat_mode)
    if where.timed is not None:
        conditions.append(_timed(where.timed, task_counts))
    if where.command_type:
        conditions.append(c.command_type == where.command_type)
    if where.visible is not None:
        conditions.append(c.target_set.in_(target_sets.touching(where.visible)))
    return and_(*conditions)


def _task_total(conn: Connection, where: InvocationFilter) -> int:
    """The number of tasks the filter matches. A task has one row per instance, so the tasks of
    one instance are its results: the tallies count them when nothing else narrows the list."""
    only_instance = InvocationFilter(instance_id=where.instance_id, visible=where.visible)
    seen = where.visible is None or where.instance_id in where.visible  # implies the other
    if where.instance_id and where == only_instance and seen:
        return sum(result_counts.by_instance(conn, where.instance_id, None, None).values())
    if where == InvocationFilter():
        return result_counts.tasks(conn, None)
    condition = _tallied(where)
    if condition is not None and where.visible is None:
        return result_counts.tasks(conn, condition)
    if condition is not None:  # and the tasks whose set is not known, by their rows
        unknown = select(func.count()).where(invocations.c.target_set == target_sets.UNKNOWN)
        counted = _filtered_invocations(unknown.select_from(invocations), where)
        return result_counts.tasks(conn, condition) + int(conn.scalar(counted) or 0)
    if len(where.tags) == 1 and where == InvocationFilter(tags=where.tags):
        # Tags are set with their task, once: the tag rows are the tasks.
        key, value = where.tags[0]
        t = tags.c
        count = select(func.count()).where(t.resource_type == "invocation", t.key == key)
        return int(conn.scalar(count.where(t.value == value) if value else count) or 0)
    count = _filtered_invocations(select(func.count()).select_from(invocations), where)
    return int(conn.scalar(count) or 0)


def list_invocations(
    conn: Connection, where: InvocationFilter, page: PageQuery
) -> Page[Invocation]:
    """Newest first; keyset on (created_at, id) so that paging returns each task exactly once."""
    total = _task_total(conn, where)
    if total > FEW:
        query = _filtered_invocations(select(invocations), where, few=False)
        return fetch_page(conn, query, total, _TASK_KEY, page, invocation_from_row)
    keys = _filtered_invocations(select(*_TASK_KEY), where)
    return fetch_few(conn, keys, total, page, lambda chosen: _tasks_by_key(conn, chosen))


def _tasks_by_key(conn: Connection, keys: list[tuple[Any, ...]]) -> list[Invocation]:
    ids = [invoke_id for _, invoke_id in keys]
    query = select(invocations).where(invocations.c.id.in_(ids))
    found = {row.id: invocation_from_row(row) for row in conn.execute(query)}
    return [found[invoke_id] for invoke_id in ids if invoke_id in found]


def _unindexed(column: ColumnElement[Any], walk: bool) -> ColumnElement[Any]:
    """``column``, or when walking a list in order, an expression of it that no index serves:
    the planner then keeps to the index of the list's order (the filter is known to match
    often) instead of one on the filtered column followed by a sort of every match."""
    return func.coalesce(column, column) if walk else column


def _filtered_results(query: Select[Any], where: ResultFilter, walk: bool = False) -> Select[Any]:
    if where.invoke_id:
        query = query.where(_ii.c.invoke_id == where.invoke_id)
    if where.instance_id:
        query = query.where(_ii.c.instance_id == where.instance_id)
    if where.visible is not None:
        query = query.where(_unindexed(_ii.c.instance_id, walk).in_(where.visible))
    if where.command_id:
        query = query.where(
            _ii.c.invoke_id.in_(
                select(invocations.c.id).where(invocations.c.command_id == where.command_id)
            )
        )
    if where.record_status is not None:
        status, error_code = _unindexed(_ii.c.status, walk), _unindexed(_ii.c.error_code, walk)
        query = query.where(record_condition_on(status, error_code, where.record_status))
    return query


def list_results(
    conn: Connection, where: ResultFilter, page: PageQuery
) -> Page[InvocationInstance]:
    """Newest first; keyset on (created_at, invoke_id, instance_id). The total comes from the
    tallies unless a task or a command narrows the list (to a few rows, counted)."""
    if where.invoke_id and where == ResultFilter(invoke_id=where.invoke_id) and page.first:
        return _first_page_of_task(conn, where.invoke_id, page.limit)
    query = _filtered_results(select(_ii), where)
    if where.invoke_id or where.command_id:
        count = _filtered_results(select(func.count()).select_from(_ii), where)
        return fetch_page(conn, query, count, _RESULT_KEY, page, result_from_row)
    wanted = where.record_status
    condition = None if wanted is None else record_condition(tallies, wanted)
    counts = result_counts.by_instance(conn, where.instance_id, where.visible, condition)
    total = sum(counts.values())
    if total > FEW:
        query = _filtered_results(select(_ii), where, walk=True)
        return fetch_page(conn, query, total, _RESULT_KEY, page, result_from_row)
    keys = _filtered_results(select(*_RESULT_KEY), where).where(_ii.c.instance_id.in_(counts))
    return fetch_few(conn, keys, total, page, lambda chosen: _results_by_key(conn, chosen))


# One task's first page (its result wait with IncludeResults, its describe after a run), the
# list read on every run: built once (see store/invocations.py); as fetch_page would build it.
_TASK_ROWS = (
    select(_ii)
    .where(_ii.c.invoke_id == bindparam("invoke_id"))
    .order_by(*(column.desc() for column in _RESULT_KEY))
    .limit(bindparam("limit"))
)
_TASK_ROW_COUNT = (
    select(func.count()).select_from(_ii).where(_ii.c.invoke_id == bindparam("invoke_id"))
)


def _first_page_of_task(conn: Connection, invoke_id: str, limit: int) -> Page[InvocationInstance]:
    total = conn.scalar(_TASK_ROW_COUNT, {"invoke_id": invoke_id})
    rows = list(conn.execute(_TASK_ROWS, {"invoke_id": invoke_id, "limit": limit + 1}))
    return page_of(rows, int(total or 0), _RESULT_KEY, limit, result_from_row)


def _results_by_key(conn: Connection, keys: list[tuple[Any, ...]]) -> list[InvocationInstance]:
    pairs = [(invoke_id, instance_id) for _, invoke_id, instance_id in keys]
    # Two lists rather than one of pairs: SQLite looks both up in the primary key, but scans
    # the table for a list of row values.
    query = select(_ii).where(
        _ii.c.invoke_id.in_(sorted({p[0] for p in pairs})),
        _ii.c.instance_id.in_(sorted({p[1] for p in pairs})),
    )
    found = {(row.invoke_id, row.instance_id): result_from_row(row) for row in conn.execute(query)}
    return [found[pair] for pair in pairs if pair in found]
