"""Managed instances carry tags (from their activation, or set with TagResources), and
RunCommand / InvokeCommand can target instances by ResourceTag.N instead of InstanceId.N."""

from __future__ import annotations

import pytest

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Agent, Cluster


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> dict[str, Agent]:
    web = cluster.register_agent("web-1", **{"Tag.1.Key": "env", "Tag.1.Value": "prod"})
    db = cluster.register_agent("db-1", **{"Tag.1.Key": "env", "Tag.1.Value": "prod"})
    for agent in (web, db):
        cluster.start_agent(agent)
    cluster.call(
        "TagResources",
        ResourceType="managedinstance",
        **{"ResourceId.1": web.instance_id, "Tag.1.Key": "role", "Tag.1.Value": "web"},
    )
    return {"web": web, "db": db}


def _refused(cluster: Cluster, action: str, **params: str) -> ApiCallError:
    with pytest.raises(ApiCallError) as refused:
        cluster.call(action, **params)
    return refused.value


def _targets(cluster: Cluster, **params: str) -> set[str]:
    invoke_id = cluster.call(
        "RunCommand", Type="RunShellScript", CommandContent="echo tagged", **params
    )["InvokeId"]
    results = cluster.wait_final(invoke_id)
    assert {r["InvocationStatus"] for r in results} == {"Success"}
    return {r["InstanceId"] for r in results}


def test_instances_inherit_activation_tags_and_take_more(
    cluster: Cluster, fleet: dict[str, Agent]
) -> None:
    answer = cluster.call("DescribeManagedInstances", **{"InstanceId.1": fleet["web"].instance_id})
    [web] = answer["Instances"]
    assert {(t["TagKey"], t["TagValue"]) for t in web["Tags"]} == {
        ("env", "prod"),
        ("role", "web"),
    }
    by_tag = cluster.call("DescribeManagedInstances", **{"Tag.1.Key": "role"})
    assert [i["InstanceId"] for i in by_tag["Instances"]] == [fleet["web"].instance_id]
    listed = cluster.call(
        "ListTagResources",
        ResourceType="managedinstance",
        **{"ResourceId.1": fleet["db"].instance_id},
    )
    assert [(t["TagKey"], t["TagValue"]) for t in listed["TagResources"]["TagResource"]] == [
        ("env", "prod")
    ]


def test_resource_tag_chooses_the_targets(cluster: Cluster, fleet: dict[str, Agent]) -> None:
    web, db = fleet["web"].instance_id, fleet["db"].instance_id
    assert _targets(cluster, **{"ResourceTag.1.Key": "role", "ResourceTag.1.Value": "web"}) == {web}
    assert _targets(cluster, **{"ResourceTag.1.Key": "env"}) == {web, db}  # any value
    command_id = cluster.call(
        "CreateCommand",
        Name="tagged",
        Type="RunShellScript",
        CommandContent="echo saved",
        ContentEncoding="PlainText",
    )["CommandId"]
    invoke_id = cluster.call(
        "InvokeCommand",
        CommandId=command_id,
        **{"ResourceTag.1.Key": "env", "ResourceTag.1.Value": "prod", "ResourceTag.2.Key": "role"},
    )["InvokeId"]
    assert [r["InstanceId"] for r in cluster.wait_final(invoke_id)] == [web]


def test_resource_tag_refusals(cluster: Cluster, fleet: dict[str, Agent]) -> None:
    base = {"Type": "RunShellScript", "CommandContent": "true"}
    conflict = _refused(
        cluster,
        "RunCommand",
        **base,
        **{"InstanceId.1": fleet["web"].instance_id, "ResourceTag.1.Key": "env"},
    )
    assert (conflict.status, conflict.code) == (400, "InvalidResourceTag.ConflictWithInstanceIds")
    nothing = _refused(cluster, "RunCommand", **base, **{"ResourceTag.1.Key": "team"})
    assert (nothing.status, nothing.code) == (400, "InvalidResourceTag.InstanceNotFound")
    assert "team=*" in nothing.message
    missing = _refused(cluster, "RunCommand", **base)
    assert missing.code == "MissingParam.InstanceId"
    no_key = _refused(cluster, "RunCommand", **base, **{"ResourceTag.1.Value": "x"})
    assert no_key.code == "MissingParameter.ResourceTagKey"
    twice = _refused(
        cluster,
        "RunCommand",
        **base,
        **{"ResourceTag.1.Key": "env", "ResourceTag.2.Key": "env"},
    )
    assert twice.code == "Duplicate.ResourceTagKey"
    wrong_type = _refused(
        cluster,
        "TagResources",
        ResourceType="instance",
        **{"ResourceId.1": fleet["web"].instance_id, "Tag.1.Key": "k"},
    )
    assert wrong_type.code == "InvalidResourceType.NotSupported"
    unknown = _refused(
        cluster,
        "TagResources",
        ResourceType="managedinstance",
        **{"ResourceId.1": "mi-unknown", "Tag.1.Key": "k"},
    )
    assert (unknown.status, unknown.code) == (404, "InvalidResourceId.NotFound")


def test_untag_removes_the_target(cluster: Cluster, fleet: dict[str, Agent]) -> None:
    db = fleet["db"].instance_id
    cluster.call(
        "TagResources",
        ResourceType="managedinstance",
        **{"ResourceId.1": db, "Tag.1.Key": "drain", "Tag.1.Value": "yes"},
    )
    assert _targets(cluster, **{"ResourceTag.1.Key": "drain"}) == {db}
    cluster.call(
        "UntagResources",
        ResourceType="managedinstance",
        **{"ResourceId.1": db, "TagKey.1": "drain"},
    )
    refused = _refused(
        cluster,
        "RunCommand",
        Type="RunShellScript",
        CommandContent="true",
        **{"ResourceTag.1.Key": "drain"},
    )
    assert refused.code == "InvalidResourceTag.InstanceNotFound"
