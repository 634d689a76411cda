"""Resource groups through the vendor's current SDK, unmodified: CreateActivation's
ResourceGroupId is listed and filtered on the activation and the instances it registers, and
RunCommand with a ResourceGroupId refuses a target outside it (README, "Rollouts")."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.e2e.test_official_sdks import REGION, current_client, without_proxies
from tests.support.cluster import Cluster

__all__ = ["without_proxies"]  # the autouse fixture: the SDK reads proxy variables itself


def test_current_sdk_v3_sees_and_checks_resource_groups(cluster: Cluster) -> None:
    client = current_client(cluster)
    created = client.create_activation(
        ecs.CreateActivationRequest(region_id=REGION, instance_count=1, resource_group_id="rg-sdk")
    ).body
    listed = client.describe_activations(
        ecs.DescribeActivationsRequest(region_id=REGION, resource_group_id="rg-sdk")
    ).body
    assert [(a.activation_id, a.resource_group_id) for a in listed.activation_list] == [
        (created.activation_id, "rg-sdk")
    ]

    inside = cluster.register_agent("sdk-in", ResourceGroupId="rg-sdk-run")
    outside = cluster.register_agent("sdk-out")
    found = client.describe_managed_instances(
        ecs.DescribeManagedInstancesRequest(region_id=REGION, resource_group_id="rg-sdk-run")
    ).body
    assert [(i.instance_id, i.resource_group_id) for i in found.instances] == [
        (inside.instance_id, "rg-sdk-run")
    ]

    with pytest.raises(ClientException) as error:
        client.run_command(
            ecs.RunCommandRequest(
                region_id=REGION,
                instance_id=[inside.instance_id, outside.instance_id],
                resource_group_id="rg-sdk-run",
                type="RunShellScript",
                command_content="echo never",
                content_encoding="PlainText",
            )
        )
    assert (error.value.status_code, error.value.code) == (400, "InvalidResourceGroup.NotMatch")
    assert outside.instance_id in str(error.value.message)
