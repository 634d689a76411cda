"""Command Execution Results: the task list, one task's page (its results as a table or as
groups of identical output, by outcome), one machine's card, output, stop."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.responses import PlainTextResponse, Response

from openassist.errors import ApiError, Forbidden
from openassist.protocol.statuses import InvocationStatus
from openassist.server.console import display, failures, result_table
from openassist.server.console.web import PREFIX, SECURITY_HEADERS, Console, Visit, see_other
from openassist.server.lifecycle.rollout import batch_of
from openassist.server.store.invocations import InvocationFilter, ResultFilter
from openassist.server.store.paging import PageQuery, decode_token, encode_token
from openassist.server.store.records import InvocationInstance

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
        self.tables = console.services.task_tables

    async def results(self, visit: Visit) -> Response:
        query = dict(visit.request.query_params)
        where = task_filter(query)
        page = await self.tables.summaries(
            where,
            _page_query(query.get("after", ""), PAGE_SIZE),
            visit.guard("DescribeInvocations"),
        )
        rows = [(view, display.outcome_totals(view.counts)) for view in page.items]
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
        task = await self.tables.summary(invoke_id, visit.guard("DescribeInvocations"))
        if task is None:
            return self.console.page(visit, "missing.html", 404, what=f"task {invoke_id}")
        running = sum(n for status, n in task.counts.items() if status in display.ACTIVE)
        return self.console.page(
            visit,
            "confirm_stop.html",
            what="task",
            what_id=invoke_id,
            action=f"{PREFIX}/invocations/{invoke_id}/stop",
            running=running,
            total=task.total,
            tasks=0,
            back=back_to(visit.form.get("back"), f"{PREFIX}/invocations/{invoke_id}"),
        )

    async def view(self, visit: Visit) -> Response:
        invoke_id = visit.request.path_params["invoke_id"]
        guard = visit.guard("DescribeInvocations")
        task = await self.tables.summary(invoke_id, guard)
        if task is None:
            return self.console.page(visit, "missing.html", 404, what=f"task {invoke_id}")
        counts = display.outcome_totals(task.counts)
        table = await result_table.table_of(
            self.tables, visit.request.query_params, counts, (invoke_id,), guard
        )
        return self.console.page(
            visit,
            "task.html",
            task=task,
            counts=counts,
            notice=visit.request.query_params.get("notice", ""),
            content=task.command.content.decode("utf-8", "replace"),
            batch=batch_of(task.invocation.max_concurrency, task.total, task.total - task.waiting),
            live=task.invocation.status in display.ACTIVE_TASKS,
            **table,
        )

    async def _row(self, visit: Visit) -> InvocationInstance | None:
        """The row of the path's task and machine, when the user's policies let them see that
        machine (DescribeInvocationResults); None otherwise, as for a task that is not there."""
        params = visit.request.path_params
        found, _, _ = await self.invocations.results(
            ResultFilter(invoke_id=params["invoke_id"], instance_id=params["instance_id"]),
            PageQuery(limit=1),
            visit.guard("DescribeInvocationResults"),
        )
        return found.items[0] if found.items else None

    def _missing(self, visit: Visit) -> Response:
        params = visit.request.path_params
        what = f"machine {params['instance_id']} in task {params['invoke_id']}"
        return self.console.page(visit, "missing.html", 404, what=what)

    async def card(self, visit: Visit) -> Response:
        """One machine's full result: status, codes, diagnosis and fix, output."""
        row = await self._row(visit)
        if row is None:
            return self._missing(visit)
        invoke_id, instance_id = row.invoke_id, row.instance_id
        diagnosis = await self.console.services.diagnosis.diagnose(invoke_id, instance_id)
        host = await self.console.services.fleet.instance(instance_id)
        return self.console.page(
            visit,
            "card.html",
            invoke_id=invoke_id,
            row=row,
            name=host.name if host else "",
            d=diagnosis.instances[0] if diagnosis.instances else None,
            active=display.ACTIVE,
            notice=visit.request.query_params.get("notice", ""),
            live=row.status in display.ACTIVE,
            live_url="?fragment=1",
        )

    async def output(self, visit: Visit) -> Response:
        """The full output kept for one instance (the tail when no full output was kept), for
        a machine the user may see."""
        if await self._row(visit) is None:
            return self._missing(visit)
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
        back = back_to(visit.form.get("back"), f"{PREFIX}/invocations/{invoke_id}", notice=notice)
        return see_other(back)


def back_to(given: str, otherwise: str, **params: str) -> str:
    """Where a stop form returns, with ``params``: the page it was sent from (a task page, a
    machine's card or a run's page), else ``otherwise``."""
    path, _, query = given.partition("?")
    ours = path.startswith((f"{PREFIX}/invocations/", f"{PREFIX}/runs/"))
    if not ours or "//" in path or "\\" in path:
        path, query = otherwise, ""
    kept = [(k, v) for k, v in parse_qsl(query) if k not in params and k != "fragment"]
    return path + "?" + urlencode([*kept, *params.items()])
