"""Several server nodes on one PostgreSQL database: what is asked of one node reaches an agent
connected to another at once, through the bus (LISTEN/NOTIFY), not at the agent's next poll.

The agent polls once an hour here, and its kick channel is up before any of the tasks below is
created: a task it runs within the test was sent to it by a kick that crossed the bus.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import (
    Agent,
    Cluster,
    postgres_admin_url,
    temporary_postgres_database,
    wait_until,
)

pytestmark = pytest.mark.skipif(
    not postgres_admin_url(), reason="several nodes share a PostgreSQL database"
)

POLL = "3600"  # the agent's task-list poll: far beyond every wait below
WAIT_S = 25  # below every server timeout that would end the tasks without the agent, too


@pytest.fixture(scope="module")
def node_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("node-a")
    with temporary_postgres_database() as url, Cluster.start(root, url, log_level="info") as node:
        yield node


@pytest.fixture(scope="module")
def node_b(node_a: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with node_a.another_node(tmp_path_factory.mktemp("node-b")) as node:
        yield node


@pytest.fixture(scope="module")
def agent(node_a: Cluster, node_b: Cluster) -> Agent:
    """An agent connected to node A whose kick channel is open and whose first fetch is done."""
    agent = node_a.start_agent(node_a.register_agent("on-node-a"), args=["--poll", POLL])
    wait_until(
        lambda: "kick channel open" in node_a.server_log.read_text(),
        30,
        what="the agent's kick channel on node A",
    )
    # A task through node A itself: once it is done, so is the fetch the open channel asked for.
    warm_up = node_a.run("true", agent.instance_id)
    assert node_a.wait_final(warm_up, WAIT_S)[0]["InvocationStatus"] == "Success"
    return agent


def _row(cluster: Cluster, invoke_id: str) -> dict[str, Any]:
    return cluster.results(invoke_id)[0]


def test_run_command_on_node_b_runs_on_an_agent_of_node_a(
    node_a: Cluster, node_b: Cluster, agent: Agent
) -> None:
    invoke_id = node_b.run("echo across", agent.instance_id)
    [row] = node_b.wait_final(invoke_id, WAIT_S)
    assert (row["InvocationStatus"], row["Output"]) == ("Success", "across\n")
    # Both nodes read the same store.
    assert _row(node_a, invoke_id) == row
    tasks = [
        node.call("DescribeInvocations", InvokeId=invoke_id)["Invocations"]["Invocation"]
        for node in (node_a, node_b)
    ]
    assert tasks[0] == tasks[1]


def test_stop_invocation_on_node_b_stops_a_run_on_node_a(
    node_a: Cluster, node_b: Cluster, agent: Agent
) -> None:
    invoke_id = node_a.run("echo started; sleep 600", agent.instance_id)
    wait_until(
        lambda: _row(node_b, invoke_id)["InvocationStatus"] == "Running",
        WAIT_S,
        what="the run to start",
    )
    node_b.call("StopInvocation", InvokeId=invoke_id, **{"InstanceId.1": agent.instance_id})
    # Without the kick the stop would wait for the poll, and the sweeper would end the row
    # with TerminationException (Error) after stop_timeout_s; the agent's own answer is
    # Terminated.
    [row] = node_a.wait_final(invoke_id, WAIT_S)
    assert row["InvocationStatus"] == "Terminated", row
    assert _row(node_b, invoke_id) == row


def test_send_file_on_node_b_arrives_on_an_agent_of_node_a(
    node_a: Cluster, node_b: Cluster, agent: Agent, tmp_path: Path
) -> None:
    answer = node_b.call(
        "SendFile",
        **{"InstanceId.1": agent.instance_id},
        Name="across.txt",
        TargetDir=str(tmp_path),
        Content="from node b\n",
    )
    invoke_id = answer["InvokeId"]

    def row(node: Cluster) -> dict[str, Any]:
        task = node.call("DescribeSendFileResults", InvokeId=invoke_id)["Invocations"]
        return dict(task["Invocation"][0]["InvokeInstances"]["InvokeInstance"][0])

    wait_until(
        lambda: row(node_b)["InvocationStatus"] == "Success", WAIT_S, what="the file to arrive"
    )
    assert (tmp_path / "across.txt").read_text() == "from node b\n"
    assert row(node_a) == row(node_b)


def test_with_every_bus_message_lost_the_work_waits_for_the_poll_and_is_done(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Bus messages are hints: with none crossing (each node's bus in-process), a task asked of
    node B still runs on node A's agent, at its next poll."""
    memory = {"OPENASSIST_BUS": "memory"}
    root = tmp_path_factory.mktemp("lost-a")
    with (
        temporary_postgres_database() as url,
        Cluster.start(root, url, env=memory) as node_a,
        node_a.another_node(tmp_path_factory.mktemp("lost-b")) as node_b,
    ):
        agent = node_a.start_agent(node_a.register_agent("polls"), args=["--poll", "1"])
        invoke_id = node_b.run("echo polled", agent.instance_id)
        [row] = node_b.wait_final(invoke_id, WAIT_S)
        assert (row["InvocationStatus"], row["Output"]) == ("Success", "polled\n")


def test_deregistering_on_node_b_stops_an_agent_of_node_a(node_a: Cluster, node_b: Cluster) -> None:
    opened = node_a.server_log.read_text().count("kick channel open")
    leaving = node_a.start_agent(node_a.register_agent("leaving"), args=["--poll", POLL])
    wait_until(
        lambda: node_a.server_log.read_text().count("kick channel open") > opened,
        30,
        what="its kick channel on node A",
    )
    node_b.call("DeregisterManagedInstance", InstanceId=leaving.instance_id)
    # Told on its kick channel (the message crossed the bus), the agent stops by itself; its
    # heartbeat (every 60 s) would only tell it later.
    wait_until(
        lambda: leaving.process is not None and leaving.process.poll() is not None,
        WAIT_S,
        what="the deregistered agent to stop",
    )
