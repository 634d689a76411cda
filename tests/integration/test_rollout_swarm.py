"""A rollout over a fleet of simulated agents (tests/support/swarm.py): never more runs at once
than MaxConcurrency, judged from the agents' own take and answer times, each agent once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cluster import Cluster, wait_until
from tests.support.run_log import Run, most_at_once
from tests.support.swarm import start_swarm

COUNT = 100
pytestmark = pytest.mark.timeout(600)


def test_a_rollout_over_a_hundred_agents_keeps_its_limit(tmp_path: Path) -> None:
    with Cluster.start(tmp_path / "cluster") as cluster:
        activation = cluster.call("CreateActivation", InstanceCount=str(COUNT))
        server = f"127.0.0.1:{cluster.agent_port}"
        with start_swarm(
            server,
            cluster.ca_file,
            activation,
            COUNT,
            tmp_path / "sims",
            tmp_path / "swarm.log",
            hold_s=0.2,
        ) as swarm:
            wait_until(lambda: len(swarm.instance_ids()) == COUNT, 600, 0.5, "every registration")
            wait_until(lambda: len(swarm.back_since(0)) == COUNT, 120, 0.5, "every agent up")
            ids = swarm.instance_ids()
            invoke_id = cluster.run("echo hi", *ids, MaxConcurrency="10%")

            def finished() -> list[dict[str, str]] | None:
                results = cluster.all_results(invoke_id)
                done = [r for r in results if r["InvocationStatus"] not in ("Pending", "Running")]
                return results if len(done) == COUNT else None

            results = wait_until(finished, 300, 0.5, "every result")
            answers = swarm.answers(invoke_id)
            runs = swarm.held_runs(invoke_id)
    assert {r["InvocationStatus"] for r in results} == {"Success"}
    assert sorted(answers) == list(range(COUNT))  # each agent answered once
    assert len(runs) == COUNT
    assert most_at_once([Run("", float(took), float(done)) for took, done in runs]) <= 10
