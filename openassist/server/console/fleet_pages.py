"""Instances (agent status, tags, recent tasks) and the Run command and Send file forms."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.responses import Response

from openassist.catalog import api
from openassist.errors import ApiError, NotFound
from openassist.protocol.statuses import CommandType
from openassist.server.console import display, failures, forms
from openassist.server.console.web import PREFIX, Console, Visit, see_other
from openassist.server.service.audit import REFUSAL_CODES
from openassist.server.store.commands import CommandFilter
from openassist.server.store.files import FileTaskFilter
from openassist.server.store.fleet import InstanceFilter
from openassist.server.store.invocations import InvocationFilter
from openassist.server.store.paging import PageQuery
from openassist.server.store.records import Command

LIST_LIMIT = 100
RECENT_TASKS = 10


def _status(error: ApiError) -> int:
    """A form shown again: 403 when policies refused it (as the API answers), else 400."""
    return 403 if error.code in REFUSAL_CODES else 400


class FleetPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.fleet = console.services.fleet

    async def _instances(self, where: InstanceFilter, visit: Visit) -> list[dict[str, Any]]:
        guard = visit.guard("DescribeManagedInstances")
        page = await self.fleet.list_instances(where, PageQuery(limit=LIST_LIMIT), guard)
        ids = [i.id for i in page.items]
        labels = await self.fleet.instance_tags(ids)
        running = await self.fleet.active_task_counts(ids)
        return [
            {
                "instance": i,
                "online": self.fleet.is_online(i),
                "tags": labels.get(i.id, []),
                "running": running.get(i.id, 0),
            }
            for i in page.items
        ]

    async def instances(self, visit: Visit) -> Response:
        tag = forms.parse_tag(visit.request.query_params.get("tag", ""))
        rows = await self._instances(InstanceFilter(tags=(tag,) if tag else ()), visit)
        return self.console.page(
            visit,
            "instances.html",
            rows=rows,
            tag=visit.request.query_params.get("tag", ""),
            live=True,
            live_url="?fragment=1",
        )

    async def instance(self, visit: Visit) -> Response:
        instance_id = visit.request.path_params["instance_id"]
        rows = await self._instances(
            InstanceFilter(ids=(instance_id,), registered_only=False), visit
        )
        if not rows:
            return self.console.page(visit, "missing.html", 404, what=f"instance {instance_id}")
        recent = await self.console.services.invocations.describe(
            InvocationFilter(instance_id=instance_id), PageQuery(limit=RECENT_TASKS)
        )
        return self.console.page(
            visit,
            "instance.html",
            row=rows[0],
            recent=recent.items,
            live=True,
            live_url="?fragment=1",
        )

    async def _saved(self, command_id: str) -> Command | None:
        if not command_id:
            return None
        found = await self.console.services.commands.describe(
            CommandFilter(command_id=command_id), PageQuery(limit=1)
        )
        return found.items[0].command if found.items else None

    async def run_form(
        self, visit: Visit, error: ApiError | None = None, status: int = 200
    ) -> Response:
        source = visit.form if error else None
        query = visit.request.query_params
        command = await self._saved(
            source.get("command_id") if source else query.get("command", "")
        )
        return self.console.page(
            visit,
            "run.html",
            status,
            rows=await self._instances(InstanceFilter(), visit),
            command=command,
            types=list(CommandType),
            picked=set(source.all("instance_id") if source else query.getlist("instance")),
            form=source.fields if source else {},
            error=error,
        )

    async def run(self, visit: Visit) -> Response:
        services, form = self.console.services, visit.form
        action = "InvokeCommand" if form.get("command_id") else "RunCommand"
        try:
            visit.refuse_unless(action)
        except ApiError as error:
            return failures.plain(error)
        try:
            command = await self._saved(form.get("command_id"))
            if form.get("command_id") and command is None:
                raise NotFound(api.COMMAND_NOT_FOUND, command_id=form.get("command_id"))
            args = replace(
                forms.task_args(
                    form,
                    services.limits,
                    visit.session.actor,
                    saved=command is not None,
                    now_ms=services.clock.now_ms(),
                ),
                guard=visit.guard(action),
            )
            if command is not None:
                invoke_id = await services.invocations.invoke_command(command.id, args)
            else:
                spec = forms.command_spec(form)
                _, invoke_id = await services.invocations.run_command(spec, args)
        except ApiError as error:
            return await self.run_form(visit, error, _status(error))
        return see_other(f"{PREFIX}/invocations/{invoke_id}")

    async def send_form(
        self, visit: Visit, error: ApiError | None = None, status: int = 200
    ) -> Response:
        return self.console.page(
            visit,
            "sendfile.html",
            status,
            rows=await self._instances(InstanceFilter(), visit),
            picked=set(visit.form.all("instance_id")),
            form=visit.form.fields,
            error=error,
        )

    async def send(self, visit: Visit) -> Response:
        services = self.console.services
        try:
            visit.refuse_unless("SendFile")
        except ApiError as error:
            return failures.plain(error)
        try:
            ids = await forms.resolved(visit.form, self.fleet, 50)
            args = replace(
                forms.send_file_args(visit.form, services.limits, visit.session.actor, ids),
                guard=visit.guard("SendFile"),
            )
            invoke_id = await services.files.send(args)
        except ApiError as error:
            return await self.send_form(visit, error, _status(error))
        return see_other(f"{PREFIX}/files/{invoke_id}")

    async def file_task(self, visit: Visit) -> Response:
        invoke_id = visit.request.path_params["invoke_id"]
        found = await self.console.services.files.describe(
            FileTaskFilter(invoke_id=invoke_id),
            PageQuery(limit=1),
            visit.guard("DescribeSendFileResults"),
        )
        if not found.items:
            return self.console.page(visit, "missing.html", 404, what=f"file task {invoke_id}")
        view = found.items[0]
        return self.console.page(
            visit,
            "filetask.html",
            view=view,
            live=view.task.status in display.ACTIVE_TASKS,
            live_url="?fragment=1",
        )
