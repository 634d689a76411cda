"""Resource groups (README, "Rollouts"; API.md 5.1, 5.18, 5.22): an activation's ResourceGroupId
is carried by the instances it registers, listed and filtered by DescribeActivations and
DescribeManagedInstances; RunCommand / InvokeCommand / SendFile with a ResourceGroupId refuse a
target outside the group, and the targets are recorded when the task is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Agent, Cluster

TAG = {"Tag.1.Key": "tier", "Tag.1.Value": "rg-test"}
BY_TAG = {"ResourceTag.1.Key": "tier", "ResourceTag.1.Value": "rg-test"}


def _refused(cluster: Cluster, action: str, **params: str) -> ApiCallError:
    with pytest.raises(ApiCallError) as error:
        cluster.call(action, **params)
    return error.value


def _group_of(cluster: Cluster, agent: Agent) -> str:
    answer = cluster.call("DescribeManagedInstances", **{"InstanceId.1": agent.instance_id})
    [instance] = answer["Instances"]
    return str(instance["ResourceGroupId"])


def _listed(cluster: Cluster, group: str) -> set[str]:
    answer = cluster.call("DescribeManagedInstances", ResourceGroupId=group, MaxResults="50")
    return {i["InstanceId"] for i in answer["Instances"]}


def test_an_activation_group_is_carried_by_its_instances_and_filters_the_lists(
    cluster: Cluster,
) -> None:
    created = cluster.call("CreateActivation", ResourceGroupId="rg-lists", InstanceCount="1")
    [listed] = cluster.call("DescribeActivations", ActivationId=created["ActivationId"])[
        "ActivationList"
    ]
    assert listed["ResourceGroupId"] == "rg-lists"
    in_group = cluster.call("DescribeActivations", ResourceGroupId="rg-lists")["ActivationList"]
    assert [a["ActivationId"] for a in in_group] == [created["ActivationId"]]
    assert cluster.call("DescribeActivations", ResourceGroupId="rg-none")["TotalCount"] == 0

    grouped = cluster.register_agent("grouped", ResourceGroupId="rg-lists")
    plain = cluster.register_agent("plain")
    assert (_group_of(cluster, grouped), _group_of(cluster, plain)) == ("rg-lists", "")
    assert _listed(cluster, "rg-lists") == {grouped.instance_id}
    assert _listed(cluster, "rg-none") == set()


def test_targets_outside_the_group_are_refused_and_those_inside_run(
    cluster: Cluster, tmp_path: Path
) -> None:
    inside = cluster.start_agent(cluster.register_agent("in", ResourceGroupId="rg-run", **TAG))
    outside = cluster.register_agent("out", ResourceGroupId="rg-other", **TAG)
    ungrouped = cluster.register_agent("none")
    script = {"Type": "RunShellScript", "CommandContent": "echo in-group"}

    for stranger, where in ((outside, "rg-other"), (ungrouped, "no resource group")):
        error = _refused(
            cluster,
            "RunCommand",
            ResourceGroupId="rg-run",
            **script,
            **{"InstanceId.1": inside.instance_id, "InstanceId.2": stranger.instance_id},
        )
        assert (error.status, error.code) == (400, "InvalidResourceGroup.NotMatch")
        assert stranger.instance_id in error.message and where in error.message
    # By tag: "outside" carries the tag too, so the group refuses the choice.
    error = _refused(cluster, "RunCommand", ResourceGroupId="rg-run", **script, **BY_TAG)
    assert (error.status, error.code) == (400, "InvalidResourceGroup.NotMatch")
    assert outside.instance_id in error.message

    command_id = cluster.call("CreateCommand", Name="rg", **script, ContentEncoding="PlainText")[
        "CommandId"
    ]
    error = _refused(
        cluster,
        "InvokeCommand",
        CommandId=command_id,
        ResourceGroupId="rg-run",
        **{"InstanceId.1": outside.instance_id},
    )
    assert (error.status, error.code) == (400, "InvalidResourceGroup.NotMatch")
    error = _refused(
        cluster,
        "SendFile",
        Name="app.conf",
        TargetDir=str(tmp_path),
        Content="v1\n",
        ResourceGroupId="rg-run",
        **{"InstanceId.1": outside.instance_id},
    )
    assert (error.status, error.code) == (400, "InvalidResourceGroup.NotMatch")

    invoke_id = cluster.run("echo in-group", inside.instance_id, ResourceGroupId="rg-run")
    # Registered in the group after the task was created: not added to it.
    cluster.register_agent("later", ResourceGroupId="rg-run", **TAG)
    [result] = cluster.wait_final(invoke_id)
    assert (result["InstanceId"], result["InvocationStatus"]) == (inside.instance_id, "Success")
    sent = cluster.call(
        "SendFile",
        Name="app.conf",
        TargetDir=str(tmp_path),
        Content="v1\n",
        ResourceGroupId="rg-run",
        **{"InstanceId.1": inside.instance_id},
    )
    assert sent["InvokeId"]
    # Without ResourceGroupId any target goes, as before.
    assert cluster.run("true", ungrouped.instance_id)
