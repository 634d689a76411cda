"""A StopInvocation that meets the end of a run (issue 19's last edge), on SQLite and PostgreSQL.

The test speaks for the agent (``HeldAgent``), so the order is exact: the run's final report is
held while the stop is marked and then let go, or it is taken before the stop. An agent whose
one-off run is over when the stop reaches it sends nothing more (its final report was the last
word), so in either order the row must end at once with the run's outcome or as stopped: never
left Stopping until the stop timeout (30 s) ends it Error. Seen on a server-fired schedule (a
Period task with rollout limits), whose fire is a one-off run on the agent with no schedule
there to stop; a schedule the agent keeps is stopped by the agent's ``stopped`` report (see
test_agent_schedule_stop for the agent's side)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from msgspec.structs import replace

from openassist.agent.tasks import base_report, canceled_report
from openassist.protocol import agent as wire
from openassist.protocol.reports import ReportKind, StopResult, TaskReport
from tests.support.backend_fixture import module_cluster
from tests.support.cluster import Cluster, wait_until
from tests.support.held_agent import HeldAgent

FAST = {"OPENASSIST_MIN_RATE_INTERVAL_S": "1"}
# How each kind of task is asked for, and what its row ends as (stop marked before the final
# report, final report taken before the stop).
KINDS: dict[str, tuple[dict[str, str], str, str]] = {
    "once": ({}, "Success", "Success"),
    # A server-fired fire's run ends the fire; the stop then ends the schedule. A second fire
    # (4 s after the first) would only add a skipped record while the row is busy.
    "fired": (
        {"Frequency": "rate(4s)", "Timeout": "1", "MaxConcurrency": "1"},
        "Terminated",
        "Cancelled",
    ),
    # A schedule the agent keeps: the agent answers the stop with ``stopped``, after the run's
    # own report when the run ended by itself as the stop came (agent.schedule).
    "kept": ({"Frequency": "rate(4s)", "Timeout": "1"}, "Terminated", "Terminated"),
}


cluster = module_cluster("meets", FAST)


def _handed_out(agent: HeldAgent) -> wire.RunItem:
    """The run the server hands the agent (a server-fired task's at its first fire)."""

    def fetched() -> wire.RunItem | None:
        agent.heartbeat()  # online at the fire
        listing = agent.task_list()
        return listing.run[0] if listing.run else None

    item: wire.RunItem = wait_until(fetched, 60, 0.2, "the run to be handed out")
    return item


def _row(cluster: Cluster, invoke_id: str) -> dict[str, Any]:
    [row] = cluster.results(invoke_id)
    return row


@pytest.mark.parametrize("stop_first", [True, False], ids=["stop-then-report", "report-then-stop"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_stop_that_meets_the_end_of_a_run_never_leaves_the_row_stopping(
    cluster: Cluster, kind: str, stop_first: bool
) -> None:
    params, after_stop, after_report = KINDS[kind]
    agent = HeldAgent(cluster, f"meets-{kind}-{stop_first}")
    agent.heartbeat()
    invoke_id = cluster.run("echo ok", agent.instance_id, **params)
    task = _handed_out(agent).task
    started = int(time.time() * 1000)
    base = TaskReport(
        kind=ReportKind.RUNNING, task_id=task.taskID, invoke_version=task.invokeVersion
    )
    agent.report(replace(base, start_ms=started))
    assert _row(cluster, invoke_id)["InvocationStatus"] == "Running"
    final = replace(
        base,
        kind=ReportKind.FINISH,
        start_ms=started,
        end_ms=started + 5,
        exit_code=0,
        output=b"ok\n",
    )
    if stop_first:
        cluster.call("StopInvocation", InvokeId=invoke_id)
        assert _row(cluster, invoke_id)["InvocationStatus"] == "Stopping"
        agent.report(final)  # the held report let go: the run ended before the stop got there
    else:
        agent.report(final)
        cluster.call("StopInvocation", InvokeId=invoke_id)
    if kind == "kept":  # the schedule's ``stopped``: start 0 when it cut no run short
        assert _row(cluster, invoke_id)["InvocationStatus"] == "Stopping"
        stopped = replace(final, kind=ReportKind.STOPPED, result=StopResult.KILLED, output=b"")
        agent.report(replace(stopped, start_ms=0) if stop_first else stopped)
    row = _row(cluster, invoke_id)
    assert row["InvocationStatus"] == (after_stop if stop_first else after_report)
    assert cluster.task(invoke_id)["InvocationStatus"] not in ("Running", "Stopping", "Pending")
    if kind != "once":  # the run is kept with its own outcome
        answer = cluster.call(
            "DescribeInvocationResults", InvokeId=invoke_id, IncludeHistory="true"
        )
        runs = answer["Invocation"]["InvocationResults"]["InvocationResult"]
        ran = [r for r in runs if r.get("StartTime") and r["InvocationStatus"] != "Cancelled"]
        assert [(r["InvocationStatus"], r["ExitCode"]) for r in ran] == [("Success", 0)]


def test_a_run_stopped_while_the_agent_prepares_it_ends_cancelled(cluster: Cluster) -> None:
    """The agent took the run but was still preparing it (secrets, container) when the stop came:
    it never starts the run and answers with the report of a run stopped before it began (the
    unit test test_agent_stop_preparing drives the agent's side); the row ends Cancelled."""
    agent = HeldAgent(cluster, "meets-preparing")
    agent.heartbeat()
    invoke_id = cluster.run("echo ok", agent.instance_id)
    task = _handed_out(agent).task
    cluster.call("StopInvocation", InvokeId=invoke_id)
    assert _row(cluster, invoke_id)["InvocationStatus"] == "Stopping"
    agent.report(canceled_report(base_report(task)))
    assert _row(cluster, invoke_id)["InvocationStatus"] == "Cancelled"
    assert cluster.task(invoke_id)["InvocationStatus"] not in ("Running", "Stopping", "Pending")
