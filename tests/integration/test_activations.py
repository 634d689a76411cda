"""Activations and managed instances after registration: list, rename, deregister, disable."""

from __future__ import annotations

import pytest

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Cluster, wait_until


def _refused(cluster: Cluster, action: str, **params: str) -> ApiCallError:
    with pytest.raises(ApiCallError) as error:
        cluster.call(action, **params)
    return error.value


def test_activation_lifecycle(cluster: Cluster) -> None:
    created = cluster.call(
        "CreateActivation",
        InstanceName="web",
        InstanceCount="2",
        **{"Tag.1.Key": "env", "Tag.1.Value": "prod"},
    )
    activation_id = created["ActivationId"]
    [listed] = cluster.call("DescribeActivations", ActivationId=activation_id)["ActivationList"]
    assert listed["InstanceCount"] == 2 and listed["RegisteredCount"] == 0
    assert listed["Disabled"] is False
    assert listed["Tags"] == [{"TagKey": "env", "TagValue": "prod"}]
    assert "ActivationCode" not in listed
    assert cluster.call("DescribeActivations", **{"Tag.1.Key": "env"})["TotalCount"] >= 1

    disabled = cluster.call("DisableActivation", ActivationId=activation_id)["Activation"]
    assert disabled["Disabled"] is True
    deleted = cluster.call("DeleteActivation", ActivationId=activation_id)["Activation"]
    assert deleted["ActivationId"] == activation_id and "Disabled" not in deleted
    error = _refused(cluster, "DisableActivation", ActivationId=activation_id)
    assert (error.status, error.code) == (404, "ActivationId.NotFound")


def test_rename_and_deregister_a_managed_instance(cluster: Cluster) -> None:
    agent = cluster.new_agent("to-remove")
    renamed = cluster.call(
        "ModifyManagedInstance", InstanceId=agent.instance_id, InstanceName="renamed-host"
    )
    assert renamed["Instance"]["InstanceName"] == "renamed-host"
    [instance] = cluster.call("DescribeManagedInstances", **{"InstanceId.1": agent.instance_id})[
        "Instances"
    ]
    assert instance["InstanceName"] == "renamed-host" and instance["Connected"] is True
    activation_id = instance["ActivationId"]
    error = _refused(cluster, "DeleteActivation", ActivationId=activation_id)
    assert (error.status, error.code) == (403, "ActivationId.InUse")

    waiting = cluster.run("sleep 60", agent.instance_id, Timeout="120")
    wait_until(lambda: cluster.results(waiting)[0]["InvocationStatus"] == "Running", 30)
    gone = cluster.call("DeregisterManagedInstance", InstanceId=agent.instance_id)["Instance"]
    assert gone["InstanceId"] == agent.instance_id
    [result] = cluster.results(waiting)
    assert result["ErrorCode"] == "InstanceDeregistered"
    assert result["InvocationStatus"] == "Failed"
    assert agent.process is not None  # told on its kick channel, the agent stops by itself
    wait_until(
        lambda: agent.process is not None and agent.process.poll() is not None,
        30,
        what="the deregistered agent to stop",
    )

    # Gone, and every action says so: not listed, no agent status, no new task.
    for action, params in (
        ("RunCommand", {"Type": "RunShellScript", "CommandContent": "echo hi"}),
        ("DescribeCloudAssistantStatus", {}),
    ):
        refused = _refused(cluster, action, **params, **{"InstanceId.1": agent.instance_id})
        assert (refused.status, refused.code) == (404, "InvalidInstance.NotFound")
        assert "was deregistered" in refused.message and "activation code" in refused.message
    [listed] = cluster.call("DescribeActivations", ActivationId=activation_id)["ActivationList"]
    assert listed["DeregisteredCount"] == 1
    assert (
        cluster.call("DescribeManagedInstances", **{"InstanceId.1": agent.instance_id})[
            "TotalCount"
        ]
        == 0
    )
    cluster.call("DeleteActivation", ActivationId=activation_id)


def test_release_ends_unfinished_tasks_with_instance_released(cluster: Cluster) -> None:
    agent = cluster.new_agent("decommissioned")
    running = cluster.run("sleep 60", agent.instance_id, Timeout="120")
    wait_until(lambda: cluster.results(running)[0]["InvocationStatus"] == "Running", 30)
    agent.freeze()  # a task it never fetches: released while still waiting
    waiting = cluster.run("echo never", agent.instance_id)
    released = cluster.call("ReleaseManagedInstance", InstanceId=agent.instance_id)
    assert released["Instance"]["InstanceId"] == agent.instance_id
    agent.thaw()
    [was_running] = cluster.results(running)
    [was_waiting] = cluster.results(waiting)
    assert (was_running["InvocationStatus"], was_running["ErrorCode"]) == (
        "Failed",
        "InstanceReleased",
    )
    assert (was_waiting["InvocationStatus"], was_waiting["ErrorCode"]) == (
        "Aborted",
        "InstanceReleased",
    )
    assert "deleted from the inventory" in was_waiting["ErrorInfo"]
    later = _refused(
        cluster,
        "RunCommand",
        CommandContent="echo hi",
        Type="RunShellScript",
        **{"InstanceId.1": agent.instance_id},
    )
    assert (later.status, later.code) == (404, "InvalidInstance.NotFound")
    assert "was released" in later.message
    listed = cluster.call("DescribeManagedInstances", **{"InstanceId.1": agent.instance_id})
    assert listed["TotalCount"] == 0
    again = _refused(cluster, "ReleaseManagedInstance", InstanceId=agent.instance_id)
    assert again.status == 404
