"""Use cases of the command library: create, list, change, delete."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from openassist.errors import ApiError
from openassist.server.service.context import ServiceContext, command_not_found
from openassist.server.service.invocations import CommandSpec, new_command
from openassist.server.store import commands, invocations, tags
from openassist.server.store.paging import Page, PageQuery
from openassist.server.store.records import Command

# {{name}} placeholders; built-ins ({{ACS::...}}) and parameter-store references are not custom.
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_CUSTOM_NAME = re.compile(r"[A-Za-z0-9_-]+")
MAX_CUSTOM_PARAMETERS = 20


def parameter_names(content: bytes) -> list[str]:
    """The custom parameter names in ``content``, in order of first use (case-insensitive
    duplicates folded). Raises ApiError with the CmdParam codes of API.md 3.2."""
    names: dict[str, str] = {}
    for match in _PLACEHOLDER.finditer(content.decode("utf-8", "replace")):
        name = match.group(1)
        if name.lower().startswith(("acs::", "oos:", "oos-secret:")):
            continue
        if not name:
            raise ApiError("CmdParam.EmptyKey", "A {{}} placeholder has no parameter name.")
        if len(name.encode()) > 64:
            raise ApiError(
                "CmdParamName.ExceedLimit", f"Parameter name {name[:20]}... is over 64 bytes.", 403
            )
        if not _CUSTOM_NAME.fullmatch(name):
            raise ApiError(
                "CmdParam.InvalidParamName",
                f"Parameter name {name!r} may contain only letters, digits, - and _.",
            )
        names.setdefault(name.lower(), name)
    if len(names) > MAX_CUSTOM_PARAMETERS:
        raise ApiError(
            "CmdParamCount.ExceedLimit",
            f"A command may define at most {MAX_CUSTOM_PARAMETERS} parameters; "
            f"it has {len(names)}.",
            403,
        )
    return list(names.values())


@dataclass(frozen=True)
class CommandView:
    command: Command
    tags: list[tuple[str, str]]


class CommandService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def create(self, spec: CommandSpec, tag_pairs: tuple[tuple[str, str], ...]) -> str:
        if spec.enable_parameter:
            parameter_names(spec.content)
        command = new_command(spec, kept=True, now=self._ctx.clock.now_ms())

        def insert(conn: Connection) -> None:
            invocations.insert_command(conn, command)
            tags.set_tags(conn, "command", command.id, tag_pairs)

        await self._ctx.db.write(insert)
        return command.id

    async def describe(self, where: commands.CommandFilter, page: PageQuery) -> Page[CommandView]:
        def query(conn: Connection) -> Page[CommandView]:
            found = commands.list_commands(conn, where, page)
            labels = tags.tags_of(conn, "command", [c.id for c in found.items])
            views = [CommandView(c, labels[c.id]) for c in found.items]
            return Page(items=views, total=found.total, next_key=found.next_key)

        return await self._ctx.db.read(query)

    async def modify(self, command_id: str, changes: dict[str, Any]) -> None:
        if not await self._ctx.db.write(lambda conn: commands.modify(conn, command_id, changes)):
            raise command_not_found(command_id)

    async def delete(self, command_id: str) -> None:
        if not await self._ctx.db.write(lambda conn: commands.delete(conn, command_id)):
            raise command_not_found(command_id)
