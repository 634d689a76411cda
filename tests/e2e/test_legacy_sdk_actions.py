"""The legacy SDK (``aliyunsdkecs`` request classes over ``aliyunsdkcore``, HMAC-SHA1), unmodified,
for every action it has a request class for that test_official_sdks.py does not drive with it;
and its generic ``CommonRequest`` for OpenAssist's extensions (no SDK has classes for them).

Only the endpoint (host on the request, port on the client), the credentials and the region are
set. Answers are JSON bytes, read as the legacy SDK's users read them.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
from pathlib import Path
from typing import Any

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from aliyunsdkecs.request.v20140526.CreateActivationRequest import CreateActivationRequest
from aliyunsdkecs.request.v20140526.CreateCommandRequest import CreateCommandRequest
from aliyunsdkecs.request.v20140526.DeleteActivationRequest import DeleteActivationRequest
from aliyunsdkecs.request.v20140526.DeleteCommandRequest import DeleteCommandRequest
from aliyunsdkecs.request.v20140526.DeregisterManagedInstanceRequest import (
    DeregisterManagedInstanceRequest,
)
from aliyunsdkecs.request.v20140526.DescribeActivationsRequest import DescribeActivationsRequest
from aliyunsdkecs.request.v20140526.DescribeCloudAssistantSettingsRequest import (
    DescribeCloudAssistantSettingsRequest,
)
from aliyunsdkecs.request.v20140526.DescribeCloudAssistantStatusRequest import (
    DescribeCloudAssistantStatusRequest,
)
from aliyunsdkecs.request.v20140526.DescribeCommandsRequest import DescribeCommandsRequest
from aliyunsdkecs.request.v20140526.DescribeInvocationsRequest import DescribeInvocationsRequest
from aliyunsdkecs.request.v20140526.DescribeManagedInstancesRequest import (
    DescribeManagedInstancesRequest,
)
from aliyunsdkecs.request.v20140526.DescribeSendFileResultsRequest import (
    DescribeSendFileResultsRequest,
)
from aliyunsdkecs.request.v20140526.DisableActivationRequest import DisableActivationRequest
from aliyunsdkecs.request.v20140526.InvokeCommandRequest import InvokeCommandRequest
from aliyunsdkecs.request.v20140526.ListTagResourcesRequest import ListTagResourcesRequest
from aliyunsdkecs.request.v20140526.ModifyCloudAssistantSettingsRequest import (
    ModifyCloudAssistantSettingsRequest,
)
from aliyunsdkecs.request.v20140526.ModifyCommandRequest import ModifyCommandRequest
from aliyunsdkecs.request.v20140526.ModifyManagedInstanceRequest import (
    ModifyManagedInstanceRequest,
)
from aliyunsdkecs.request.v20140526.SendFileRequest import SendFileRequest
from aliyunsdkecs.request.v20140526.StopInvocationRequest import StopInvocationRequest
from aliyunsdkecs.request.v20140526.TagResourcesRequest import TagResourcesRequest
from aliyunsdkecs.request.v20140526.UntagResourcesRequest import UntagResourcesRequest

from tests.e2e.test_official_sdks import (
    FINAL,
    legacy_client,
    local,
    poll_until,
    without_proxies,
)
from tests.support.cluster import Agent, Cluster

__all__ = ["without_proxies"]  # the autouse fixture applies here too


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("legacy-sdk-target")


@pytest.fixture(scope="module")
def client(cluster: Cluster) -> AcsClient:
    return legacy_client(cluster)


def call(client: AcsClient, request: Any) -> dict[str, Any]:
    raw = client.do_action_with_exception(local(request))
    assert isinstance(raw, bytes)
    answer = json.loads(raw)
    assert answer["RequestId"]
    return dict(answer)


def describe_task(client: AcsClient, invoke_id: str) -> dict[str, Any]:
    request = DescribeInvocationsRequest()
    request.set_InvokeId(invoke_id)
    request.set_IncludeOutput(True)
    request.set_ContentEncoding("PlainText")
    [task] = call(client, request)["Invocations"]["Invocation"]
    return dict(task)


# --- commands ------------------------------------------------------------------------------------


def _create_command(client: AcsClient, name: str, script: str) -> str:
    create = CreateCommandRequest()
    create.set_Name(name)
    create.set_Type("RunShellScript")
    create.set_CommandContent(base64.b64encode(script.encode()).decode())
    create.set_Description("made by the legacy SDK")
    create.set_Timeout(600)
    command_id = str(call(client, create)["CommandId"])
    assert command_id.startswith("c-")
    return command_id


def _delete_command(client: AcsClient, command_id: str) -> None:
    delete = DeleteCommandRequest()
    delete.set_CommandId(command_id)
    call(client, delete)


def test_legacy_sdk_command_lifecycle(client: AcsClient) -> None:
    command_id = _create_command(client, "legacy-cmd", "uname -a")

    def describe() -> dict[str, Any]:
        request = DescribeCommandsRequest()
        request.set_CommandId(command_id)
        request.set_ContentEncoding("PlainText")
        return call(client, request)

    [command] = describe()["Commands"]["Command"]
    assert (command["Name"], command["CommandContent"], command["Timeout"]) == (
        "legacy-cmd",
        "uname -a",
        600,
    )
    modify = ModifyCommandRequest()
    modify.set_CommandId(command_id)
    modify.set_Description("changed by the legacy SDK")
    modify.set_WorkingDir("/tmp")
    call(client, modify)
    [command] = describe()["Commands"]["Command"]
    assert (command["Description"], command["WorkingDir"]) == ("changed by the legacy SDK", "/tmp")
    _delete_command(client, command_id)
    assert describe()["TotalCount"] == 0


def test_legacy_sdk_invokes_describes_and_stops(client: AcsClient, agent: Agent) -> None:
    command_id = _create_command(client, "legacy-sleeper", "echo started; sleep 300")
    invoke = InvokeCommandRequest()
    invoke.set_CommandId(command_id)
    invoke.set_InstanceIds([agent.instance_id])
    invoke_id = str(call(client, invoke)["InvokeId"])
    assert invoke_id.startswith("t-")

    def status() -> str:
        return str(
            describe_task(client, invoke_id)["InvokeInstances"]["InvokeInstance"][0][
                "InvocationStatus"
            ]
        )

    poll_until(status, lambda s: s == "Running" or s in FINAL, 30)
    stop = StopInvocationRequest()
    stop.set_InvokeId(invoke_id)
    stop.set_InstanceIds([agent.instance_id])
    call(client, stop)
    assert poll_until(status, lambda s: s in FINAL, 30) == "Terminated"
    task = describe_task(client, invoke_id)
    assert (task["CommandId"], task["CommandName"], task["InvocationStatus"]) == (
        command_id,
        "legacy-sleeper",
        "Stopped",
    )
    [instance] = task["InvokeInstances"]["InvokeInstance"]
    assert instance["InstanceId"] == agent.instance_id and instance["StopTime"]
    _delete_command(client, command_id)


# --- fleet ---------------------------------------------------------------------------------------


def test_legacy_sdk_sees_the_agent(client: AcsClient, agent: Agent) -> None:
    status = DescribeCloudAssistantStatusRequest()
    status.set_InstanceIds([agent.instance_id])
    [entry] = call(client, status)["InstanceCloudAssistantStatusSet"][
        "InstanceCloudAssistantStatus"
    ]
    assert (entry["InstanceId"], entry["CloudAssistantStatus"]) == (agent.instance_id, "true")
    assert entry["CloudAssistantVersion"] and entry["LastHeartbeatTime"]
    managed = DescribeManagedInstancesRequest()
    managed.set_InstanceIds([agent.instance_id])
    [instance] = call(client, managed)["Instances"]
    assert (instance["InstanceId"], instance["InstanceName"], instance["Connected"]) == (
        agent.instance_id,
        "legacy-sdk-target",
        True,
    )


def test_legacy_sdk_activation_lifecycle(client: AcsClient) -> None:
    create = CreateActivationRequest()
    create.set_InstanceName("legacy-fleet")
    create.set_InstanceCount(5)
    create.set_TimeToLiveInHours(1)
    create.set_Tags([{"Key": "owner", "Value": "legacy"}])
    created = call(client, create)
    activation_id = created["ActivationId"]
    assert created["ActivationCode"].startswith("a-")

    def listed() -> dict[str, Any]:
        request = DescribeActivationsRequest()
        request.set_ActivationId(activation_id)
        return call(client, request)

    [found] = listed()["ActivationList"]
    assert (found["InstanceName"], found["InstanceCount"], found["Disabled"]) == (
        "legacy-fleet",
        5,
        False,
    )
    assert found["Tags"] == [{"TagKey": "owner", "TagValue": "legacy"}]
    disable = DisableActivationRequest()
    disable.set_ActivationId(activation_id)
    assert call(client, disable)["Activation"]["Disabled"] is True
    delete = DeleteActivationRequest()
    delete.set_ActivationId(activation_id)
    assert call(client, delete)["Activation"]["ActivationId"] == activation_id
    assert listed()["TotalCount"] == 0
    with pytest.raises(ServerException) as gone:
        call(client, delete)
    assert (gone.value.get_error_code(), gone.value.get_http_status()) == (
        "ActivationId.NotFound",
        404,
    )


def test_legacy_sdk_renames_tags_and_deregisters_an_instance(
    cluster: Cluster, client: AcsClient
) -> None:
    machine = cluster.register_agent("legacy-machine")
    rename = ModifyManagedInstanceRequest()
    rename.set_InstanceId(machine.instance_id)
    rename.set_InstanceName("legacy-renamed")
    assert call(client, rename)["Instance"] == {
        "InstanceId": machine.instance_id,
        "InstanceName": "legacy-renamed",
    }
    tag = TagResourcesRequest()
    tag.set_ResourceType("managedinstance")
    tag.set_ResourceIds([machine.instance_id])
    tag.set_Tags([{"Key": "env", "Value": "dev"}, {"Key": "tier", "Value": "db"}])
    call(client, tag)

    def tags() -> dict[str, str]:
        request = ListTagResourcesRequest()
        request.set_ResourceType("managedinstance")
        request.set_ResourceIds([machine.instance_id])
        items = call(client, request)["TagResources"]["TagResource"]
        return {item["TagKey"]: item["TagValue"] for item in items}

    assert tags() == {"env": "dev", "tier": "db"}
    untag = UntagResourcesRequest()
    untag.set_ResourceType("managedinstance")
    untag.set_ResourceIds([machine.instance_id])
    untag.set_All(True)
    call(client, untag)
    assert tags() == {}
    deregister = DeregisterManagedInstanceRequest()
    deregister.set_InstanceId(machine.instance_id)
    gone = call(client, deregister)["Instance"]
    assert (gone["InstanceId"], gone["InstanceName"]) == (machine.instance_id, "legacy-renamed")


def test_legacy_sdk_agent_upgrade_settings_round_trip(client: AcsClient) -> None:
    def describe() -> dict[str, Any]:
        request = DescribeCloudAssistantSettingsRequest()
        request.set_SettingTypes(["AgentUpgradeConfig"])
        return dict(call(client, request)["AgentUpgradeConfig"])

    before = describe()
    modify = ModifyCloudAssistantSettingsRequest()
    modify.set_SettingType("AgentUpgradeConfig")
    modify.set_AgentUpgradeConfig(
        {"Enabled": True, "TimeZone": "GMT+8:00", "AllowedUpgradeWindow": ["01:00-02:00"]}
    )
    call(client, modify)
    after = describe()
    assert (after["Enabled"], after["TimeZone"]) == (True, "GMT+8:00")
    assert after["AllowedUpgradeWindows"] == {"AllowedUpgradeWindow": ["01:00-02:00"]}
    windows = before["AllowedUpgradeWindows"]["AllowedUpgradeWindow"]
    restore = {k: v for k, v in before.items() if k != "AllowedUpgradeWindows"}
    modify.set_AgentUpgradeConfig({**restore, "AllowedUpgradeWindow": windows})
    call(client, modify)
    assert describe() == before


# --- files ---------------------------------------------------------------------------------------


def test_legacy_sdk_sends_a_file(client: AcsClient, agent: Agent, tmp_path: Path) -> None:
    send = SendFileRequest()
    send.set_InstanceIds([agent.instance_id])
    send.set_Name("legacy.txt")
    send.set_TargetDir(str(tmp_path))
    send.set_Content("plain text from the legacy SDK\n")
    send.set_FileOwner(pwd.getpwuid(os.getuid()).pw_name)
    send.set_Description("legacy file")
    invoke_id = str(call(client, send)["InvokeId"])
    assert invoke_id.startswith("f-")

    def task() -> dict[str, Any]:
        request = DescribeSendFileResultsRequest()
        request.set_InvokeId(invoke_id)
        [found] = call(client, request)["Invocations"]["Invocation"]
        return dict(found)

    poll_until(lambda: str(task()["InvocationStatus"]), lambda s: s in FINAL, 30)
    found = task()
    assert (found["InvocationStatus"], found["Description"], found["FileMode"]) == (
        "Success",
        "legacy file",
        "0644",
    )
    assert base64.b64decode(found["Content"]) == b"plain text from the legacy SDK\n"
    assert (tmp_path / "legacy.txt").read_text() == "plain text from the legacy SDK\n"


# --- the extensions, through CommonRequest --------------------------------------------------


def _common(client: AcsClient, action: str, **params: str) -> dict[str, Any]:
    request = CommonRequest(domain="127.0.0.1", version="2014-05-26", action_name=action)
    request.set_protocol_type("http")
    request.set_method("POST")
    for name, value in params.items():
        request.add_query_param(name, value)
    raw = client.do_action_with_exception(request)
    return dict(json.loads(raw))


def test_common_request_reaches_the_extensions(
    cluster: Cluster, client: AcsClient, agent: Agent
) -> None:
    invoke_id = cluster.run("echo partial; exit 3", agent.instance_id)
    [result] = cluster.wait_final(invoke_id)
    assert result["ErrorCode"] == "ExitCodeNonzero"
    diagnosis = _common(client, "DiagnoseInvocation", InvokeId=invoke_id)
    assert (diagnosis["InvokeId"], diagnosis["InvocationStatus"]) == (invoke_id, "Failed")
    [item] = diagnosis["Diagnoses"]["Diagnosis"]
    assert (item["InstanceId"], item["ErrorCode"], item["ExitCode"]) == (
        agent.instance_id,
        "ExitCodeNonzero",
        3,
    )
    assert item["RecommendedSolution"]
    output = _common(
        client,
        "DescribeInvocationFullOutput",
        InvokeId=invoke_id,
        InstanceId=agent.instance_id,
        ContentEncoding="PlainText",
    )
    assert (output["Output"], output["Offset"], output["NextOffset"]) == ("partial\n", 0, 8)
    assert output["Finished"] is True
    waited = _common(client, "WaitInvocationResults", InvokeId=invoke_id, WaitSeconds="0")
    assert (waited["Changed"], waited["InvocationStatus"]) == (True, "Failed")
    assert (waited["InstanceCount"], waited["FinishedCount"]) == (1, 1)

    machine = cluster.register_agent("legacy-released")
    released = _common(client, "ReleaseManagedInstance", InstanceId=machine.instance_id)
    assert released["Instance"] == {
        "InstanceId": machine.instance_id,
        "InstanceName": "legacy-released",
    }


# --- paging 120 invocations with PageNumber / PageSize -----------------------------------------

PAGED_TASKS = 120


def test_legacy_sdk_pages_120_invocations_each_once(cluster: Cluster, client: AcsClient) -> None:
    machine = cluster.register_agent("legacy-paging")  # never started: tasks end at once
    created = {cluster.run(f"echo {n}", machine.instance_id) for n in range(PAGED_TASKS)}
    assert len(created) == PAGED_TASKS
    seen: list[str] = []
    for number in range(1, PAGED_TASKS // 50 + 3):  # bounded: every page, then an empty one
        request = DescribeInvocationsRequest()
        request.set_InstanceId(machine.instance_id)
        request.set_PageNumber(number)
        request.set_PageSize(50)
        answer = call(client, request)
        assert (answer["PageNumber"], answer["PageSize"], answer["TotalCount"]) == (
            number,
            50,
            PAGED_TASKS,
        )
        page = [task["InvokeId"] for task in answer["Invocations"]["Invocation"]]
        if not page:
            break
        seen += page
    assert len(seen) == PAGED_TASKS and set(seen) == created
