"""The vendor's official SDKs, unmodified, against a real server and a real agent.

Only the endpoint and the credentials are changed: the current SDK (ACS3-HMAC-SHA256 by default,
HMAC-SHA1 with signature_algorithm='v2') and the legacy core SDK (HMAC-SHA1).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInvocationResultsRequest import (
    DescribeInvocationResultsRequest,
)
from aliyunsdkecs.request.v20140526.RunCommandRequest import RunCommandRequest
from Tea.exceptions import TeaException

from tests.support.cluster import Agent, Cluster

FINAL = {"Success", "Failed", "Invalid", "Aborted", "Error", "Timeout", "Cancelled", "Terminated"}


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both SDKs read proxy variables themselves and ignore NO_PROXY.
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Iterator[Agent]:
    yield cluster.new_agent("sdk-target")


def tea_client(cluster: Cluster, signature: str | None = None, secret: str = "") -> Client:
    return Client(
        open_api_models.Config(
            access_key_id=cluster.credentials.access_key_id,
            access_key_secret=secret or cluster.credentials.access_key_secret,
            endpoint=cluster.endpoint,
            protocol="http",
            region_id="local",
            signature_algorithm=signature,
            connect_timeout=5000,
            read_timeout=10000,
        )
    )


def legacy_client(cluster: Cluster, secret: str = "") -> AcsClient:
    return AcsClient(
        cluster.credentials.access_key_id,
        secret or cluster.credentials.access_key_secret,
        "local",
        port=cluster.api_port,
        auto_retry=False,
    )


def poll(fetch: Any, deadline_s: float = 60) -> dict[str, Any]:
    """Call ``fetch`` until the one result it returns is final."""
    end = time.monotonic() + deadline_s
    while True:
        result: dict[str, Any] = fetch()
        if result["InvocationStatus"] in FINAL:
            return result
        assert time.monotonic() < end, f"still {result['InvocationStatus']} after {deadline_s} s"
        time.sleep(0.05)


@pytest.mark.parametrize("signature", [None, "v2"], ids=["acs3-hmac-sha256", "hmac-sha1"])
def test_current_sdk_runs_a_command(cluster: Cluster, agent: Agent, signature: str | None) -> None:
    client = tea_client(cluster, signature)
    started = client.run_command(
        ecs.RunCommandRequest(
            region_id="local",
            instance_id=[agent.instance_id],
            type="RunShellScript",
            command_content="echo hi",
            timeout=30,
        )
    )
    invoke_id = started.body.invoke_id
    assert invoke_id.startswith("t-") and started.body.command_id.startswith("c-")

    def fetch() -> dict[str, Any]:
        answer = client.describe_invocation_results(
            ecs.DescribeInvocationResultsRequest(region_id="local", invoke_id=invoke_id)
        )
        [result] = answer.body.invocation.invocation_results.invocation_result
        return dict(result.to_map())

    result = poll(fetch)
    assert result["InvocationStatus"] == "Success"
    assert result["ExitCode"] == 0
    assert base64.b64decode(result["Output"]) == b"hi\n"
    assert result["InstanceId"] == agent.instance_id


def test_current_sdk_lists_invocations_and_agents(cluster: Cluster, agent: Agent) -> None:
    client = tea_client(cluster)
    invoke_id = client.run_command(
        ecs.RunCommandRequest(
            region_id="local",
            instance_id=[agent.instance_id],
            type="RunShellScript",
            command_content="echo listed",
        )
    ).body.invoke_id
    poll(
        lambda: (
            client.describe_invocations(
                ecs.DescribeInvocationsRequest(region_id="local", invoke_id=invoke_id)
            )
            .body.invocations.invocation[0]
            .to_map()
        )
    )
    answer = client.describe_invocations(
        ecs.DescribeInvocationsRequest(
            region_id="local",
            invoke_id=invoke_id,
            include_output=True,
            content_encoding="PlainText",
        )
    ).body
    [task] = answer.invocations.invocation
    assert task.invocation_status == "Success"
    assert task.invoke_instances.invoke_instance[0].output == "listed\n"
    status = client.describe_cloud_assistant_status(
        ecs.DescribeCloudAssistantStatusRequest(region_id="local", instance_id=[agent.instance_id])
    ).body
    [entry] = status.instance_cloud_assistant_status_set.instance_cloud_assistant_status
    assert entry.cloud_assistant_status == "true"
    managed = client.describe_managed_instances(
        ecs.DescribeManagedInstancesRequest(region_id="local", instance_id=[agent.instance_id])
    ).body
    assert [i.instance_id for i in managed.instances] == [agent.instance_id]
    activation = client.create_activation(
        ecs.CreateActivationRequest(region_id="local", instance_count=1)
    ).body
    assert activation.activation_code.startswith("a-")


def test_current_sdk_stops_an_invocation(cluster: Cluster, agent: Agent) -> None:
    client = tea_client(cluster)
    invoke_id = client.run_command(
        ecs.RunCommandRequest(
            region_id="local",
            instance_id=[agent.instance_id],
            type="RunShellScript",
            command_content="sleep 300",
            timeout=600,
        )
    ).body.invoke_id

    def status() -> str:
        answer = client.describe_invocation_results(
            ecs.DescribeInvocationResultsRequest(region_id="local", invoke_id=invoke_id)
        )
        return str(answer.body.invocation.invocation_results.invocation_result[0].invocation_status)

    end = time.monotonic() + 30
    while status() != "Running":
        assert time.monotonic() < end
        time.sleep(0.05)
    client.stop_invocation(
        ecs.StopInvocationRequest(
            region_id="local", invoke_id=invoke_id, instance_id=[agent.instance_id]
        )
    )
    end = time.monotonic() + 30
    while status() != "Terminated":
        assert time.monotonic() < end
        time.sleep(0.05)


def test_legacy_sdk_runs_a_command(cluster: Cluster, agent: Agent) -> None:
    client = legacy_client(cluster)
    request = RunCommandRequest()
    request.set_endpoint("127.0.0.1")
    request.set_protocol_type("http")
    request.set_InstanceIds([agent.instance_id])
    request.set_Type("RunShellScript")
    request.set_CommandContent("echo legacy")
    invoke_id = json.loads(client.do_action_with_exception(request))["InvokeId"]

    def fetch() -> dict[str, Any]:
        describe = DescribeInvocationResultsRequest()
        describe.set_endpoint("127.0.0.1")
        describe.set_protocol_type("http")
        describe.set_InvokeId(invoke_id)
        answer = json.loads(client.do_action_with_exception(describe))
        [result] = answer["Invocation"]["InvocationResults"]["InvocationResult"]
        return dict(result)

    result = poll(fetch)
    assert result["InvocationStatus"] == "Success"
    assert base64.b64decode(result["Output"]) == b"legacy\n"


def test_wrong_secret_is_refused_by_both_sdks(cluster: Cluster, agent: Agent) -> None:
    with pytest.raises(TeaException) as tea_error:
        tea_client(cluster, secret="not-the-secret").describe_invocations(
            ecs.DescribeInvocationsRequest(region_id="local")
        )
    assert tea_error.value.code == "SignatureDoesNotMatch"
    request = RunCommandRequest()
    request.set_endpoint("127.0.0.1")
    request.set_protocol_type("http")
    request.set_InstanceIds([agent.instance_id])
    request.set_Type("RunShellScript")
    request.set_CommandContent("echo never")
    with pytest.raises(ServerException) as legacy_error:
        legacy_client(cluster, secret="not-the-secret").do_action_with_exception(request)
    # The legacy client recognises our string to sign and names the real cause.
    assert legacy_error.value.get_error_code() in (
        "SignatureDoesNotMatch",
        "InvalidAccessKeySecret",
    )
    assert legacy_error.value.get_http_status() == 400


def test_unknown_access_key_is_refused(cluster: Cluster) -> None:
    client = Client(
        open_api_models.Config(
            access_key_id="OANOSUCHKEY",
            access_key_secret="x",
            endpoint=cluster.endpoint,
            protocol="http",
            region_id="local",
        )
    )
    with pytest.raises(TeaException) as error:
        client.describe_invocations(ecs.DescribeInvocationsRequest(region_id="local"))
    assert error.value.code == "InvalidAccessKeyId.NotFound"
