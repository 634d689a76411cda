"""Our agent given two nodes' addresses fails over: node A is killed (-9) while a script runs
and another task waits; the agent reaches node B with its backoff, reports the run there, takes
the waiting task, and each script runs exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import (
    Cluster,
    postgres_admin_url,
    temporary_postgres_database,
    wait_until,
)

pytestmark = pytest.mark.skipif(
    not postgres_admin_url(), reason="several nodes share a PostgreSQL database"
)


@pytest.fixture
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Cluster]]:
    root = tmp_path_factory.mktemp("failover-a")
    with (
        temporary_postgres_database() as url,
        Cluster.start(root, url) as node_a,
        node_a.another_node(tmp_path_factory.mktemp("failover-b"), same_tls=True) as node_b,
    ):
        yield node_a, node_b


def test_the_agent_fails_over_to_node_b_and_runs_each_script_once(
    nodes: tuple[Cluster, Cluster], tmp_path: Path
) -> None:
    node_a, node_b = nodes
    servers = f"127.0.0.1:{node_a.agent_port},127.0.0.1:{node_b.agent_port}"
    agent = node_a.register_agent("fails-over", server=servers)
    node_a.start_agent(agent, args=["--poll", "3600"])
    gate, running, waiting = tmp_path / "gate", tmp_path / "running.log", tmp_path / "waiting.log"
    first = node_a.run(
        f"echo run >> {running}; while [ ! -e {gate} ]; do sleep 0.05; done; echo done",
        agent.instance_id,
    )
    wait_until(running.exists, 30, what="the first script to start")

    node_a.kill_server()
    second = node_b.run(f"echo run >> {waiting}", agent.instance_id)
    gate.touch()  # the first script ends while node A is gone: its report goes to node B

    [row] = node_b.wait_final(first, 90)
    assert (row["InvocationStatus"], row["Output"]) == ("Success", "done\n"), row
    [row] = node_b.wait_final(second, 90)
    assert row["InvocationStatus"] == "Success", row
    assert running.read_text() == "run\n"  # each script ran once
    assert waiting.read_text() == "run\n"
    assert "trying the next server address" in agent.log.read_text()
