"""Tasks read as tables for people (the console): a task's header with its rows counted by
status, one page of its rows or of its groups of identical output, never every row at once.

The caller's Describe policies apply as in the API: only tasks on, and rows of, the instances
the guard lets the caller see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection

from openassist.protocol.statuses import InstanceStatus
from openassist.server.service.context import ServiceContext
from openassist.server.service.guard import UNGUARDED, Guard
from openassist.server.store import invocations, listings, tags, task_rows
from openassist.server.store.paging import Page, PageQuery
from openassist.server.store.records import Command, Invocation
from openassist.server.store.task_rows import OutputGroup, ResultLine, RowQuery

FIRST_IDS = 3  # instance ids a task list names per task


@dataclass(frozen=True)
class TaskSummary:
    """A task, its command, and its rows counted by status (the rows themselves not loaded)."""

    invocation: Invocation
    command: Command
    counts: dict[InstanceStatus, int]
    first_ids: list[str] = field(default_factory=list)
    waiting: int = 0  # rows not yet handed to their agent (a rollout holds them back)
    tags: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return sum(n for status, n in self.counts.items() if status.is_final)


class TaskTableService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def summaries(
        self, where: invocations.InvocationFilter, page: PageQuery, guard: Guard = UNGUARDED
    ) -> Page[TaskSummary]:
        """A page of tasks (as DescribeInvocations filters them), each counted by status."""

        def query(conn: Connection) -> Page[TaskSummary]:
            visible = guard.visible(conn)
            found = listings.list_invocations(conn, replace(where, visible=visible), page)
            items = _summarised(conn, found.items, visible)
            return Page(items=items, total=found.total, next_key=found.next_key)

        return await self._ctx.db.read(query)

    async def several(
        self, invoke_ids: Sequence[str], guard: Guard = UNGUARDED
    ) -> list[TaskSummary]:
        """The tasks of ``invoke_ids`` the caller may see, in that order (a split run's)."""

        def query(conn: Connection) -> list[TaskSummary]:
            visible = guard.visible(conn)
            found: list[Invocation] = []
            for invoke_id in dict.fromkeys(invoke_ids):
                where = invocations.InvocationFilter(invoke_id=invoke_id, visible=visible)
                found += listings.list_invocations(conn, where, PageQuery(limit=1)).items
            return _summarised(conn, found, visible)

        return await self._ctx.db.read(query)

    async def summary(self, invoke_id: str, guard: Guard = UNGUARDED) -> TaskSummary | None:
        """One task; None when there is none the caller may see."""
        where = invocations.InvocationFilter(invoke_id=invoke_id)
        found = await self.summaries(where, PageQuery(limit=1), guard)
        return found.items[0] if found.items else None

    async def rows(self, q: RowQuery, guard: Guard = UNGUARDED) -> tuple[list[ResultLine], int]:
        """A page of the task's rows (see ``RowQuery``) and how many match."""

        def query(conn: Connection) -> tuple[list[ResultLine], int]:
            return task_rows.list_rows(conn, replace(q, visible=guard.visible(conn)))

        return await self._ctx.db.read(query)

    async def groups(self, q: RowQuery, guard: Guard = UNGUARDED) -> tuple[list[OutputGroup], int]:
        """A page of the task's groups of identical results, largest first."""

        def query(conn: Connection) -> tuple[list[OutputGroup], int]:
            return task_rows.output_groups(conn, replace(q, visible=guard.visible(conn)))

        return await self._ctx.db.read(query)


def _summarised(
    conn: Connection, found: Sequence[Invocation], visible: tuple[str, ...] | None
) -> list[TaskSummary]:
    ids = [i.id for i in found]
    if visible is None:  # every row counts: the counts each task keeps
        counts = task_rows.kept_status_counts(conn, ids)
    else:  # only the rows of the machines the caller may see
        counts = task_rows.status_counts(conn, ids, visible)
    first = task_rows.first_instances(conn, ids, FIRST_IDS, visible)
    waiting = task_rows.waiting_counts(conn, ids, visible)
    cmds = invocations.commands_by_id(conn, [i.command_id for i in found])
    labels = tags.tags_of(conn, "invocation", ids)
    return [
        TaskSummary(i, cmds[i.command_id], counts[i.id], first[i.id], waiting[i.id], labels[i.id])
        for i in found
    ]
