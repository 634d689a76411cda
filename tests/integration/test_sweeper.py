"""What never answered ends with the code that says why: a frozen agent (SIGSTOP) after it took
a task, before it took one, and while a stop was asked. Timings are lowered for the test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import Agent, Cluster, wait_until

FAST = {
    "OPENASSIST_DELIVERY_TIMEOUT_S": "2",
    "OPENASSIST_RESPONSE_GRACE_S": "1",
    "OPENASSIST_STOP_TIMEOUT_S": "2",
    "OPENASSIST_SWEEP_INTERVAL_S": "1",
}
# Past the delivery window and a few sweeps: long enough for the sweeper to have acted.
PAST_WINDOW_S = 2 + 3 * 1


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with Cluster.start(tmp_path_factory.mktemp("sweeps"), env=FAST) as cluster:
        yield cluster


@pytest.fixture
def agent(fast: Cluster) -> Iterator[Agent]:
    agent = fast.new_agent("freezable")
    yield agent
    agent.thaw()


def test_silent_agent_after_start_is_client_not_response(fast: Cluster, agent: Agent) -> None:
    invoke_id = fast.run("sleep 30", agent.instance_id, Timeout="1")
    wait_until(lambda: fast.results(invoke_id)[0]["InvocationStatus"] == "Running", 30)
    agent.freeze()
    [result] = fast.wait_final(invoke_id, timeout_s=30)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "ClientNotResponse")
    agent.thaw()  # its late report changes nothing: the state is final
    [later] = fast.wait_final(invoke_id)
    assert later["ErrorCode"] == "ClientNotResponse"


def test_undelivered_task_of_a_silent_agent_waits_then_is_delivery_timeout(
    fast: Cluster, agent: Agent, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    agent.freeze()  # connected, last heard before the task, silent since
    invoke_id = fast.run(f"touch {ran}", agent.instance_id)
    time.sleep(PAST_WINDOW_S)
    # Not heard from since the task was created: it may be cut off, so the sweeper waits for
    # its return (or for the online window to pass) instead of calling it DeliveryTimeout.
    assert fast.results(invoke_id)[0]["InvocationStatus"] == "Pending"
    agent.thaw()  # it fetches its task list, too late: the task is ended, not handed out
    [result] = fast.wait_final(invoke_id, timeout_s=30)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Aborted", "DeliveryTimeout")
    assert not ran.exists()


def test_unconfirmed_stop_is_termination_exception(
    fast: Cluster, agent: Agent, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    invoke_id = fast.run(f"touch {started}; sleep 60", agent.instance_id, Timeout="120")
    wait_until(lambda: fast.results(invoke_id)[0]["InvocationStatus"] == "Running", 30)
    agent.freeze()
    fast.call("StopInvocation", InvokeId=invoke_id)
    assert fast.results(invoke_id)[0]["InvocationStatus"] == "Stopping"
    [result] = fast.wait_final(invoke_id, timeout_s=30)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "TerminationException")


def test_undelivered_file_is_delivery_timeout(fast: Cluster, agent: Agent, tmp_path: Path) -> None:
    agent.freeze()
    target = tmp_path / "f"
    invoke_id = fast.call(
        "SendFile",
        Name="f",
        TargetDir=str(tmp_path),
        Content="x",
        **{"InstanceId.1": agent.instance_id},
    )["InvokeId"]

    def row() -> dict[str, str]:
        task = fast.call("DescribeSendFileResults", InvokeId=invoke_id)["Invocations"]
        return dict(task["Invocation"][0]["InvokeInstances"]["InvokeInstance"][0])

    time.sleep(PAST_WINDOW_S)
    assert row()["InvocationStatus"] == "Pending"  # silent agent: waited for (see above)
    agent.thaw()
    wait_until(lambda: row()["InvocationStatus"] == "Aborted", 30, what="the late fetch")
    assert row()["ErrorCode"] == "DeliveryTimeout"
    assert not target.exists()
