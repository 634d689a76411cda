"""A run the run form split into several tasks (``split_run``), as one: its tasks' rows in one
merged table (sorted, filtered, searched and grouped in SQL, a page at a time, as one task's
table), its counts, and one Stop for every machine it still runs on.

The run is kept in the store (``/console/runs/RUN-ID``). The address of earlier versions,
``/console/runs?id=t-...&id=...``, is sent on to the stored run, or shows its tasks' list for a
run made before runs were kept.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response

from openassist.errors import ApiError, Forbidden
from openassist.server.console import display, failures, result_table, split_run
from openassist.server.console.task_pages import back_to
from openassist.server.console.web import PREFIX, Console, Visit, see_other
from openassist.server.service.task_tables import TaskSummary
from openassist.server.store.split_runs import SplitRun


def _counted(tasks: list[TaskSummary]) -> dict[str, int]:
    counts = dict.fromkeys(display.OUTCOME_KEYS, 0)
    for view in tasks:
        totals = display.outcome_totals(view.counts)
        counts = {key: counts[key] + totals[key] for key in counts}
    return counts


def _running(tasks: list[TaskSummary]) -> int:
    return sum(n for view in tasks for status, n in view.counts.items() if status in display.ACTIVE)


class RunPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.tables = console.services.task_tables
        self.runs = console.services.split_runs

    async def _tasks(self, visit: Visit, run_id: str) -> tuple[SplitRun, list[TaskSummary]] | None:
        """The run and those of its tasks the visitor may see; None: nothing to show."""
        found = await self.runs.get(run_id)
        if found is None:
            return None
        run, invoke_ids = found
        tasks = await self.tables.several(invoke_ids, visit.guard("DescribeInvocations"))
        return (run, tasks) if tasks else None

    def _missing(self, visit: Visit, what: str) -> Response:
        return self.console.page(visit, "missing.html", 404, what=what)

    async def view(self, visit: Visit) -> Response:
        run_id = visit.request.path_params["run_id"]
        found = await self._tasks(visit, run_id)
        if found is None:
            return self._missing(visit, f"run {run_id}")
        run, tasks = found
        guard = visit.guard("DescribeInvocationResults")
        counts = _counted(tasks)
        ids = tuple(view.invocation.id for view in tasks)
        table = await result_table.table_of(
            self.tables, visit.request.query_params, counts, ids, guard
        )
        return self.console.page(
            visit,
            "runs.html",
            run=run,
            rows=[(view, display.outcome_totals(view.counts)) for view in tasks],
            counts=counts,
            machines=sum(view.total for view in tasks),
            done=sum(view.done for view in tasks),
            running=_running(tasks),
            per_task=self.console.services.limits.max_instances_per_call,
            notice=visit.request.query_params.get("notice", ""),
            live=any(v.invocation.status in display.ACTIVE_TASKS for v in tasks),
            **table,
        )

    async def earlier(self, visit: Visit) -> Response:
        """``/console/runs?id=...``: the stored run its tasks are part of; a run made before
        runs were kept shows its tasks, counted together."""
        wanted = visit.request.query_params.getlist("id")[: split_run.MAX_TASKS]
        runs = set((await self.runs.runs_of(wanted)).values())
        if len(runs) == 1:
            return see_other(f"{PREFIX}/runs/{runs.pop()}")
        tasks = await self.tables.several(wanted, visit.guard("DescribeInvocations"))
        if not tasks:
            return self._missing(visit, "run " + " ".join(wanted))
        return self.console.page(
            visit,
            "runs.html",
            run=None,
            rows=[(view, display.outcome_totals(view.counts)) for view in tasks],
            counts=_counted(tasks),
            machines=sum(view.total for view in tasks),
            done=sum(view.done for view in tasks),
            per_task=self.console.services.limits.max_instances_per_call,
            live=any(v.invocation.status in display.ACTIVE_TASKS for v in tasks),
            live_url="?" + urlencode([*(("id", i) for i in wanted), ("fragment", "1")]),
        )

    async def stop(self, visit: Visit) -> Response:
        """Asked first, with how many machines the run still runs on; then every unfinished task
        of the run is stopped, or none when the visitor may not stop one of its machines."""
        run_id = visit.request.path_params["run_id"]
        page = f"{PREFIX}/runs/{run_id}"
        if visit.form.get("confirm") != "yes":
            found = await self._tasks(visit, run_id)
            if found is None:
                return self._missing(visit, f"run {run_id}")
            _, tasks = found
            return self.console.page(
                visit,
                "confirm_stop.html",
                what="run",
                what_id=run_id,
                action=f"{page}/stop",
                running=_running(tasks),
                total=sum(view.total for view in tasks),
                tasks=sum(1 for v in tasks if v.invocation.status in display.ACTIVE_TASKS),
                back=back_to(visit.form.get("back"), page),
            )
        try:
            visit.refuse_unless("StopInvocation")
            asked = await self.runs.stop(run_id, visit.guard("StopInvocation"))
            notice = f"Stop requested for {asked} machine{'' if asked == 1 else 's'} of this run."
        except Forbidden as refused:  # a forged post: refused as the API refuses it
            return failures.plain(refused)
        except ApiError as error:
            notice = failures.line(error)
        return see_other(back_to(visit.form.get("back"), page, notice=notice))
