"""Rollouts across 60 real agents (``openassist agent run`` processes, each with its own state
dir), judged from the agents' own start and finish times: MaxConcurrency is never exceeded,
the error budget stops the rollout at the right point with the rest Cancelled, BatchWait keeps
each freed slot empty, and a machine offline at creation runs the task exactly once when it
comes back before the DeliveryDeadline and not at all after it."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.support.cluster import Agent, Cluster, backend_cluster, wait_until
from tests.support.run_log import RunLog, most_at_once

AGENTS = 60
# 60 agents and several rollouts of them take longer than the default per-test timeout.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module", params=BACKENDS)
def fleet(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Cluster, list[Agent]]]:
    """60 agents on one server, on each database backend in turn (PostgreSQL when
    OPENASSIST_TEST_POSTGRES_URL is set)."""
    with backend_cluster(request.param, tmp_path_factory.mktemp("fleet60")) as cluster:
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


def _run(cluster: Cluster, agents: list[Agent], body: str, log: RunLog, **params: str) -> str:
    targets = {f"InstanceId.{n}": a.instance_id for n, a in enumerate(agents, start=1)}
    return cluster.run(
        log.script(body, with_instance_id=True),
        EnableParameter="true",
        Timeout="60",
        **targets,
        **params,
    )


def test_sixty_agents_never_run_more_at_once_than_max_concurrency(
    fleet: tuple[Cluster, list[Agent]], tmp_path: Path
) -> None:
    cluster, agents = fleet
    log = RunLog.made_in(tmp_path)
    invoke_id = _run(cluster, agents, "sleep 0.3", log, MaxConcurrency="10%")
    results = cluster.wait_final(invoke_id, 300)
    assert [r["InvocationStatus"] for r in results] == ["Success"] * AGENTS
    recorded = log.runs()
    assert sorted(r.instance_id for r in recorded) == sorted(
        a.instance_id for a in agents
    )  # once each
    assert most_at_once(recorded) <= 6  # 10% of 60


def test_the_error_budget_stops_sixty_at_the_right_point_and_cancels_the_rest(
    fleet: tuple[Cluster, list[Agent]], tmp_path: Path
) -> None:
    cluster, agents = fleet
    log = RunLog.made_in(tmp_path)
    invoke_id = _run(cluster, agents, "false", log, MaxConcurrency="5", MaxErrors="3")
    results = cluster.wait_final(invoke_id, 300)
    failed = [r for r in results if r["InvocationStatus"] == "Failed"]
    cancelled = [r for r in results if r["InvocationStatus"] == "Cancelled"]
    # The fourth failure spends the budget; the at most four others then under way still end.
    assert 4 <= len(failed) <= 4 + 4 and len(failed) + len(cancelled) == AGENTS
    assert {r["ErrorCode"] for r in cancelled} == {"ErrorBudgetSpent"}
    assert all(r["StartTime"] in ("", None) for r in cancelled)
    ran = sorted(r.instance_id for r in log.runs())
    assert ran == sorted(r["InstanceId"] for r in failed)  # the cancelled never ran
    assert most_at_once(log.runs()) <= 5
    reason = cluster.task(invoke_id)["StopReason"]
    assert "4 target(s) failed, more than MaxErrors=3 allows" in reason
    assert f"{len(cancelled)} target(s) not yet started were cancelled" in reason


def test_batch_wait_keeps_each_freed_slot_empty_across_sixty(
    fleet: tuple[Cluster, list[Agent]], tmp_path: Path
) -> None:
    cluster, agents = fleet
    log = RunLog.made_in(tmp_path)
    limit, wait = 20, 2.0
    invoke_id = _run(
        cluster, agents, "true", log, MaxConcurrency=str(limit), BatchWait=str(int(wait))
    )
    results = cluster.wait_final(invoke_id, 300)
    assert [r["InvocationStatus"] for r in results] == ["Success"] * AGENTS
    recorded = log.runs()
    assert len(recorded) == AGENTS
    starts = sorted(r.start for r in recorded)
    ends = sorted(r.end for r in recorded)
    # The run that starts r-th (from 0) needs r - limit + 1 slots freed, each at least BatchWait
    # before it (the agents' clocks are the host's; the server stores a finish after the agent
    # recorded it, and lets the next target go BatchWait after that).
    for rank, start in enumerate(starts[limit:], start=limit):
        freed_in_time = bisect.bisect_right(ends, start - wait)
        assert freed_in_time >= rank - limit + 1, (rank, start)
    assert most_at_once(recorded) <= limit


def test_machines_offline_at_creation_run_once_in_time_and_never_after_the_deadline(
    fleet: tuple[Cluster, list[Agent]], tmp_path: Path
) -> None:
    cluster, agents = fleet
    log = RunLog.made_in(tmp_path)
    away, late = agents[:5], agents[5]
    for agent in (*away, late):
        agent.stop()
    invoke_id = _run(
        cluster, agents[:5] + agents[6:], "true", log, MaxConcurrency="10", DeliveryDeadline="600"
    )
    too_late = _run(cluster, [late], "true", log, DeliveryDeadline="3")
    # The others finish while the five are away (their queued turns hold five of the slots).
    wait_until(lambda: len(log.runs()) == AGENTS - 6, 300, interval_s=0.5, what="the others")
    [ended] = cluster.wait_final(too_late, 60)  # the sweeper ends it once the deadline passes
    assert (ended["InvocationStatus"], ended["ErrorCode"]) == ("Aborted", "ClientNotRunning")
    for agent in (*away, late):
        cluster.start_agent(agent, wait_online=False)
    results = cluster.wait_final(invoke_id, 300)
    assert [r["InvocationStatus"] for r in results] == ["Success"] * (AGENTS - 1)
    wait_until(lambda: cluster.online(late.instance_id), 60, what="the late agent back")
    ran = sorted(r.instance_id for r in log.runs())
    assert ran == sorted(a.instance_id for a in agents if a is not late)  # exactly once each
