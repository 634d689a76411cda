"""Target sets: the instances a task runs on, stored once per distinct set and named on the task
(``invocations.target_set``), so that "tasks on an instance the caller may see" is a condition
on the task row: its set is one of the sets that hold a visible instance.

A RAM user's DescribeInvocations then counts its tasks from the task tallies (by target set)
and checks each task of a page by a column, instead of gathering every row of every visible
instance. Fleets run the same sets again and again (the whole fleet, a tag's machines, one
machine), so there are far fewer sets than tasks; at worst (each task on its own random set)
the members are as many as the result rows.

A set is named by a digest of its sorted instance ids: two writers adding the same set at once
both name it the same way and add it once. The rows of a task are added only by
store.invocations (insert_invocation, add_rows), which keeps the task's set; a task whose set is
not known (``UNKNOWN``: written by other means) is judged by its rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Select, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from openassist.server.store.schema.tasks import target_sets

UNKNOWN = ""
_BATCH = 2000  # members per INSERT: under SQLite's limit on bound parameters


def name_of(instance_ids: Iterable[str]) -> str:
    members = sorted(set(instance_ids))
    return hashlib.sha256("\n".join(members).encode()).hexdigest()


def ensure(conn: Connection, instance_ids: Sequence[str]) -> str:
    """The name of the set of ``instance_ids``, stored if it was not yet."""
    name = name_of(instance_ids)
    if conn.scalar(_KNOWN, {"id": name}) is not None:
        return name
    members = [{"id": name, "instance_id": i} for i in sorted(set(instance_ids))]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    for first in range(0, len(members), _BATCH):
        conn.execute(
            dialect.insert(target_sets).on_conflict_do_nothing(),
            members[first : first + _BATCH],
        )
    return name


_KNOWN = select(target_sets.c.id).where(target_sets.c.id == bindparam("id")).limit(1)


def touching(visible: Sequence[str]) -> Select[tuple[str]]:
    """The names of the sets that hold at least one of ``visible``."""
    return select(target_sets.c.id).where(target_sets.c.instance_id.in_(visible)).distinct()
