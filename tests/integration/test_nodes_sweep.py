"""Two nodes sweep the same PostgreSQL database every second, with no leader: each overdue task
instance is ended once (the sweepers' own counters, summed over both nodes, equal the rows)."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator

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

FAST = {"OPENASSIST_STOP_TIMEOUT_S": "1", "OPENASSIST_SWEEP_INTERVAL_S": "1"}
TASKS = 20


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Cluster]]:
    root = tmp_path_factory.mktemp("sweep-a")
    with (
        temporary_postgres_database() as url,
        Cluster.start(root, url, env=FAST) as node_a,
        node_a.another_node(tmp_path_factory.mktemp("sweep-b")) as node_b,
    ):
        yield node_a, node_b


def _swept(node: Cluster) -> int:
    """Rows this node's sweeper ended, whatever code it gave them."""
    url = f"http://127.0.0.1:{node.api_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    found = re.findall(r"^openassist_sweeper_ended_total\{[^}]*\} (\S+)$", text, re.M)
    return sum(int(float(value)) for value in found)


def test_each_overdue_task_is_swept_once_by_two_nodes(nodes: tuple[Cluster, Cluster]) -> None:
    node_a, node_b = nodes
    agent = node_a.new_agent("frozen")
    invoke_ids = [
        (node_a if n % 2 else node_b).run("sleep 600", agent.instance_id) for n in range(TASKS)
    ]

    def statuses(node: Cluster) -> list[str]:
        page = {"InstanceId": agent.instance_id, "MaxResults": "50"}
        tasks = node.call("DescribeInvocations", **page)["Invocations"]["Invocation"]
        return [t["InvokeInstances"]["InvokeInstance"][0]["InvocationStatus"] for t in tasks]

    wait_until(lambda: statuses(node_a) == ["Running"] * TASKS, 60, 0.2, what="every run")
    # Frozen, the agent confirms no stop: after stop_timeout_s every row is overdue at once,
    # and both nodes' sweepers (every second) judge them.
    agent.freeze()
    try:
        for n, invoke_id in enumerate(invoke_ids):
            (node_b if n % 2 else node_a).call("StopInvocation", InvokeId=invoke_id)
        wait_until(lambda: statuses(node_b) == ["Error"] * TASKS, 60, 0.2, what="every sweep")
        counts = [_swept(node) for node in (node_a, node_b)]
    finally:
        agent.thaw()
    assert sum(counts) == TASKS, counts
    [row] = node_a.results(invoke_ids[0])
    assert row["ErrorCode"] == "TerminationException", row
    print(f"rows ended by node A, node B: {counts}")
