"""JoinResourceGroup through the official SDK (alibabacloud-ecs20140526, unmodified): a managed
instance moves to another resource group, which DescribeManagedInstances and the targets check
of RunCommand then follow; the move is audited, RAM-checked per instance, and bad input gets
its code."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client

from tests.e2e.test_official_sdks import REGION, current_client, without_proxies
from tests.integration.test_access_enforcement import make_user, refused
from tests.support.cluster import Cluster
from tests.support.console import signed_in, text_of

__all__ = ["without_proxies"]  # the autouse fixture applies here too


def _join(client: Client, instance_id: str, group: str, kind: str = "instance") -> None:
    client.join_resource_group(
        ecs.JoinResourceGroupRequest(
            region_id=REGION, resource_group_id=group, resource_id=instance_id, resource_type=kind
        )
    )


def _group_of(client: Client, instance_id: str) -> str:
    [found] = client.describe_managed_instances(
        ecs.DescribeManagedInstancesRequest(region_id=REGION, instance_id=[instance_id])
    ).body.instances
    return str(found.resource_group_id)


def test_current_sdk_moves_an_instance_to_another_resource_group(cluster: Cluster) -> None:
    client = current_client(cluster)
    machine = cluster.register_agent("grouped", ResourceGroupId="rg-first").instance_id
    assert _group_of(client, machine) == "rg-first"
    _join(client, machine, "rg-second")
    assert _group_of(client, machine) == "rg-second"
    # A task given the old group is refused for it now; the new group is accepted.
    run = ecs.RunCommandRequest(
        region_id=REGION,
        type="RunShellScript",
        command_content="true",
        instance_id=[machine],
        resource_group_id="rg-first",
    )
    assert refused(client.run_command, run).code == "InvalidResourceGroup.NotMatch"
    run.resource_group_id = "rg-second"
    assert client.run_command(run).body.invoke_id.startswith("t-")
    events = cluster.call(
        "LookupEvents",
        **{"LookupAttribute.1.Key": "EventName", "LookupAttribute.1.Value": "JoinResourceGroup"},
    )["Events"]
    assert any(machine in str(event) and "rg-second" in str(event) for event in events)


@pytest.mark.parametrize(
    ("instance", "group", "kind", "code"),
    [
        ("", "rg-x", "instance", "MissingParameter"),
        ("mi-known", "", "instance", "MissingParameter"),
        ("mi-known", "rg-x", "securitygroup", "InvalidResourceType.NotSupported"),
        ("mi-known", "g" * 65, "instance", "InvalidParameter"),
        ("mi-0000000000000000nothere", "rg-x", "instance", "InvalidInstanceId.NotFound"),
    ],
)
def test_join_resource_group_refuses_bad_input_with_its_code(
    cluster: Cluster, instance: str, group: str, kind: str, code: str
) -> None:
    client = current_client(cluster)
    if instance == "mi-known":
        instance = cluster.register_agent("refusals").instance_id
    request = ecs.JoinResourceGroupRequest(
        region_id=REGION,
        resource_group_id=group or None,
        resource_id=instance or None,
        resource_type=kind,
    )
    assert refused(client.join_resource_group, request).code.startswith(code)


def test_a_user_may_move_only_the_instances_its_policy_allows(cluster: Cluster) -> None:
    mine = cluster.register_agent("allowed").instance_id
    other = cluster.register_agent("not-allowed").instance_id
    statement = {
        "Effect": "Allow",
        "Action": "ecs:JoinResourceGroup",
        "Resource": f"acs:ecs:*:*:instance/{mine}",
    }
    user = make_user(cluster, "group-mover", statement).ecs(cluster)
    _join(user, mine, "rg-moved")
    assert refused(_join, user, other, "rg-moved").code.startswith("Forbidden")
    admin = current_client(cluster)
    assert (_group_of(admin, mine), _group_of(admin, other)) == ("rg-moved", "")


def test_the_console_instances_page_shows_each_machines_resource_group(cluster: Cluster) -> None:
    moved = cluster.register_agent("grouped-page", ResourceGroupId="rg-before").instance_id
    _join(current_client(cluster), moved, "rg-after")
    with signed_in(cluster) as console:
        listing = console.get("/console/instances").text
    row = listing[listing.index(f'data-instance-id="{moved}"') :].split("</tr>")[0]
    assert "rg-after" in text_of(row) and "rg-before" not in listing
