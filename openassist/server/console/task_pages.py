"""Command Execution Results: the task list, one task's page (tabs by outcome), output, stop."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import PlainTextResponse, Response

from openassist.errors import ApiError, Forbidden
from openassist.protocol.statuses import InvocationStatus
from openassist.server.console import display, failures
from openassist.server.console.web import PREFIX, SECURITY_HEADERS, Console, Visit, see_other
from openassist.server.service.invocations import TaskView
from openassist.server.store.fleet import InstanceFilter
from openassist.server.store.invocations import InvocationFilter
from openassist.server.store.paging import PageQuery, decode_token, encode_token

PAGE_SIZE = 20
OUTPUT_LIMIT = 16 * 1024 * 1024


def _page_query(token: str, limit: int) -> PageQuery:
    try:
        after = decode_token(token) if token else None
    except ValueError:
        after = None
    # The task list's key is (time, id): any other token starts from the first page.
    return PageQuery(limit=limit, after=after if after and len(after) == 2 else None)


def task_filter(query: dict[str, str]) -> InvocationFilter:
    """The list's filters: status, command (id or exact name), instance, time, invoke id."""
    status = query.get("status", "")
    command = query.get("command", "").strip()
    is_id = command.startswith("c-")
    return InvocationFilter(
        invoke_id=query.get("invoke", "").strip() or None,
        statuses=(status,) if status in {s.value for s in InvocationStatus} else None,
        command_id=command if command and is_id else None,
        command_name=command if command and not is_id else None,
        instance_id=query.get("instance", "").strip() or None,
        created_from=display.parse_when(query.get("from", "")),
        created_to=display.parse_when(query.get("to", "")),
    )


class TaskPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.invocations = console.services.invocations

    async def results(self, visit: Visit) -> Response:
        query = dict(visit.request.query_params)
        where = task_filter(query)
        page = await self.invocations.describe(
            where,
            _page_query(query.get("after", ""), PAGE_SIZE),
            visit.guard("DescribeInvocations"),
        )
        rows = [
            (view, display.outcome_counts(r.status for r in view.instances)) for view in page.items
        ]
        kept = {k: v for k, v in query.items() if k not in ("after", "fragment") and v}
        next_url = ""
        if page.next_key is not None:
            next_url = "?" + urlencode({**kept, "after": encode_token(page.next_key)})
        return self.console.page(
            visit,
            "results.html",
            rows=rows,
            total=page.total,
            query=query,
            statuses=list(InvocationStatus),
            next_url=next_url,
            live=any(v.invocation.status in display.ACTIVE_TASKS for v in page.items),
            live_url="?" + urlencode({**query, "fragment": "1"}),
        )

    async def _confirm_stop(self, visit: Visit, invoke_id: str) -> Response:
        """Stopping a whole task is asked first, with how many machines it still runs on (one
        machine's Stop button names it, and acts at once)."""
        task = await self._task(invoke_id, visit)
        if task is None:
            return self.console.page(visit, "missing.html", 404, what=f"task {invoke_id}")
        running = sum(r.status in display.ACTIVE for r in task.instances)
        return self.console.page(
            visit,
            "confirm_stop.html",
            invoke_id=invoke_id,
            running=running,
            total=len(task.instances),
            tab=visit.form.get("tab") or "running",
        )

    async def _task(self, invoke_id: str, visit: Visit) -> TaskView | None:
        page = await self.invocations.describe(
            InvocationFilter(invoke_id=invoke_id),
            PageQuery(limit=1),
            visit.guard("DescribeInvocations"),
        )
        return page.items[0] if page.items else None

    async def view(self, visit: Visit) -> Response:
        invoke_id = visit.request.path_params["invoke_id"]
        task = await self._task(invoke_id, visit)
        if task is None:
            return self.console.page(visit, "missing.html", 404, what=f"task {invoke_id}")
        counts = display.outcome_counts(r.status for r in task.instances)
        tab = visit.request.query_params.get("tab", "")
        if tab not in display.OUTCOME_KEYS:  # failures first: they are what to look at
            tab = next((k for k in ("failed", *display.OUTCOME_KEYS) if counts[k]), "completed")
        diagnosis = await self.console.services.diagnosis.diagnose(invoke_id)
        hosts = await self.console.services.fleet.list_instances(
            InstanceFilter(ids=tuple(r.instance_id for r in task.instances), registered_only=False),
            PageQuery(limit=len(task.instances) or 1),
        )
        shown = [r for r in task.instances if display.outcome_of(r.status) == tab]
        return self.console.page(
            visit,
            "task.html",
            task=task,
            counts=counts,
            tab=tab,
            shown=shown,
            names={h.id: h.name for h in hosts.items},
            diagnoses={d.instance_id: d for d in diagnosis.instances},
            active=display.ACTIVE,
            notice=visit.request.query_params.get("notice", ""),
            content=task.command.content.decode("utf-8", "replace"),
            live=task.invocation.status in display.ACTIVE_TASKS,
            live_url="?" + urlencode({"tab": tab, "fragment": "1"}),
        )

    async def output(self, visit: Visit) -> Response:
        """The full output kept for one instance (the tail when no full output was kept)."""
        params = visit.request.path_params
        try:
            row, found = await self.invocations.full_output(
                params["invoke_id"], params["instance_id"], 0, OUTPUT_LIMIT
            )
        except ApiError as error:
            return failures.plain(error)
        data = found.data if found.size else row.output
        return PlainTextResponse(data.decode("utf-8", "replace"), headers=SECURITY_HEADERS)

    async def stop(self, visit: Visit) -> Response:
        invoke_id = visit.request.path_params["invoke_id"]
        instance_id = visit.form.get("instance_id")
        if not instance_id and visit.form.get("confirm") != "yes":
            return await self._confirm_stop(visit, invoke_id)
        try:
            visit.refuse_unless("StopInvocation")
            await self.invocations.stop(
                invoke_id, [instance_id] if instance_id else [], visit.guard("StopInvocation")
            )
            notice = "Stop requested for " + (instance_id or "every instance") + "."
        except Forbidden as refused:  # a forged post: refused as the API refuses it
            return failures.plain(refused)
        except ApiError as error:
            notice = failures.line(error)
        tab = visit.form.get("tab") or "running"
        return see_other(
            f"{PREFIX}/invocations/{invoke_id}?" + urlencode({"tab": tab, "notice": notice})
        )
