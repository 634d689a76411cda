"""The vendor's official Python SDKs, unmodified, as clients of a real server and a real agent.

Only the endpoint, the credentials and the region ("local") are set, as
docs/sdk-clients.md describes: the current SDK (``alibabacloud_ecs20140526``, signing
with ACS3-HMAC-SHA256 by default and HMAC-SHA1 with ``signature_algorithm='v2'``) and the legacy
core SDK (``aliyunsdkcore`` + ``aliyunsdkecs``, HMAC-SHA1, answers as JSON bytes).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInvocationResultsRequest import (
    DescribeInvocationResultsRequest,
)
from aliyunsdkecs.request.v20140526.RunCommandRequest import RunCommandRequest

from tests.support.cluster import Agent, Cluster

REGION = "local"
FINAL = {"Success", "Failed", "Invalid", "Aborted", "Error", "Timeout", "Cancelled", "Terminated"}
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def without_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both SDKs read the proxy variables themselves and do not honour NO_PROXY.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("official-sdk-target")


def current_client(
    cluster: Cluster,
    signature_algorithm: str | None = None,
    access_key_id: str = "",
    secret: str = "",
) -> Client:
    return Client(
        open_api_models.Config(
            access_key_id=access_key_id or cluster.credentials.access_key_id,
            access_key_secret=secret or cluster.credentials.access_key_secret,
            endpoint=cluster.endpoint,  # host:port, no scheme
            protocol="http",
            region_id=REGION,
            signature_algorithm=signature_algorithm,
            connect_timeout=5000,
            read_timeout=15000,
        )
    )


def legacy_client(cluster: Cluster, access_key_id: str = "", secret: str = "") -> AcsClient:
    return AcsClient(
        access_key_id or cluster.credentials.access_key_id,
        secret or cluster.credentials.access_key_secret,
        REGION,
        port=cluster.api_port,
        auto_retry=False,
        connect_timeout=5,
        timeout=15,
    )


def local(request: Any) -> Any:
    """Point a legacy request at the test server (host only; the port lives on the client)."""
    request.set_endpoint("127.0.0.1")
    request.set_protocol_type("http")
    return request


def poll_until(fetch: Callable[[], str], wanted: Callable[[str], bool], deadline_s: float) -> str:
    """Call ``fetch`` until ``wanted`` holds for its answer; fail after ``deadline_s``."""
    end = time.monotonic() + deadline_s
    while True:
        value = fetch()
        if wanted(value):
            return value
        assert time.monotonic() < end, f"still {value!r} after {deadline_s} s"
        time.sleep(0.05)


def current_result(client: Client, invoke_id: str) -> dict[str, Any]:
    answer = client.describe_invocation_results(
        ecs.DescribeInvocationResultsRequest(region_id=REGION, invoke_id=invoke_id)
    )
    [result] = answer.body.invocation.invocation_results.invocation_result
    return dict(result.to_map())


def wait_final_current(client: Client, invoke_id: str, deadline_s: float = 60) -> dict[str, Any]:
    poll_until(
        lambda: str(current_result(client, invoke_id)["InvocationStatus"]),
        lambda status: status in FINAL,
        deadline_s,
    )
    return current_result(client, invoke_id)


def run_echo_hi(client: Client, agent: Agent) -> str:
    started = client.run_command(
        ecs.RunCommandRequest(
            region_id=REGION,
            instance_id=[agent.instance_id],
            type="RunShellScript",
            command_content="echo hi",
            timeout=30,
        )
    )
    assert started.status_code == 200
    assert started.body.request_id
    assert started.body.command_id.startswith("c-")
    assert started.body.invoke_id.startswith("t-")
    return str(started.body.invoke_id)


def assert_said_hi(result: dict[str, Any], agent: Agent, invoke_id: str) -> None:
    assert result["InvokeId"] == invoke_id
    assert result["InstanceId"] == agent.instance_id
    assert result["InvocationStatus"] == "Success"
    assert result["InvokeRecordStatus"] == "Finished"
    assert result["ExitCode"] == 0
    assert result["ErrorCode"] == ""
    assert result["Output"] == base64.b64encode(b"hi\n").decode()


# --- current SDK, ACS3-HMAC-SHA256 (its default) ---------------------------------------------


def test_current_sdk_v3_runs_a_command_and_reads_its_result(cluster: Cluster, agent: Agent) -> None:
    client = current_client(cluster)
    invoke_id = run_echo_hi(client, agent)
    assert_said_hi(wait_final_current(client, invoke_id), agent, invoke_id)


def test_current_sdk_v3_describes_invocations_with_output(cluster: Cluster, agent: Agent) -> None:
    client = current_client(cluster)
    invoke_id = run_echo_hi(client, agent)
    wait_final_current(client, invoke_id)
    answer = client.describe_invocations(
        ecs.DescribeInvocationsRequest(region_id=REGION, invoke_id=invoke_id, include_output=True)
    ).body
    assert answer.total_count == 1
    [task] = answer.invocations.invocation
    assert task.invoke_id == invoke_id
    assert task.command_type == "RunShellScript"
    assert base64.b64decode(task.command_content) == b"echo hi"
    assert task.invocation_status == "Success"
    [instance] = task.invoke_instances.invoke_instance
    assert instance.instance_id == agent.instance_id
    assert instance.invocation_status == "Success"
    assert instance.exit_code == 0
    assert instance.output == base64.b64encode(b"hi\n").decode()


def test_current_sdk_v3_reports_the_agent_online(cluster: Cluster, agent: Agent) -> None:
    client = current_client(cluster)
    status = client.describe_cloud_assistant_status(
        ecs.DescribeCloudAssistantStatusRequest(region_id=REGION, instance_id=[agent.instance_id])
    ).body
    [entry] = status.instance_cloud_assistant_status_set.instance_cloud_assistant_status
    assert entry.instance_id == agent.instance_id
    assert entry.cloud_assistant_status == "true"


def test_current_sdk_v3_lists_the_managed_instance(cluster: Cluster, agent: Agent) -> None:
    client = current_client(cluster)
    by_id = client.describe_managed_instances(
        ecs.DescribeManagedInstancesRequest(region_id=REGION, instance_id=[agent.instance_id])
    ).body
    assert [i.instance_id for i in by_id.instances] == [agent.instance_id]
    assert by_id.instances[0].connected is True
    everything = client.describe_managed_instances(
        ecs.DescribeManagedInstancesRequest(region_id=REGION, max_results=50)
    ).body
    assert agent.instance_id in {i.instance_id for i in everything.instances}


def test_current_sdk_v3_creates_an_activation(cluster: Cluster) -> None:
    client = current_client(cluster)
    answer = client.create_activation(
        ecs.CreateActivationRequest(region_id=REGION, instance_count=2, time_to_live_in_hours=1)
    ).body
    assert answer.request_id
    assert answer.activation_id
    assert answer.activation_code and answer.activation_code.startswith("a-")


def test_current_sdk_v3_stops_a_running_command(cluster: Cluster, agent: Agent) -> None:
    client = current_client(cluster)
    invoke_id = client.run_command(
        ecs.RunCommandRequest(
            region_id=REGION,
            instance_id=[agent.instance_id],
            type="RunShellScript",
            command_content="sleep 300",
            timeout=600,
        )
    ).body.invoke_id

    def status() -> str:
        return str(current_result(client, invoke_id)["InvocationStatus"])

    poll_until(status, lambda s: s == "Running" or s in FINAL, 30)
    stopped = client.stop_invocation(
        ecs.StopInvocationRequest(
            region_id=REGION, invoke_id=invoke_id, instance_id=[agent.instance_id]
        )
    )
    assert stopped.status_code == 200 and stopped.body.request_id
    assert poll_until(status, lambda s: s in FINAL, 30) == "Terminated"


# --- current SDK, HMAC-SHA1 ('v2' in its configuration) ----------------------------------------


def test_current_sdk_v1_runs_a_command_and_reads_its_result(cluster: Cluster, agent: Agent) -> None:
    client = current_client(cluster, signature_algorithm="v2")
    invoke_id = run_echo_hi(client, agent)
    assert_said_hi(wait_final_current(client, invoke_id), agent, invoke_id)


# --- legacy core SDK ---------------------------------------------------------------------------


def test_legacy_sdk_runs_a_command_and_reads_its_result(cluster: Cluster, agent: Agent) -> None:
    client = legacy_client(cluster)
    request = local(RunCommandRequest())
    request.set_InstanceIds([agent.instance_id])
    request.set_Type("RunShellScript")
    request.set_CommandContent("echo hi")
    request.set_Timeout(30)
    raw = client.do_action_with_exception(request)
    assert isinstance(raw, bytes)
    started = json.loads(raw)
    assert started["RequestId"] and started["CommandId"].startswith("c-")
    invoke_id = started["InvokeId"]

    def fetch() -> dict[str, Any]:
        describe = local(DescribeInvocationResultsRequest())
        describe.set_InvokeId(invoke_id)
        answer = json.loads(client.do_action_with_exception(describe))
        [result] = answer["Invocation"]["InvocationResults"]["InvocationResult"]
        return dict(result)

    poll_until(lambda: str(fetch()["InvocationStatus"]), lambda s: s in FINAL, 60)
    assert_said_hi(fetch(), agent, invoke_id)


# --- refusals through the SDKs -----------------------------------------------------------------


@pytest.mark.parametrize("signature_algorithm", [None, "v2"], ids=["acs3-hmac-sha256", "hmac-sha1"])
def test_current_sdk_wrong_secret_is_signature_does_not_match(
    cluster: Cluster, agent: Agent, signature_algorithm: str | None
) -> None:
    client = current_client(cluster, signature_algorithm, secret="not-the-secret")
    with pytest.raises(ClientException) as error:
        client.run_command(
            ecs.RunCommandRequest(
                region_id=REGION,
                instance_id=[agent.instance_id],
                type="RunShellScript",
                command_content="echo never",
            )
        )
    assert error.value.code == "SignatureDoesNotMatch"
    assert error.value.status_code == 400
    assert error.value.request_id
    assert ":" in error.value.data["Message"]


def test_legacy_sdk_wrong_secret_is_signature_does_not_match(
    cluster: Cluster, agent: Agent
) -> None:
    request = local(RunCommandRequest())
    request.set_InstanceIds([agent.instance_id])
    request.set_Type("RunShellScript")
    request.set_CommandContent("echo never")
    with pytest.raises(ServerException) as error:
        legacy_client(cluster, secret="not-the-secret").do_action_with_exception(request)
    # The legacy client turns a 400 SignatureDoesNotMatch into InvalidAccessKeySecret exactly
    # when the server's string to sign (after the message's colon) equals its own: so this code
    # proves both the refusal and the server's canonicalisation.
    assert error.value.get_error_code() == "InvalidAccessKeySecret"
    assert error.value.get_http_status() == 400
    assert error.value.get_request_id()


@pytest.mark.parametrize("signature_algorithm", [None, "v2"], ids=["acs3-hmac-sha256", "hmac-sha1"])
def test_current_sdk_unknown_access_key_is_refused(
    cluster: Cluster, signature_algorithm: str | None
) -> None:
    client = current_client(cluster, signature_algorithm, access_key_id="OANOSUCHKEY", secret="x")
    with pytest.raises(ClientException) as error:
        client.describe_invocations(ecs.DescribeInvocationsRequest(region_id=REGION))
    assert error.value.code == "InvalidAccessKeyId.NotFound"
    assert error.value.status_code in (400, 404)


def test_legacy_sdk_unknown_access_key_is_refused(cluster: Cluster) -> None:
    request = local(DescribeInvocationResultsRequest())
    request.set_InvokeId("t-doesnotmatter")
    with pytest.raises(ServerException) as error:
        legacy_client(cluster, "OANOSUCHKEY", "x").do_action_with_exception(request)
    assert error.value.get_error_code() == "InvalidAccessKeyId.NotFound"
    assert error.value.get_http_status() in (400, 404)
