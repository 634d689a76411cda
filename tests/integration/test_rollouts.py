"""Rollouts (README, "Rollouts"): MaxConcurrency and MaxErrors of RunCommand / InvokeCommand, held
by the server across real agents, judged from the agents' own start and finish times."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Agent, Cluster, wait_until
from tests.support.console import csrf_of, signed_in, text_of
from tests.support.run_log import RunLog, most_at_once

TARGETS = 6


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> list[Agent]:
    return [cluster.new_agent(f"rollout-{n}") for n in range(TARGETS)]


def _targets(agents: list[Agent]) -> dict[str, str]:
    return {f"InstanceId.{n}": a.instance_id for n, a in enumerate(agents, start=1)}


@pytest.mark.parametrize("limit, allowed", [("2", 2), ("50%", 3)])
def test_no_more_targets_run_at_once_than_max_concurrency(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path, limit: str, allowed: int
) -> None:
    log = RunLog.made_in(tmp_path)
    invoke_id = cluster.run(log.script(), MaxConcurrency=limit, **_targets(fleet))
    results = cluster.wait_final(invoke_id, timeout_s=120)
    assert [r["InvocationStatus"] for r in results] == ["Success"] * TARGETS
    intervals = log.runs()
    assert len(intervals) == TARGETS  # each target ran once
    assert most_at_once(intervals) <= allowed
    task = cluster.task(invoke_id)
    assert (task["MaxConcurrency"], task["MaxErrors"], task["StopReason"]) == (limit, "", "")
    assert (task["TargetsWaiting"], task["TargetsRunning"], task["TargetsDone"]) == (0, 0, 6)


def test_the_error_budget_stops_the_rollout_and_cancels_the_rest(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    script = log.script("false")
    invoke_id = cluster.run(script, MaxConcurrency="1", MaxErrors="1", **_targets(fleet))
    results = cluster.wait_final(invoke_id, timeout_s=120)
    by_status: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        by_status.setdefault(result["InvocationStatus"], []).append(result)
    # One at a time: the first failure is within the budget, the second spends it.
    assert sorted(by_status) == ["Cancelled", "Failed"]
    assert len(by_status["Failed"]) == 2 and len(by_status["Cancelled"]) == TARGETS - 2
    assert len(log.runs()) == 2  # the cancelled targets never ran
    for cancelled in by_status["Cancelled"]:
        assert cancelled["ErrorCode"] == "ErrorBudgetSpent"
        assert "error budget was spent: 2 target(s) failed" in cancelled["ErrorInfo"]
        assert cancelled["StartTime"] in ("", None)
    task = cluster.task(invoke_id)
    assert task["InvocationStatus"] == "Failed"
    assert "2 target(s) failed" in task["StopReason"] and "MaxErrors=1" in task["StopReason"]
    assert (task["TargetsWaiting"], task["TargetsRunning"], task["TargetsDone"]) == (0, 0, 6)


def test_a_percentage_budget_lets_that_many_fail(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    # 50% of 6 allows 3 failures: the fourth spends the budget; 2 targets are never started.
    invoke_id = cluster.run(
        log.script("false"), MaxConcurrency="1", MaxErrors="50%", **_targets(fleet)
    )
    results = cluster.wait_final(invoke_id, timeout_s=120)
    statuses = sorted(r["InvocationStatus"] for r in results)
    assert statuses == ["Cancelled"] * 2 + ["Failed"] * 4
    assert len(log.runs()) == 4


def test_a_server_killed_mid_rollout_resumes_it_with_its_limit_and_runs_nothing_twice(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log, gate = RunLog.made_in(tmp_path), tmp_path / "gate"
    wait = f"while [ ! -e {gate} ]; do sleep 0.05; done"
    invoke_id = cluster.run(log.script(wait), MaxConcurrency="2", **_targets(fleet))

    def two_running() -> bool:
        # Started (not just handed out): a kill between the hand-out and the agent's answer is
        # the redelivery path's business, not the rollout's.
        started = [r for r in cluster.results(invoke_id) if r["InvocationStatus"] == "Running"]
        task = cluster.task(invoke_id)
        return len(started) == 2 and task["TargetsWaiting"] == TARGETS - 2

    wait_until(two_running, 60, what="the first batch to start")
    cluster.kill_server()
    gate.touch()  # the first batch ends while the server is down
    cluster.restart_server()
    results = cluster.wait_final(invoke_id, timeout_s=180)
    statuses = [(r["InvocationStatus"], r["ErrorCode"], r["ErrorInfo"]) for r in results]
    assert [s[0] for s in statuses] == ["Success"] * TARGETS, statuses
    intervals = log.runs()
    assert len(intervals) == TARGETS  # nobody ran it twice, nobody was left out
    assert most_at_once(intervals) <= 2
    assert cluster.task(invoke_id)["MaxConcurrency"] == "2"


def test_batch_wait_keeps_a_freed_slot_empty_that_long(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    targets = _targets(fleet[:3])
    invoke_id = cluster.run(log.script("true"), MaxConcurrency="1", BatchWait="1", **targets)
    results = cluster.wait_final(invoke_id, timeout_s=120)
    assert [r["InvocationStatus"] for r in results] == ["Success"] * 3
    runs = sorted(log.runs(), key=lambda r: r.start)
    assert len(runs) == 3
    # The server lets the next target go 1 s after it stored the previous one's end, which
    # the agent recorded before it reported it (one host, one clock).
    for previous, following in itertools.pairwise(runs):
        assert following.start - previous.end >= 1.0
    assert cluster.task(invoke_id)["BatchWait"] == 1


def test_a_task_without_limits_shows_no_rollout_fields(
    cluster: Cluster, fleet: list[Agent]
) -> None:
    invoke_id = cluster.run("true", fleet[0].instance_id)
    cluster.wait_final(invoke_id)
    assert "MaxConcurrency" not in cluster.task(invoke_id)


@pytest.mark.parametrize(
    "name, value, code",
    [
        ("MaxConcurrency", "0", "InvalidRolloutLimit.Zero"),
        ("MaxConcurrency", "0%", "InvalidRolloutLimit.Zero"),
        ("MaxConcurrency", "101%", "InvalidRolloutLimit.PercentTooLarge"),
        ("MaxConcurrency", "-3", "InvalidRolloutLimit.Negative"),
        ("MaxConcurrency", "ten", "InvalidRolloutLimit.Malformed"),
        ("MaxConcurrency", "1.5", "InvalidRolloutLimit.Malformed"),
        ("MaxErrors", "-1", "InvalidRolloutLimit.Negative"),
        ("MaxErrors", "250%", "InvalidRolloutLimit.PercentTooLarge"),
        ("MaxErrors", "%", "InvalidRolloutLimit.Malformed"),
        ("BatchWait", "-1", "InvalidParameter.BatchWait"),
        ("BatchWait", "soon", "InvalidParameter.BatchWait"),
        ("BatchWait", "3601", "InvalidParameter.BatchWait"),
    ],
)
def test_bad_limits_get_their_documented_code(
    cluster: Cluster, fleet: list[Agent], name: str, value: str, code: str
) -> None:
    given = {name: value, **({"MaxConcurrency": "1"} if name == "BatchWait" else {})}
    with pytest.raises(ApiCallError) as refused:
        cluster.run("true", fleet[0].instance_id, **given)
    assert (refused.value.status, refused.value.code) == (400, code)
    assert name in refused.value.message
    if name != "BatchWait":
        assert repr(value) in refused.value.message


def test_batch_wait_needs_max_concurrency(cluster: Cluster, fleet: list[Agent]) -> None:
    with pytest.raises(ApiCallError) as refused:
        cluster.run("true", fleet[0].instance_id, BatchWait="5")
    assert refused.value.code == "InvalidRolloutLimit.BatchWaitWithoutConcurrency"
    assert "MaxConcurrency" in refused.value.message


def test_invoke_command_through_the_cli_takes_the_limits(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    helped = cluster.cli("ecs", "InvokeCommand", "--help")
    assert "--MaxConcurrency" in helped.stdout and "--MaxErrors" in helped.stdout
    log = RunLog.made_in(tmp_path)
    command_id = cluster.call(
        "CreateCommand",
        Name="rollout",
        Type="RunShellScript",
        ContentEncoding="PlainText",
        CommandContent=log.script("false"),
    )["CommandId"]
    targets = [
        item for n, a in enumerate(fleet, start=1) for item in (f"--InstanceId.{n}", a.instance_id)
    ]
    invoked = cluster.cli(
        "ecs",
        "InvokeCommand",
        "--CommandId",
        command_id,
        *targets,
        "--MaxErrors",
        "0",
        "--MaxConcurrency",
        "1",
    )
    assert invoked.returncode == 0, invoked.stderr
    invoke_id = json.loads(invoked.stdout)["InvokeId"]
    results = cluster.wait_final(invoke_id, timeout_s=120)
    # MaxErrors=0: the first failure spends the budget.
    statuses = sorted(r["InvocationStatus"] for r in results)
    assert statuses == ["Cancelled"] * (TARGETS - 1) + ["Failed"]
    assert len(log.runs()) == 1


def test_openassist_run_rolls_out_and_shows_the_spent_budget(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    targets = [item for agent in fleet[:4] for item in ("-i", agent.instance_id)]
    done = cluster.cli(
        "run",
        log.script("false"),
        *targets,
        "--max-concurrency",
        "25%",
        "--max-errors",
        "1",
        "--batch-wait",
        "0",
        "--json",
    )
    assert done.returncode == 2, done.stderr  # some machine failed
    codes = sorted(row["ErrorCode"] for row in json.loads(done.stdout)["InvocationResults"])
    assert codes == ["ErrorBudgetSpent"] * 2 + ["ExitCodeNonzero"] * 2
    assert len(log.runs()) == 2
    shown = cluster.cli("run", "false", *targets, "--max-concurrency", "1", "--max-errors", "0")
    assert shown.returncode == 2, shown.stderr
    assert "more than MaxErrors=0 allows" in shown.stdout
    last = shown.stdout.splitlines()[-1]
    assert (
        last.startswith("4 machines: 1 failed (") and "3 not started (error budget spent)" in last
    )


def test_an_offline_target_waits_for_its_agent_until_the_delivery_deadline(
    cluster: Cluster, tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    agent = cluster.new_agent("comes-back")
    agent.stop()  # its service stops and says goodbye: ClientNotRunning without a deadline
    invoke_id = cluster.run(log.script("true"), agent.instance_id, DeliveryDeadline="600")
    [waiting] = cluster.results(invoke_id)
    assert (waiting["InvocationStatus"], waiting["ErrorCode"]) == ("Pending", "")
    assert cluster.task(invoke_id)["DeliveryDeadline"].endswith("Z")
    cluster.start_agent(agent)
    [result] = cluster.wait_final(invoke_id, timeout_s=60)
    assert result["InvocationStatus"] == "Success"
    assert len(log.runs()) == 1  # exactly once


def test_a_target_back_after_the_delivery_deadline_never_runs_it(
    cluster: Cluster, tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    agent = cluster.new_agent("too-late")
    agent.stop()
    invoke_id = cluster.run(log.script("true"), agent.instance_id, DeliveryDeadline="2")
    [ended] = cluster.wait_final(invoke_id, timeout_s=60)  # the sweeper ends it past the deadline
    assert (ended["InvocationStatus"], ended["ErrorCode"]) == ("Aborted", "ClientNotRunning")
    assert "DeliveryDeadline" in ended["ErrorInfo"] and "goodbye" in ended["ErrorInfo"]
    cluster.start_agent(agent)
    [later] = cluster.wait_final(cluster.run("true", agent.instance_id), timeout_s=60)
    assert later["InvocationStatus"] == "Success"  # it fetched its task list since
    assert log.runs() == []


@pytest.mark.parametrize(
    "value, code",
    [
        ("soon", "InvalidDeliveryDeadline.Malformed"),
        ("2030-01-02 03:04:05", "InvalidDeliveryDeadline.Malformed"),
        ("0", "InvalidDeliveryDeadline.OutOfRange"),
        ("-5", "InvalidDeliveryDeadline.OutOfRange"),
        ("604801", "InvalidDeliveryDeadline.OutOfRange"),
        ("2000-01-01T00:00:00Z", "InvalidDeliveryDeadline.OutOfRange"),
    ],
)
def test_bad_delivery_deadlines_get_their_documented_code(
    cluster: Cluster, fleet: list[Agent], value: str, code: str
) -> None:
    with pytest.raises(ApiCallError) as refused:
        cluster.run("true", fleet[0].instance_id, DeliveryDeadline=value)
    assert (refused.value.status, refused.value.code) == (400, code)
    assert repr(value) in refused.value.message


@pytest.mark.parametrize("mode", ["EveryReboot", "NextRebootOnly"])
def test_a_reboot_task_takes_no_rollout_limits(
    cluster: Cluster, fleet: list[Agent], mode: str
) -> None:
    # Each machine runs it at its own boot: there is no fleet-wide fire to roll out.
    with pytest.raises(ApiCallError) as refused:
        cluster.run("true", fleet[0].instance_id, RepeatMode=mode, MaxConcurrency="1")
    assert (refused.value.status, refused.value.code) == (400, "InvalidRolloutLimit.TimedTask")
    assert mode in refused.value.message and "own boot" in refused.value.message


def test_stopping_a_rollout_cancels_the_held_targets_and_lets_none_go(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log, gate = RunLog.made_in(tmp_path), tmp_path / "gate"
    wait = f"while [ ! -e {gate} ]; do sleep 0.05; done"
    invoke_id = cluster.run(log.script(wait), MaxConcurrency="1", **_targets(fleet))
    wait_until(
        lambda: any(r["InvocationStatus"] == "Running" for r in cluster.results(invoke_id)), 60
    )
    cluster.call("StopInvocation", InvokeId=invoke_id)
    results = cluster.wait_final(invoke_id, timeout_s=60)
    statuses = sorted(r["InvocationStatus"] for r in results)
    assert statuses == ["Cancelled"] * (TARGETS - 1) + ["Terminated"]
    gate.touch()
    assert cluster.task(invoke_id)["TargetsDone"] == TARGETS
    [later] = cluster.wait_final(cluster.run("true", fleet[-1].instance_id))
    assert later["InvocationStatus"] == "Success"
    assert len(log.runs()) <= 1  # only the stopped run may have got to its end


def test_the_console_run_form_takes_the_rollout_limits(
    cluster: Cluster, fleet: list[Agent], tmp_path: Path
) -> None:
    log = RunLog.made_in(tmp_path)
    with signed_in(cluster) as client:
        page = client.get("/console/run")
        assert 'name="max_concurrency"' in page.text and 'name="max_errors"' in page.text
        fields = {
            "csrf": csrf_of(page.text),
            "content": log.script("false"),
            "instance_id": [a.instance_id for a in fleet[:3]],
            "schedule": "once",
            "max_concurrency": "1",
            "max_errors": "0",
        }
        started = client.post("/console/run", data=fields)
        assert started.status_code == 303, text_of(started.text)
        invoke_id = started.headers["location"].rsplit("/", 1)[-1]
        bad = client.post("/console/run", data={**fields, "max_concurrency": "0"})
        assert bad.status_code == 400 and "InvalidRolloutLimit.Zero" in bad.text
    statuses = sorted(r["InvocationStatus"] for r in cluster.wait_final(invoke_id, 120))
    assert statuses == ["Cancelled", "Cancelled", "Failed"]
    assert len(log.runs()) == 1
    with signed_in(cluster) as client:
        shown = text_of(client.get(f"/console/invocations/{invoke_id}").text)
    assert "Rollout: at most 1 at once, stop after more than 0 failed." in shown
    assert "0 waiting, 0 running, 3 done." in shown
    assert "Rollout stopped: the error budget was spent: 1 target(s) failed" in shown
