"""The saved command library: list, create, edit (name, description, working dir, timeout: the
content and type of a saved command are fixed, as in ModifyCommand), and invoke."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from openassist.catalog import api
from openassist.errors import ApiError, InvalidParameter
from openassist.protocol.statuses import CommandType
from openassist.server.console import failures, forms
from openassist.server.console.web import PREFIX, Console, Visit, see_other
from openassist.server.service.commands import CommandView
from openassist.server.store.commands import CommandFilter
from openassist.server.store.paging import PageQuery

LIST_LIMIT = 100


class CommandPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.commands = console.services.commands

    async def _one(self, command_id: str, visit: Visit) -> CommandView | None:
        """The command, when the visitor may see it."""
        found = await self.commands.describe(
            CommandFilter(command_id=command_id),
            PageQuery(limit=1),
            visit.guard("DescribeCommands"),
        )
        return found.items[0] if found.items else None

    async def library(self, visit: Visit) -> Response:
        name = visit.request.query_params.get("name", "").strip()
        found = await self.commands.describe(
            CommandFilter(name=f"*{name}*" if name else None),
            PageQuery(limit=LIST_LIMIT),
            visit.guard("DescribeCommands"),
        )
        return self.console.page(
            visit,
            "commands.html",
            views=found.items,
            total=found.total,
            name=name,
            notice=visit.request.query_params.get("notice", ""),
        )

    async def form(
        self, visit: Visit, error: ApiError | None = None, status: int = 200
    ) -> Response:
        command_id = visit.request.path_params.get("command_id", "")
        view = await self._one(command_id, visit) if command_id else None
        if command_id and view is None:
            return self.console.page(visit, "missing.html", 404, what=f"command {command_id}")
        values: dict[str, Any] = dict(visit.form.fields) if error else {}
        return self.console.page(
            visit,
            "command_form.html",
            status,
            view=view,
            types=list(CommandType),
            form=values,
            error=error,
        )

    async def create(self, visit: Visit) -> Response:
        form = visit.form
        try:
            visit.refuse_unless("CreateCommand")
        except ApiError as error:
            return failures.plain(error)
        try:
            if not form.get("name"):
                raise InvalidParameter(api.MISSING_PARAMETER, parameter="Name")
            spec = forms.command_spec(form)
            command_id = await self.commands.create(spec, ())
        except ApiError as error:
            return await self.form(visit, error, 400)
        return see_other(f"{PREFIX}/commands?notice=Saved+{command_id}")

    async def update(self, visit: Visit) -> Response:
        form, command_id = visit.form, visit.request.path_params["command_id"]
        try:
            visit.refuse_unless("ModifyCommand")
        except ApiError as error:
            return failures.plain(error)
        try:
            if not form.get("name"):
                raise InvalidParameter(api.MISSING_PARAMETER, parameter="Name")
            changes: dict[str, Any] = {
                "name": form.get("name"),
                "description": form.get("description"),
                "working_dir": form.get("working_dir"),
                "timeout": forms.integer(form, "Timeout", 60),
            }
            await self.commands.modify(command_id, changes)
        except ApiError as error:
            return await self.form(visit, error, 400)
        return see_other(f"{PREFIX}/commands?notice=Saved+{command_id}")
