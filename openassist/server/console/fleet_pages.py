"""Instances (agent status, tags, recent tasks) and the Run command and Send file forms."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from openassist.catalog import api
from openassist.errors import ApiError, NotFound
from openassist.protocol.statuses import CommandType
from openassist.server.console import display, failures, forms, split_run, targets
from openassist.server.console.web import PREFIX, Console, Form, Visit, see_other
from openassist.server.service.audit import REFUSAL_CODES
from openassist.server.service.guard import UNGUARDED, Guard
from openassist.server.store.commands import CommandFilter
from openassist.server.store.files import FileTaskFilter
from openassist.server.store.fleet import InstanceFilter
from openassist.server.store.invocations import ResultFilter
from openassist.server.store.paging import Page, PageQuery, decode_token, encode_token
from openassist.server.store.records import Command, Instance

LIST_LIMIT = 100
SEND_LIMIT = 50  # SendFile's InstanceId.N
RECENT_TASKS = 10


def _status(error: ApiError) -> int:
    """A form shown again: 403 when policies refused it (as the API answers), else 400."""
    return 403 if error.code in REFUSAL_CODES else 400


class FleetPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.fleet = console.services.fleet

    async def _instances(
        self, where: InstanceFilter, visit: Visit, page: PageQuery | None = None
    ) -> tuple[list[dict[str, Any]], Page[Instance]]:
        guard = visit.guard("DescribeManagedInstances")
        found = await self.fleet.list_instances(where, page or PageQuery(limit=LIST_LIMIT), guard)
        ids = [i.id for i in found.items]
        labels = await self.fleet.instance_tags(ids)
        running = await self.fleet.active_task_counts(ids)
        rows = [
            {
                "instance": i,
                "online": self.fleet.is_online(i),
                "tags": labels.get(i.id, []),
                "running": running.get(i.id, 0),
            }
            for i in found.items
        ]
        return rows, found

    async def instances(self, visit: Visit) -> Response:
        """Every registered machine, 100 a page (newest first), by name, tag and presence."""
        query = visit.request.query_params
        presence = query.get("agent", "")
        since = self.fleet.online_since()
        where = InstanceFilter(
            name_like=query.get("q", "").strip()[:128],
            tags=forms.parse_tags(query.get("tag", "")),
            connected_since=since if presence == "online" else None,
            disconnected_before=since if presence == "offline" else None,
        )
        token = query.get("after", "")
        try:
            after = decode_token(token) if token else None
        except ValueError:
            after = None
        rows, found = await self._instances(where, visit, PageQuery(LIST_LIMIT, after=after))
        kept = {k: v for k, v in query.items() if k in ("q", "tag", "agent") and v}
        next_url = ""
        if found.next_key is not None:
            next_url = "?" + urlencode({**kept, "after": encode_token(found.next_key)})
        return self.console.page(
            visit,
            "instances.html",
            rows=rows,
            total=found.total,
            kept=kept,
            next_url=next_url,
            live=True,
            live_url="?"
            + urlencode({**kept, "fragment": "1", **({"after": token} if token else {})}),
        )

    async def instance(self, visit: Visit) -> Response:
        instance_id = visit.request.path_params["instance_id"]
        rows, _ = await self._instances(
            InstanceFilter(ids=(instance_id,), registered_only=False), visit
        )
        if not rows:
            return self.console.page(visit, "missing.html", 404, what=f"instance {instance_id}")
        recent, tasks, cmds = await self.console.services.invocations.results(
            ResultFilter(instance_id=instance_id),
            PageQuery(limit=RECENT_TASKS),
            visit.guard("DescribeInvocationResults"),
        )
        return self.console.page(
            visit,
            "instance.html",
            row=rows[0],
            recent=[
                (r, tasks[r.invoke_id], cmds[tasks[r.invoke_id].command_id]) for r in recent.items
            ],
            live=True,
            live_url="?fragment=1",
        )

    async def _saved(self, command_id: str, guard: Guard = UNGUARDED) -> Command | None:
        """A saved command (shown on the form only when ``guard`` lets the visitor see it; a run
        is checked by the run's own guard)."""
        if not command_id:
            return None
        found = await self.console.services.commands.describe(
            CommandFilter(command_id=command_id), PageQuery(limit=1), guard
        )
        return found.items[0].command if found.items else None

    async def run_form(
        self, visit: Visit, error: ApiError | None = None, status: int = 200
    ) -> Response:
        source = visit.form if error or visit.form.get("preview") else None
        query = visit.request.query_params
        command = await self._saved(
            source.get("command_id") if source else query.get("command", ""),
            visit.guard("DescribeCommands"),
        )
        asked = source or targets.form_of_query(visit)
        picked = asked.all("instance_id") or asked.all("instance")
        counted = None
        if source or picked:
            chosen = Form({**asked.fields, "instance_id": picked})
            counted = await targets.count_of(self.console, visit, chosen, "RunCommand")
        return self.console.page(
            visit,
            "run.html",
            status,
            command=command,
            types=list(CommandType),
            picked=picked,
            counted=counted,
            count_for="run",
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
        if form.get("preview"):  # the Count button (no script): the form again, counted
            return await self.run_form(visit)
        try:
            command = await self._saved(form.get("command_id"))
            if form.get("command_id") and command is None:
                raise NotFound(api.COMMAND_NOT_FOUND, command_id=form.get("command_id"))
            limit = services.limits.max_instances_per_call * split_run.MAX_TASKS
            ids = await forms.resolved(form, services.targeting, visit.guard(action), limit)
            args = replace(
                forms.task_args(
                    form,
                    visit.session.actor,
                    command is not None,
                    ids,
                    now_ms=services.clock.now_ms(),
                ),
                guard=visit.guard(action),
            )
            spec = None if command is not None else forms.command_spec(form)
            saved = command.id if command is not None else ""
            run_id, invoke_ids = await split_run.start(services, spec, saved, args)
        except ApiError as error:
            return await self.run_form(visit, error, _status(error))
        if not run_id:
            return see_other(f"{PREFIX}/invocations/{invoke_ids[0]}")
        return see_other(f"{PREFIX}/runs/{run_id}")

    async def send_form(
        self, visit: Visit, error: ApiError | None = None, status: int = 200
    ) -> Response:
        source = visit.form if error or visit.form.get("preview") else None
        picked = visit.form.all("instance_id") or visit.request.query_params.getlist("instance")
        counted = None
        if source:
            counted = await targets.count_of(self.console, visit, source, "SendFile")
        return self.console.page(
            visit,
            "sendfile.html",
            status,
            picked=picked,
            counted=counted,
            count_for="send",
            form=visit.form.fields,
            error=error,
        )

    async def send(self, visit: Visit) -> Response:
        services = self.console.services
        try:
            visit.refuse_unless("SendFile")
        except ApiError as error:
            return failures.plain(error)
        if visit.form.get("preview"):
            return await self.send_form(visit)
        try:
            guard = visit.guard("SendFile")
            ids = await forms.resolved(visit.form, services.targeting, guard, SEND_LIMIT)
            args = replace(
                forms.send_file_args(visit.form, services.limits, visit.session.actor, ids),
                guard=guard,
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
