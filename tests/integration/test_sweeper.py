"""What never answered ends with the code that says why: a frozen agent (SIGSTOP) after it took
a task and while a stop was asked, and an agent silent since before its task was created.

Timings are lowered for the test, and no assertion races them: a silent agent is one the test
speaks for (``tests.support.held_agent``), so nothing it sent can reach the server later than
the test believes; "still waiting after its
window" is judged at the sweep that ended a sibling row of the same task whose agent was heard
(both rows have the same creation time and one sweep sees them at one instant).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import Agent, Cluster, wait_until
from tests.support.held_agent import HeldAgent

FAST = {
    "OPENASSIST_DELIVERY_TIMEOUT_S": "2",
    "OPENASSIST_RESPONSE_GRACE_S": "1",
    "OPENASSIST_STOP_TIMEOUT_S": "2",
    "OPENASSIST_SWEEP_INTERVAL_S": "1",
}


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with Cluster.start(tmp_path_factory.mktemp("sweeps"), env=FAST) as cluster:
        yield cluster


@pytest.fixture
def agent(fast: Cluster) -> Iterator[Agent]:
    agent = fast.new_agent("freezable")
    yield agent
    agent.thaw()


def _rows(fast: Cluster, invoke_id: str, send_file: bool) -> dict[str, dict[str, Any]]:
    """instance id -> its row of the task."""
    if not send_file:
        return {row["InstanceId"]: row for row in fast.results(invoke_id)}
    task = fast.call("DescribeSendFileResults", InvokeId=invoke_id)["Invocations"]
    rows = task["Invocation"][0]["InvokeInstances"]["InvokeInstance"]
    return {row["InstanceId"]: dict(row) for row in rows}


def test_silent_agent_after_start_is_client_not_response(fast: Cluster, agent: Agent) -> None:
    # The agent must be frozen before its own timeout ends the run (it would report
    # ExecutionTimeout): 5 s between seeing Running and the freeze is ample even under load.
    invoke_id = fast.run("sleep 30", agent.instance_id, Timeout="5")
    wait_until(lambda: fast.results(invoke_id)[0]["InvocationStatus"] == "Running", 30)
    agent.freeze()
    [result] = fast.wait_final(invoke_id, timeout_s=30)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "ClientNotResponse")
    agent.thaw()  # its late report changes nothing: the state is final
    [later] = fast.wait_final(invoke_id)
    assert later["ErrorCode"] == "ClientNotResponse"


def test_unconfirmed_stop_is_termination_exception(
    fast: Cluster, agent: Agent, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    invoke_id = fast.run(f"touch {started}; sleep 60", agent.instance_id, Timeout="120")
    wait_until(lambda: fast.results(invoke_id)[0]["InvocationStatus"] == "Running", 30)
    agent.freeze()
    fast.call("StopInvocation", InvokeId=invoke_id)  # Stopping, and no agent to confirm it
    [result] = fast.wait_final(invoke_id, timeout_s=30)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "TerminationException")


@pytest.mark.parametrize("send_file", [False, True], ids=["command", "file"])
def test_undelivered_task_of_a_silent_agent_waits_then_is_delivery_timeout(
    fast: Cluster, tmp_path: Path, send_file: bool
) -> None:
    silent, heard = HeldAgent(fast), HeldAgent(fast)
    silent.heartbeat()  # online, and silent from here on
    heard.heartbeat()
    targets = {"InstanceId.1": silent.instance_id, "InstanceId.2": heard.instance_id}
    if send_file:
        invoke_id = fast.call(
            "SendFile", Name="f", TargetDir=str(tmp_path), Content="x", **targets
        )["InvokeId"]
    else:
        invoke_id = fast.call(
            "RunCommand", Type="RunShellScript", CommandContent="true", **targets
        )["InvokeId"]
    heard.heartbeat()  # heard after the task was created, and never fetches it

    def heard_ended() -> dict[str, dict[str, Any]] | None:
        rows = _rows(fast, invoke_id, send_file)
        return rows if rows[heard.instance_id]["InvocationStatus"] == "Aborted" else None

    rows = wait_until(heard_ended, 30, what="the sweeper to end the heard agent's row")
    assert rows[heard.instance_id]["ErrorCode"] == "DeliveryTimeout"
    # The same sweep, past the same window: not heard from since the task was created, the
    # silent agent may be cut off, so its row waits for its return (or for the online window
    # to pass) instead of being called DeliveryTimeout.
    assert rows[silent.instance_id]["InvocationStatus"] == "Pending"

    listing = silent.task_list()  # back, too late: the task is ended, not handed out
    assert (listing.run, listing.file) == ([], [])
    row = _rows(fast, invoke_id, send_file)[silent.instance_id]
    assert (row["InvocationStatus"], row["ErrorCode"]) == ("Aborted", "DeliveryTimeout")
