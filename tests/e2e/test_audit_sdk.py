"""The audit trail through the vendor's ActionTrail SDK (``alibabacloud_actiontrail20200706``,
LookupEvents), unmodified: every change, refusal and secret read is one event with the right
user, written with the change; secrets and command content never appear in it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alibabacloud_actiontrail20200706 import models as trail
from alibabacloud_actiontrail20200706.client import Client as TrailClient
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ram20150501 import models as ram
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.e2e.test_official_sdks import REGION, current_client, without_proxies
from tests.e2e.test_ram_sdk import READ_ONLY, ram_client
from tests.support.cluster import Cluster

__all__ = ["without_proxies"]


def trail_client(cluster: Cluster) -> TrailClient:
    return TrailClient(
        open_api_models.Config(
            access_key_id=cluster.credentials.access_key_id,
            access_key_secret=cluster.credentials.access_key_secret,
            endpoint=cluster.endpoint,
            protocol="http",
            region_id=REGION,
            connect_timeout=5000,
            read_timeout=15000,
        )
    )


def lookup(cluster: Cluster, **attributes: str) -> list[dict[str, Any]]:
    """Every matching event, all pages (MaxResults=2 to walk several)."""
    client = trail_client(cluster)
    found: list[dict[str, Any]] = []
    token = None
    for _ in range(500):
        answer = client.lookup_events(
            trail.LookupEventsRequest(
                lookup_attribute=[
                    trail.LookupEventsRequestLookupAttribute(key=k, value=v)
                    for k, v in attributes.items()
                ]
                or None,
                max_results=2,
                next_token=token,
            )
        ).body
        found += answer.events or []
        token = answer.next_token
        if not token:
            return found
    raise AssertionError("paging did not end")


@pytest.fixture(scope="module")
def instance_id(cluster: Cluster) -> str:
    return cluster.register_agent("audited").instance_id


def test_a_change_and_a_refusal_each_appear_once_with_their_user(
    cluster: Cluster, instance_id: str
) -> None:
    admin = ram_client(cluster)
    admin.create_user(ram.CreateUserRequest(user_name="watcher"))
    admin.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(
            policy_type="System", policy_name=READ_ONLY, user_name="watcher"
        )
    )
    key = admin.create_access_key(ram.CreateAccessKeyRequest(user_name="watcher")).body.access_key
    watcher = current_client(cluster, access_key_id=key.access_key_id, secret=key.access_key_secret)
    with pytest.raises(ClientException):
        watcher.run_command(
            ecs.RunCommandRequest(
                region_id=REGION,
                type="RunShellScript",
                command_content="id",
                instance_id=[instance_id],
            )
        )
    ran = (
        current_client(cluster)
        .run_command(
            ecs.RunCommandRequest(
                region_id=REGION,
                type="RunShellScript",
                command_content="echo top-secret-script",
                instance_id=[instance_id],
            )
        )
        .body.invoke_id
    )

    runs = lookup(cluster, EventName="RunCommand")
    assert len(runs) == 2, runs
    refused = next(e for e in runs if e["errorCode"])
    assert refused["userIdentity"]["userName"] == "watcher"
    assert refused["userIdentity"]["accessKeyId"] == key.access_key_id
    assert refused["errorCode"] == "Forbidden.RAM" and refused["eventRW"] == "Write"
    accepted = next(e for e in runs if not e["errorCode"])
    assert accepted["userIdentity"]["userName"] == "admin"
    assert instance_id in accepted["resourceName"].split(",")
    assert accepted["sourceIpAddress"] == "127.0.0.1" and accepted["requestId"]
    assert "top-secret-script" not in json.dumps(accepted)
    assert accepted["requestParameters"]["CommandContent"].startswith("sha256:")
    assert [e["eventId"] for e in lookup(cluster, User="watcher")] == [refused["eventId"]]
    by_resource = lookup(cluster, ResourceName=instance_id)
    assert accepted["eventId"] in {e["eventId"] for e in by_resource}

    # An added field: the SDK's model drops it, so it is read from the raw answer.
    task = cluster.call("DescribeInvocations", InvokeId=ran)["Invocations"]["Invocation"][0]
    assert task["InvokedBy"] == "admin"
    assert [e["userIdentity"]["userName"] for e in lookup(cluster, EventName="CreateUser")] == [
        "admin"
    ]


def test_secret_values_are_redacted_and_secret_reads_recorded(cluster: Cluster) -> None:
    cluster.call("CreateSecretParameter", Name="audited-secret", Value="hunter2")
    cluster.call("GetSecretParameter", Name="audited-secret")  # value hidden: not a secret read
    cluster.call("GetSecretParameter", Name="audited-secret", WithDecryption="true")
    [created] = lookup(cluster, EventName="CreateSecretParameter")
    assert created["requestParameters"]["Value"] == "***"
    assert "hunter2" not in json.dumps(lookup(cluster))
    [read] = lookup(cluster, EventName="GetSecretParameter")
    assert read["resourceName"] == "audited-secret" and read["eventRW"] == "Read"


def test_a_failed_change_is_recorded_with_its_code_and_time_filters_apply(
    cluster: Cluster,
) -> None:
    with pytest.raises(ClientException):
        ram_client(cluster).delete_user(ram.DeleteUserRequest(user_name="nobody-here"))
    [failed] = lookup(cluster, EventName="DeleteUser")
    assert failed["errorCode"] == "EntityNotExist.User"
    later = trail_client(cluster).lookup_events(
        trail.LookupEventsRequest(
            start_time="2099-01-01T00:00:00Z", end_time="2099-01-02T00:00:00Z"
        )
    )
    assert later.body.events == []
    everything = lookup(cluster)
    assert len({e["eventId"] for e in everything}) == len(everything)  # paging: each once
    with pytest.raises(ClientException) as bad:
        trail_client(cluster).lookup_events(trail.LookupEventsRequest(start_time="yesterday"))
    assert bad.value.code == "InvalidParameter.StartTime"
