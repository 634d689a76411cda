"""Rollouts across 60 real agents (``openassist agent run`` processes, each with its own state
dir), judged from the agents' own start and finish times: MaxConcurrency is never exceeded,
the error budget stops the rollout at the right point with the rest Cancelled, BatchWait keeps
each freed slot empty, and a machine offline at creation runs the task exactly once when it
comes back before the DeliveryDeadline and not at all after it."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import Agent, Cluster, wait_until

AGENTS = 60
# 60 agents and several rollouts of them take longer than the default per-test timeout.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, list[Agent]]]:
    with Cluster.start(tmp_path_factory.mktemp("fleet60")) as cluster:
        agents = [cluster.register_agent(f"f60-{n:02d}") for n in range(AGENTS)]
        for agent in agents:
            cluster.start_agent(agent, wait_online=False)
        wait_until(
            lambda: all(cluster.online(a.instance_id) for a in agents),
            180,
            interval_s=0.5,
            what=f"{AGENTS} agents online",
        )
        yield cluster, agents


def _runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(0o777)
    return runs


def _script(runs: Path, body: str) -> str:
    """Each run writes its instance and its own start and finish time to a file of its own."""
    return (
        f"s=$(date +%s.%N); {body}; rc=$?; e=$(date +%s.%N); "
        f'echo "{{{{ACS::InstanceId}}}} $s $e" > "$(mktemp -p {runs} run.XXXXXX)"; exit $rc'
    )


def _recorded(runs: Path) -> list[tuple[str, float, float]]:
    found = []
    for path in runs.glob("run.*"):
        instance_id, start, end = path.read_text().split()
        found.append((instance_id, float(start), float(end)))
    return found


def _most_at_once(runs: list[tuple[str, float, float]]) -> int:
    # An end sorts before a start at the same instant: touching runs did not overlap.
    events = sorted([(s, 1) for _, s, _ in runs] + [(e, -1) for _, _, e in runs])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def _run(cluster: Cluster, agents: list[Agent], body: str, runs: Path, **params: str) -> str:
    targets = {f"InstanceId.{n}": a.instance_id for n, a in enumerate(agents, start=1)}
    return cluster.run(
        _script(runs, body), EnableParameter="true", Timeout="60", **targets, **params
    )


def _task(cluster: Cluster, invoke_id: str) -> dict[str, Any]:
    [task] = cluster.call("DescribeInvocations", InvokeId=invoke_id)["Invocations"]["Invocation"]
    return dict(task)


def _final(cluster: Cluster, invoke_id: str, timeout_s: float = 300) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = []
        token = ""
        while True:
            page = cluster.call(
                "DescribeInvocationResults",
                InvokeId=invoke_id,
                MaxResults="50",
                **({"NextToken": token} if token else {}),
            )
            rows += page["Invocation"]["InvocationResults"]["InvocationResult"]
            token = page["Invocation"].get("NextToken", "")
            if not token:
                break
        final = {"Pending", "Scheduled", "Running", "Stopping"}
        return rows if all(r["InvocationStatus"] not in final for r in rows) else None

    return list(wait_until(done, timeout_s, interval_s=0.5, what=f"{invoke_id} to end"))


def test_sixty_agents_never_run_more_at_once_than_max_concurrency(
    fleet: tuple[Cluster, list[Agent]], tmp_path: Path
) -> None:
    cluster, agents = fleet
    runs = _runs(tmp_path)
    invoke_id = _run(cluster, agents, "sleep 0.3", runs, MaxConcurrency="10%")
    results = _final(cluster, invoke_id)
    assert [r["InvocationStatus"] for r in results] == ["Success"] * AGENTS
    recorded = _recorded(runs)
    assert sorted(r[0] for r in recorded) == sorted(a.instance_id for a in agents)  # once each
    assert _most_at_once(recorded) <= 6  # 10% of 60


def test_the_error_budget_stops_sixty_at_the_right_point_and_cancels_the_rest(
    fleet: tuple[Cluster, list[Agent]], tmp_path: Path
) -> None:
    cluster, agents = fleet
    runs = _runs(tmp_path)
    invoke_id = _run(cluster, agents, "false", runs, MaxConcurrency="5", MaxErrors="3")
    results = _final(cluster, invoke_id)
    failed = [r for r in results if r["InvocationStatus"] == "Failed"]
    cancelled = [r for r in results if r["InvocationStatus"] == "Cancelled"]
    # The fourth failure spends the budget; the at most four others then under way still end.
    assert 4 <= len(failed) <= 4 + 4 and len(failed) + len(cancelled) == AGENTS
    assert {r["ErrorCode"] for r in cancelled} == {"ErrorBudgetSpent"}
    assert all(r["StartTime"] in ("", None) for r in cancelled)
    ran = sorted(r[0] for r in _recorded(runs))
    assert ran == sorted(r["InstanceId"] for r in failed)  # the cancelled never ran
    assert _most_at_once(_recorded(runs)) <= 5
    reason = _task(cluster, invoke_id)["StopReason"]
    assert "4 target(s) failed, more than MaxErrors=3 allows" in reason
    assert f"{len(cancelled)} target(s) not yet started were cancelled" in reason


def test_batch_wait_keeps_each_freed_slot_empty_across_sixty(
    fleet: tuple[Cluster, list[Agent]], tmp_path: Path
) -> None:
    cluster, agents = fleet
    runs = _runs(tmp_path)
    limit, wait = 20, 2.0
    invoke_id = _run(
        cluster, agents, "true", runs, MaxConcurrency=str(limit), BatchWait=str(int(wait))
    )
    results = _final(cluster, invoke_id)
    assert [r["InvocationStatus"] for r in results] == ["Success"] * AGENTS
    recorded = _recorded(runs)
    assert len(recorded) == AGENTS
    starts = sorted(s for _, s, _ in recorded)
    ends = sorted(e for _, _, e in recorded)
    # The run that starts r-th (from 0) needs r - limit + 1 slots freed, each at least BatchWait
    # before it (the agents' clocks are the host's; the server stores a finish after the agent
    # recorded it, and lets the next target go BatchWait after that).
    for rank, start in enumerate(starts[limit:], start=limit):
        freed_in_time = bisect.bisect_right(ends, start - wait)
        assert freed_in_time >= rank - limit + 1, (rank, start)
    assert _most_at_once(recorded) <= limit


def test_machines_offline_at_creation_run_once_in_time_and_never_after_the_deadline(
    fleet: tuple[Cluster, list[Agent]], tmp_path: Path
) -> None:
    cluster, agents = fleet
    runs = _runs(tmp_path)
    away, late = agents[:5], agents[5]
    for agent in (*away, late):
        agent.stop()
    invoke_id = _run(
        cluster, agents[:5] + agents[6:], "true", runs, MaxConcurrency="10", DeliveryDeadline="600"
    )
    too_late = _run(cluster, [late], "true", runs, DeliveryDeadline="3")
    # The others finish while the five are away (their queued turns hold five of the slots).
    wait_until(lambda: len(_recorded(runs)) == AGENTS - 6, 300, interval_s=0.5, what="the others")
    [ended] = _final(cluster, too_late, 60)  # the sweeper ends it once the deadline passes
    assert (ended["InvocationStatus"], ended["ErrorCode"]) == ("Aborted", "ClientNotRunning")
    for agent in (*away, late):
        cluster.start_agent(agent, wait_online=False)
    results = _final(cluster, invoke_id)
    assert [r["InvocationStatus"] for r in results] == ["Success"] * (AGENTS - 1)
    wait_until(lambda: cluster.online(late.instance_id), 60, what="the late agent back")
    ran = sorted(r[0] for r in _recorded(runs))
    assert ran == sorted(a.instance_id for a in agents if a is not late)  # exactly once each
