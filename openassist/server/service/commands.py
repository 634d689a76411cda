"""Use cases of the command library: create, list, change, delete."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from openassist.server.service import checks
from openassist.server.service.context import ServiceContext, command_not_found
from openassist.server.service.guard import UNGUARDED, Guard
from openassist.server.service.parameters import parameter_names
from openassist.server.service.task_specs import CommandSpec, new_command, vars_of
from openassist.server.store import commands, invocations, tags
from openassist.server.store.paging import Page, PageQuery
from openassist.server.store.records import Command


@dataclass(frozen=True)
class CommandView:
    command: Command
    tags: list[tuple[str, str]]


class CommandService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def create(self, spec: CommandSpec, tag_pairs: tuple[tuple[str, str], ...]) -> str:
        checks.command_fields(vars_of(spec), self._ctx.limits)
        checks.content(spec.content, self._ctx.limits)
        if spec.enable_parameter:
            parameter_names(spec.content)
        command = new_command(spec, kept=True, now=self._ctx.clock.now_ms())

        def insert(conn: Connection) -> None:
            invocations.insert_command(conn, command)
            tags.set_tags(conn, "command", command.id, tag_pairs, new=True)

        await self._ctx.db.write(insert)
        return command.id

    async def describe(
        self, where: commands.CommandFilter, page: PageQuery, guard: Guard = UNGUARDED
    ) -> Page[CommandView]:
        """The saved commands the caller may see (``guard``), filtered and paged."""

        def query(conn: Connection) -> Page[CommandView]:
            seen = replace(where, visible=guard.visible_commands(conn))
            found = commands.list_commands(conn, seen, page)
            labels = tags.tags_of(conn, "command", [c.id for c in found.items])
            views = [CommandView(c, labels[c.id]) for c in found.items]
            return Page(items=views, total=found.total, next_key=found.next_key)

        return await self._ctx.db.read(query)

    async def modify(self, command_id: str, changes: dict[str, Any]) -> None:
        checks.command_fields(changes, self._ctx.limits)
        if not await self._ctx.db.write(lambda conn: commands.modify(conn, command_id, changes)):
            raise command_not_found(command_id)

    async def delete(self, command_id: str) -> None:
        if not await self._ctx.db.write(lambda conn: commands.delete(conn, command_id)):
            raise command_not_found(command_id)
