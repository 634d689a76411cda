"""How many result rows match a filter on instance and record status, without counting them.

The triggers of migration 0036 add a row of +1 or -1 to ``result_counts`` in the transaction of
every insert, delete and change of instance, status or error code of an ``invocation_instances``
row. They only ever insert (no tally row is updated in place), so writers never wait on one
another for a tally; the number of result rows with a key is the sum of that key's rows, exact
in every snapshot. ``compact`` folds each key's rows into one from time to time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, Table, delete, func, insert, or_, select, tuple_

from openassist.server.store.schema.tallies import result_counts, task_counts

_c = result_counts.c


def by_instance(
    conn: Connection,
    instance_id: str | None,
    visible: Sequence[str] | None,
    condition: ColumnElement[bool] | None,
) -> dict[str, int]:
    """The number of result rows of each instance (those with at least one) on ``instance_id``
    (None: any), among ``visible`` (None: all) and meeting ``condition`` on this table's status
    and error code (None: any; ``invocations.record_condition`` builds one)."""
    query = select(_c.instance_id, func.sum(_c.n)).group_by(_c.instance_id)
    if instance_id is not None:
        query = query.where(_c.instance_id == instance_id)
    if visible is not None:
        query = query.where(_c.instance_id.in_(visible))
    if condition is not None:
        query = query.where(condition)
    return {row[0]: int(row[1]) for row in conn.execute(query) if row[1]}


def tasks(conn: Connection, condition: ColumnElement[bool] | None) -> int:
    """The number of tasks (RunCommand/InvokeCommand) meeting ``condition`` on the task tally
    table's status and repeat mode (None: every task)."""
    query = select(func.sum(task_counts.c.n))
    return int(conn.scalar(query if condition is None else query.where(condition)) or 0)


def compact(conn: Connection) -> int:
    """Fold the rows of every key that has more than one (or sums to nothing) into one, in both
    tally tables; returns how many rows it removed. Exact beside concurrent writers: it adds back
    the sum of exactly the rows its DELETE removed (a row committed meanwhile stays, and is
    folded next time)."""
    return _fold(conn, result_counts) + _fold(conn, task_counts)


def _fold(conn: Connection, table: Table) -> int:
    key = [column for column in table.c if column.name != "n"]
    folded = select(*key).group_by(*key).having(or_(func.count() > 1, func.sum(table.c.n) == 0))
    gone = conn.execute(
        delete(table).where(tuple_(*key).in_(folded)).returning(*key, table.c.n)
    ).all()
    sums: dict[tuple[str, ...], int] = {}
    for row in gone:
        sums[tuple(row[:-1])] = sums.get(tuple(row[:-1]), 0) + int(row[-1])
    names = [column.name for column in key]
    kept = [{**dict(zip(names, k, strict=True)), "n": n} for k, n in sums.items() if n]
    if kept:
        conn.execute(insert(table), kept)
    return len(gone) - len(kept)


def rows(conn: Connection) -> int:
    """How many tally rows there are (folding is due when more came)."""
    return sum(
        int(conn.scalar(select(func.count()).select_from(table)) or 0)
        for table in (result_counts, task_counts)
    )
