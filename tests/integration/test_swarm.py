"""A fleet of simulated agents (the real agent protocol, the agent's own channel modules; see
tests/support/swarm.py) comes back after the server is killed and restarted, and then takes a
task on every instance, each answered exactly once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.cluster import Cluster, wait_until
from tests.support.swarm import start_swarm

COUNT = 100
# Its own waits add up to more than the default per-test timeout on a loaded machine.
pytestmark = pytest.mark.timeout(600)


def _run_everywhere(cluster: Cluster, instance_ids: list[str]) -> list[str]:
    """RunCommand to all, in calls of at most 100 instances."""
    return [
        cluster.run("echo hi", *instance_ids[start : start + 100])
        for start in range(0, len(instance_ids), 100)
    ]


def test_swarm_reconnects_after_a_server_restart_and_every_agent_takes_a_task(
    tmp_path: Path,
) -> None:
    with Cluster.start(tmp_path / "cluster") as cluster:
        activation = cluster.call("CreateActivation", InstanceCount=str(COUNT))
        server = f"127.0.0.1:{cluster.agent_port}"
        trace = tmp_path / "trace.jsonl"
        with start_swarm(
            server,
            cluster.ca_file,
            activation,
            COUNT,
            tmp_path / "sims",
            tmp_path / "swarm.log",
            trace=trace,
        ) as swarm:
            wait_until(lambda: len(swarm.instance_ids()) == COUNT, 600, 0.5, "every registration")
            wait_until(lambda: len(swarm.back_since(0)) == COUNT, 120, 0.5, "every agent up")
            killed_at = time.time_ns() // 1_000_000
            cluster.kill_server()
            cluster.restart_server()
            wait_until(
                lambda: len(swarm.back_since(killed_at)) == COUNT,
                180,  # generous: backoff caps at 30 s, plus a loaded machine
                0.5,
                "every agent back (kick channel open and a heartbeat taken)",
            )
            ids = swarm.instance_ids()
            [invoke_id] = _run_everywhere(cluster, ids)

            def finished() -> list[dict[str, str]] | None:
                results = cluster.all_results(invoke_id)
                done = [r for r in results if r["InvocationStatus"] not in ("Pending", "Running")]
                return results if len(done) == COUNT else None

            results = wait_until(finished, 120, 0.5, "every result")
            answers = swarm.answers(invoke_id)
    assert sorted(r["InstanceId"] for r in results) == sorted(ids)
    assert {(r["InvocationStatus"], r["Output"]) for r in results} == {("Success", "ok\n")}
    assert sorted(answers) == list(range(COUNT))  # each agent answered once
    # The trace (bench.storm_trace reads it) has each agent's attempts, the restart's included
    # (a heartbeat in flight at the kill may have started before it and succeeded on its retry).
    attempts = [json.loads(line) for line in trace.read_text().splitlines()]
    for what in ("kick", "beat"):
        back = {
            a["agent"]
            for a in attempts
            if a["what"] == what and not a["error"] and a["end"] > killed_at
        }
        assert back == set(range(COUNT)), what
