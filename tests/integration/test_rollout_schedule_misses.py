"""What one fire of a server-fired schedule (a Period task given rollout limits) misses stays a
miss of that fire only: a target whose agent is away at a fire ends that fire with its agent's
code, kept in the schedule's history, and runs again at the next fire it is back for; a fire
whose error budget was spent keeps a Cancelled record for each target it did not start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.test_rollout_schedules import FAST, _history, _stop
from tests.support.backend_fixture import module_cluster
from tests.support.cluster import Agent, Cluster, wait_until
from tests.support.run_log import RunLog

fired = module_cluster("misses", FAST)


# An agent silent for this long counts as offline; the agents of `silent` heartbeat every second,
# so only a frozen one goes quiet that long.
ONLINE_WINDOW_S = 4


silent = module_cluster("silent", {**FAST, "OPENASSIST_HEARTBEAT_ONLINE_S": str(ONLINE_WINDOW_S)})


def _ran(log: RunLog, agent: Agent) -> int:
    """How many runs ``agent`` finished, by its own record."""
    return sum(run.instance_id == agent.instance_id for run in log.runs())


def _schedule(cluster: Cluster, log: RunLog, agents: list[Agent], **params: str) -> str:
    targets = {f"InstanceId.{n}": a.instance_id for n, a in enumerate(agents, start=1)}
    return cluster.run(
        log.script(params.pop("body", "true"), with_instance_id=True),
        EnableParameter="true",
        Frequency="rate(3s)",
        Timeout="2",
        **targets,
        **params,
    )


def _records(cluster: Cluster, invoke_id: str, agent: Agent) -> list[dict[str, Any]]:
    return [r for r in _history(cluster, invoke_id) if r["InstanceId"] == agent.instance_id]


def test_a_target_whose_agent_is_away_at_a_fire_misses_that_fire_and_runs_at_the_next(
    fired: Cluster, tmp_path: Path
) -> None:
    steady, away = fired.new_agent("steady"), fired.new_agent("away")
    runs = RunLog.made_in(tmp_path)
    invoke_id = _schedule(fired, runs, [steady, away], MaxConcurrency="1")
    wait_until(lambda: _ran(runs, away) >= 1, 60, what="the first fire on both")
    away.stop()  # its goodbye: the server knows the agent is not running

    def missed() -> dict[str, Any] | None:
        records = _records(fired, invoke_id, away)
        found = [r for r in records if r["ErrorCode"] == "ClientNotRunning"]
        return found[0] if found else None

    miss = wait_until(missed, 60, what="a fire to end for the stopped agent")
    assert miss["InvocationStatus"] == "Aborted" and "said goodbye" in miss["ErrorInfo"]
    assert miss["FinishedTime"]
    # The schedule goes on: the steady target runs at later fires, the away one waits.
    before = _ran(runs, steady)
    wait_until(lambda: _ran(runs, steady) >= before + 2, 60, what="fires while one is away")
    [row] = [r for r in fired.results(invoke_id) if r["InstanceId"] == away.instance_id]
    assert row["InvocationStatus"] in ("Scheduled", "Pending")
    ran_before = _ran(runs, away)
    fired.start_agent(away)
    wait_until(lambda: _ran(runs, away) > ran_before, 60, what="the agent back at a fire")
    task = _stop(fired, invoke_id)
    # Nothing ran twice in one fire.
    assert _ran(runs, steady) <= task["Fires"] and _ran(runs, away) <= task["Fires"]


def test_the_targets_a_spent_budget_kept_from_a_fire_are_in_the_history(
    fired: Cluster, tmp_path: Path
) -> None:
    agents = [fired.new_agent(f"budget-{n}") for n in range(3)]
    runs = RunLog.made_in(tmp_path)
    invoke_id = _schedule(fired, runs, agents, body="false", MaxConcurrency="1", MaxErrors="0")

    def two_fires_spent() -> list[dict[str, Any]] | None:
        records = _history(fired, invoke_id)
        spent = [r for r in records if r["ErrorCode"] == "ErrorBudgetSpent"]
        return records if len(spent) >= 4 else None

    records = wait_until(two_fires_spent, 90, what="two fires to spend their budget")
    task = _stop(fired, invoke_id)
    spent = [r for r in records if r["ErrorCode"] == "ErrorBudgetSpent"]
    assert {r["InvocationStatus"] for r in spent} == {"Cancelled"}
    assert all("more than MaxErrors=0 allows" in r["ErrorInfo"] for r in spent)
    assert all(r["StartTime"] and r["FinishedTime"] >= r["StartTime"] for r in spent)
    # Each fire ran one target, which failed, and kept the others out: one record per target
    # and fire, the failed run's and the cancelled ones' (a fire's records share its time).
    ran = [r for r in records if r["ErrorCode"] != "ErrorBudgetSpent"]
    fires = {r["StartTime"] for r in spent}
    assert len(spent) == 2 * len(fires) and len(ran) >= len(fires)
    assert {r["Repeats"] for r in spent} <= set(range(task["Fires"] + 1))


def test_given_a_delivery_deadline_a_fire_waits_for_an_agent_that_comes_back_in_time(
    fired: Cluster, tmp_path: Path
) -> None:
    steady, away = fired.new_agent("steady-dl"), fired.new_agent("away-dl")
    runs = RunLog.made_in(tmp_path)
    # Each fire waits up to 120 s from its start for an agent that is away.
    invoke_id = _schedule(fired, runs, [steady, away], MaxConcurrency="2", DeliveryDeadline="120")
    wait_until(lambda: _ran(runs, away) >= 1, 60, what="the first fire on both")
    away.stop()
    ran_before = _ran(runs, away)

    def waiting() -> bool:
        rows = fired.results(invoke_id)
        return any(
            r["InstanceId"] == away.instance_id and r["InvocationStatus"] == "Pending" for r in rows
        )

    wait_until(waiting, 60, what="a fire to wait for the stopped agent")
    fired.start_agent(away)
    wait_until(lambda: _ran(runs, away) > ran_before, 60, what="the agent back within the deadline")
    _stop(fired, invoke_id)
    records = _records(fired, invoke_id, away)
    assert not [r for r in records if r["InvocationStatus"] == "Aborted"]  # no fire missed


def test_a_target_whose_agent_went_silent_misses_a_fire_as_not_online_and_runs_when_back(
    silent: Cluster, tmp_path: Path
) -> None:
    beating = ["--heartbeat", "1"]
    steady = silent.start_agent(silent.register_agent("steady-hb"), args=beating)
    quiet = silent.start_agent(silent.register_agent("quiet-hb"), args=beating)
    runs = RunLog.made_in(tmp_path)
    invoke_id = _schedule(silent, runs, [steady, quiet], MaxConcurrency="1")
    wait_until(lambda: _ran(runs, quiet) >= 1, 60, what="the first fire on both")
    # No goodbye this time: the agent stops answering and its heartbeats stop.
    quiet.freeze()
    try:
        wait_until(lambda: not silent.online(quiet.instance_id), 60, what="the agent offline")

        def missed() -> dict[str, Any] | None:
            found = [
                r for r in _records(silent, invoke_id, quiet) if r["ErrorCode"] == "ClientNotOnline"
            ]
            return found[0] if found else None

        miss = wait_until(missed, 60, what="a fire to end as not online for the silent agent")
        assert miss["InvocationStatus"] == "Aborted" and miss["FinishedTime"]
        before = _ran(runs, steady)
        wait_until(lambda: _ran(runs, steady) >= before + 1, 60, what="a fire while one is quiet")
        ran_before = _ran(runs, quiet)
    finally:
        quiet.thaw()
    wait_until(lambda: _ran(runs, quiet) > ran_before, 60, what="the agent back at a fire")
    task = _stop(silent, invoke_id)
    assert _ran(runs, steady) <= task["Fires"] and _ran(runs, quiet) <= task["Fires"]
