"""Scheduled tasks under rollout limits (README, "Rollouts"): a Period task given MaxConcurrency or
MaxErrors is fired by the server, each fire a rollout of its own, judged from the agents' own
start and finish times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.backend_fixture import module_cluster
from tests.support.cluster import Agent, Cluster, wait_until
from tests.support.run_log import RunLog, most_at_once

TARGETS = 3
FAST = {
    "OPENASSIST_MIN_RATE_INTERVAL_S": "1",
    "OPENASSIST_MIN_CRON_INTERVAL_S": "1",
    "OPENASSIST_SWEEP_INTERVAL_S": "1",
}


timed = module_cluster("fired", FAST)


@pytest.fixture(scope="module")
def fleet(timed: Cluster) -> list[Agent]:
    return [timed.new_agent(f"fired-{n}") for n in range(TARGETS)]


def _targets(agents: list[Agent]) -> dict[str, str]:
    return {f"InstanceId.{n}": a.instance_id for n, a in enumerate(agents, start=1)}


def _history(cluster: Cluster, invoke_id: str) -> list[dict[str, Any]]:
    answer = cluster.call(
        "DescribeInvocationResults", InvokeId=invoke_id, IncludeHistory="true", MaxResults="50"
    )
    return list(answer["Invocation"]["InvocationResults"]["InvocationResult"])


def _stop(cluster: Cluster, invoke_id: str) -> dict[str, Any]:
    cluster.call("StopInvocation", InvokeId=invoke_id)

    def ended() -> dict[str, Any] | None:
        task = cluster.task(invoke_id)
        return task if task["InvocationStatus"] in ("Stopped", "Success", "Failed") else None

    return dict(wait_until(ended, 60, what=f"{invoke_id} to stop"))


def test_each_fire_runs_every_target_once_no_more_at_once_than_the_limit(
    timed: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    invoke_id = timed.run(
        log.script("sleep 0.3"),
        Frequency="rate(3s)",
        Timeout="2",
        MaxConcurrency="1",
        **_targets(fleet),
    )
    created = timed.task(invoke_id)
    assert (created["Fires"], created["TargetsWaiting"], created["TargetsRunning"]) == (0, 3, 0)
    wait_until(lambda: len(log.runs()) >= 2 * TARGETS, 90, what="two fires")
    task = _stop(timed, invoke_id)
    intervals = log.runs()
    assert most_at_once(intervals) <= 1  # from the scripts' own clocks
    # Once per fire and target: no target ran more often than the task fired.
    per_target: dict[str, int] = {}
    for run in _history(timed, invoke_id):
        # A fire a target could not join is kept too, as a skipped (Cancelled) record.
        if run.get("StartTime") and run["InvocationStatus"] != "Cancelled":
            per_target[run["InstanceId"]] = per_target.get(run["InstanceId"], 0) + 1
    assert sum(per_target.values()) == len(intervals)
    assert max(per_target.values()) <= task["Fires"]
    assert task["Fires"] >= 2 and task["MaxConcurrency"] == "1"


def test_a_fire_that_spends_the_error_budget_leaves_the_rest_for_the_next_fire(
    timed: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    invoke_id = timed.run(
        log.script("false"),
        Frequency="rate(3s)",
        Timeout="2",
        MaxConcurrency="1",
        MaxErrors="0",
        **_targets(fleet),
    )

    def second_fire_spent() -> dict[str, Any] | None:
        task = timed.task(invoke_id)
        return task if task["StopReason"].startswith("fire 2:") else None

    spent = wait_until(second_fire_spent, 90, what="the second fire to spend its budget")
    assert "more than MaxErrors=0 allows" in spent["StopReason"]
    rows = timed.results(invoke_id)
    # Between fires every target waits Scheduled; those the spent budget kept from running
    # say so.
    waiting = [r for r in rows if r["ErrorCode"] == "ErrorBudgetSpent"]
    assert len(waiting) in (0, TARGETS - 1)  # 0: the next fire began meanwhile
    task = _stop(timed, invoke_id)
    # MaxErrors=0: each fire runs one target, which fails, and no other.
    assert 2 <= len(log.runs()) <= task["Fires"]


def test_a_schedule_without_limits_is_still_kept_by_the_agent(
    timed: Cluster, fleet: list[Agent]
) -> None:
    invoke_id = timed.run("true", fleet[0].instance_id, Frequency="rate(1h)")
    wait_until(
        lambda: timed.results(invoke_id)[0]["InvocationStatus"] == "Scheduled",
        30,
        what="the agent to take the schedule",
    )
    assert "Fires" not in timed.task(invoke_id)
    _stop(timed, invoke_id)
