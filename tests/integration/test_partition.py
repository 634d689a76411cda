"""Network partition, for real: the agent runs in a network namespace joined to the server by a
veth pair; the link is cut while a script runs and while a second task waits, kept cut past the
delivery window, then healed. The waiting task ends ClientNetworkBlocked with the outage window,
the result the agent queued in its journal arrives, and nothing ran twice."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import (
    Cluster,
    postgres_admin_url,
    temporary_postgres_database,
    wait_until,
)
from tests.support.held_agent import HeldAgent
from tests.support.netns import NetnsHost, netns_host, unavailable_reason

pytestmark = pytest.mark.skipif(bool(unavailable_reason()), reason=unavailable_reason())

DELIVERY_WINDOW_S = 3
AGENT_ARGS = ("--kick-ping", "1", "--kick-pong", "1")  # notices a silent server in ~2 s
BACKENDS = ["sqlite"] + (["postgres"] if postgres_admin_url() else [])


@contextlib.contextmanager
def _database(backend: str) -> Iterator[str]:
    if backend == "postgres":
        with temporary_postgres_database() as url:
            yield url
    else:
        yield ""


@pytest.fixture(params=BACKENDS)
def partitioned(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Cluster, NetnsHost]]:
    """A server listening for agents on the host end of a veth pair, and the namespace."""
    with netns_host() as host, _database(request.param) as url:
        env = {
            "OPENASSIST_DELIVERY_TIMEOUT_S": str(DELIVERY_WINDOW_S),
            "OPENASSIST_SWEEP_INTERVAL_S": "1",
            "OPENASSIST_TLS_HOSTNAMES": host.host_ip,  # the agent verifies the IP it dials
        }
        root = tmp_path / "cluster"
        with Cluster.start(root, database_url=url, env=env, agent_host=host.host_ip) as cluster:
            yield cluster, host


def _rows_once_witness_ended(
    cluster: Cluster, invoke_id: str, witness_id: str
) -> dict[str, dict[str, Any]] | None:
    rows = {row["InstanceId"]: row for row in cluster.results(invoke_id)}
    return rows if rows[witness_id]["InvocationStatus"] == "Aborted" else None


def test_cut_network_blocks_the_waiting_task_and_loses_nothing(
    partitioned: tuple[Cluster, NetnsHost], tmp_path: Path
) -> None:
    cluster, host = partitioned
    agent = cluster.register_agent("partitioned", wrapper=host.wrapper)
    cluster.start_agent(agent, args=AGENT_ARGS)
    marks, finished, second = tmp_path / "marks", tmp_path / "finished", tmp_path / "second"
    first_id = cluster.run(
        f"echo ran >> {marks}; sleep 4; echo done; touch {finished}", agent.instance_id
    )
    wait_until(lambda: marks.exists(), 30, what="the first script to start")
    wait_until(
        lambda: cluster.results(first_id)[0]["InvocationStatus"] == "Running",
        30,
        what="the server to know it runs",
    )

    host.cut()
    cut_at = time.monotonic()
    # The second task also goes to an agent outside the cut that is heard after it was created
    # and never fetches it: the sweep that ends that row (past the delivery window) sees the
    # partitioned agent's row at the same instant.
    witness = HeldAgent(cluster, "witness")
    witness.heartbeat()
    second_id = cluster.run(f"touch {second}", agent.instance_id, witness.instance_id)
    witness.heartbeat()
    # Cut for longer than the script runs and the second task's delivery window.
    wait_until(lambda: finished.exists(), 30, what="the first script to end behind the cut")
    rows = wait_until(
        lambda: _rows_once_witness_ended(cluster, second_id, witness.instance_id),
        30,
        what="the sweeper to end the witness's row",
    )
    # The agent has been silent since the task was created: it may be cut off, so the sweeper
    # has not called it DeliveryTimeout; the agent has not reported the finished run either.
    assert rows[agent.instance_id]["InvocationStatus"] == "Pending"
    assert cluster.results(first_id)[0]["InvocationStatus"] == "Running"
    cut_s = time.monotonic() - cut_at
    host.heal()

    [blocked] = [
        row
        for row in cluster.wait_final(second_id, timeout_s=90)
        if row["InstanceId"] == agent.instance_id
    ]
    assert (blocked["InvocationStatus"], blocked["ErrorCode"]) == (
        "Aborted",
        "ClientNetworkBlocked",
    )
    info = blocked["ErrorInfo"]
    assert "could not reach the server from" in info, info
    assert f"{DELIVERY_WINDOW_S} s delivery window" in info, info
    reported_s = int(info.split("(", 1)[1].split(" s)", 1)[0])
    assert cut_s - 3 <= reported_s <= cut_s + 90, (cut_s, info)  # the window covers the cut

    [first] = cluster.wait_final(first_id, timeout_s=90)
    assert (first["InvocationStatus"], first["Output"]) == ("Success", "done\n")
    assert marks.read_text() == "ran\n"  # ran once, not again after the heal
    assert not second.exists()  # the blocked task was never handed out late
    assert cluster.online(agent.instance_id)
