"""The command library and ClientToken idempotency, over the real API."""

from __future__ import annotations

import base64

import pytest

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Agent, Cluster


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("library")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _refused(cluster: Cluster, action: str, **params: str) -> ApiCallError:
    with pytest.raises(ApiCallError) as error:
        cluster.call(action, **params)
    return error.value


def test_create_describe_invoke_modify_delete(cluster: Cluster, agent: Agent) -> None:
    created = cluster.call(
        "CreateCommand",
        Name="disk-report",
        Type="RunShellScript",
        CommandContent=_b64("echo disk {{ mount }}"),
        EnableParameter="true",
        Timeout="30",
        **{"Tag.1.Key": "team", "Tag.1.Value": "ops"},
    )
    command_id = created["CommandId"]
    listed = cluster.call("DescribeCommands", Name="disk-*")["Commands"]["Command"]
    [command] = [c for c in listed if c["CommandId"] == command_id]
    assert base64.b64decode(command["CommandContent"]).decode() == "echo disk {{ mount }}"
    assert command["ParameterNames"]["ParameterName"] == ["mount"]
    assert command["Tags"]["Tag"] == [{"TagKey": "team", "TagValue": "ops"}]
    assert cluster.call("DescribeCommands", **{"Tag.1.Key": "team"})["TotalCount"] >= 1

    invoke_id = cluster.call(
        "InvokeCommand",
        CommandId=command_id,
        Parameters='{"mount": "/"}',
        **{"InstanceId.1": agent.instance_id},
    )["InvokeId"]
    [result] = cluster.wait_final(invoke_id)
    assert result["CommandId"] == command_id
    assert result["Output"] == "disk /\n"
    task = cluster.call("DescribeInvocations", InvokeId=invoke_id)["Invocations"]["Invocation"][0]
    assert task["Timeout"] == 30  # the command's own timeout when InvokeCommand gives none

    cluster.call("ModifyCommand", CommandId=command_id, Name="disk-usage", Timeout="45")
    [command] = cluster.call("DescribeCommands", CommandId=command_id)["Commands"]["Command"]
    assert (command["Name"], command["Timeout"], command["InvokeTimes"]) == ("disk-usage", 45, 1)

    cluster.call("DeleteCommand", CommandId=command_id)
    assert cluster.call("DescribeCommands", CommandId=command_id)["TotalCount"] == 0
    error = _refused(
        cluster, "InvokeCommand", CommandId=command_id, **{"InstanceId.1": agent.instance_id}
    )
    assert (error.status, error.code) == (404, "InvalidCmdId.NotFound")


def test_run_command_keeps_its_command_only_when_asked(cluster: Cluster, agent: Agent) -> None:
    kept = cluster.call(
        "RunCommand",
        Type="RunShellScript",
        CommandContent="true",
        KeepCommand="true",
        **{"InstanceId.1": agent.instance_id},
    )
    transient = cluster.call(
        "RunCommand",
        Type="RunShellScript",
        CommandContent="true",
        **{"InstanceId.1": agent.instance_id},
    )
    assert cluster.call("DescribeCommands", CommandId=kept["CommandId"])["TotalCount"] == 1
    assert cluster.call("DescribeCommands", CommandId=transient["CommandId"])["TotalCount"] == 0


def test_create_command_refuses_bad_input(cluster: Cluster) -> None:
    cases = [
        ({"Type": "RunShellScript", "CommandContent": _b64("x")}, "MissingParameter.Name"),
        (
            {"Name": "n", "Type": "RunShellScript", "CommandContent": "not base64!"},
            "CmdContent.DecodeError",
        ),
        (
            {
                "Name": "n",
                "Type": "RunShellScript",
                "CommandContent": _b64("{{bad name}}"),
                "EnableParameter": "true",
            },
            "CmdParam.InvalidParamName",
        ),
        (
            {"Name": "n" * 129, "Type": "RunShellScript", "CommandContent": _b64("x")},
            "CmdName.ExceedLimit",
        ),
        (
            {
                "Name": "n",
                "Type": "RunShellScript",
                "CommandContent": _b64("x"),
                "Tag.1.Key": "acs:reserved",
            },
            "InvalidTagKey.Malformed",
        ),
    ]
    for params, code in cases:
        assert _refused(cluster, "CreateCommand", **params).code == code


def test_client_token_returns_the_first_result(cluster: Cluster, agent: Agent) -> None:
    params = {
        "Type": "RunShellScript",
        "CommandContent": "echo once",
        "InstanceId.1": agent.instance_id,
        "ClientToken": "token-123",
    }
    first = cluster.call("RunCommand", **params)
    again = cluster.call("RunCommand", **params)
    assert again["InvokeId"] == first["InvokeId"]
    assert again["RequestId"] != first["RequestId"]
    changed = _refused(cluster, "RunCommand", **{**params, "CommandContent": "echo twice"})
    assert changed.code == "IdempotentParameterMismatch"
    malformed = _refused(cluster, "RunCommand", **{**params, "ClientToken": "x" * 65})
    assert malformed.code == "InvalidClientToken.Malformed"
    tasks = cluster.call("DescribeInvocations", InstanceId=agent.instance_id, MaxResults="50")
    ids = [t["InvokeId"] for t in tasks["Invocations"]["Invocation"]]
    assert ids.count(first["InvokeId"]) == 1


def test_invocations_are_tagged_and_filtered(cluster: Cluster, agent: Agent) -> None:
    tagged = cluster.call(
        "RunCommand",
        Type="RunShellScript",
        CommandContent="true",
        Name="tagged-run",
        **{"InstanceId.1": agent.instance_id, "Tag.1.Key": "batch", "Tag.1.Value": "b7"},
    )["InvokeId"]
    cluster.run("true", agent.instance_id)
    by_tag = cluster.call("DescribeInvocations", **{"Tag.1.Key": "batch", "Tag.1.Value": "b7"})
    [task] = by_tag["Invocations"]["Invocation"]
    assert task["InvokeId"] == tagged
    assert task["Tags"]["Tag"] == [{"TagKey": "batch", "TagValue": "b7"}]
    by_name = cluster.call("DescribeInvocations", CommandName="tagged-run")
    assert [t["InvokeId"] for t in by_name["Invocations"]["Invocation"]] == [tagged]


def test_custom_parameters_are_filled_in(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.call(
        "RunCommand",
        Type="RunShellScript",
        EnableParameter="True",
        CommandContent="echo '{{greeting}}, {{ Name }}!'",
        Parameters='{"greeting": "hello", "name": "world"}',
        **{"InstanceId.1": agent.instance_id},
    )["InvokeId"]
    [result] = cluster.wait_final(invoke_id)
    assert result["Output"] == "hello, world!\n"
    task = cluster.call("DescribeInvocations", InvokeId=invoke_id)["Invocations"]["Invocation"][0]
    assert task["Parameters"] == '{"greeting": "hello", "name": "world"}'


def test_parameter_mistakes_are_refused(cluster: Cluster, agent: Agent) -> None:
    base = {
        "Type": "RunShellScript",
        "CommandContent": "echo {{a}}",
        "InstanceId.1": agent.instance_id,
    }
    cases = [
        ({"Parameters": '{"a": "1"}'}, "Parameter.Disabled"),
        ({"EnableParameter": "true", "Parameters": '{"a": "1", "b": "2"}'}, "Parameter.NotMatched"),
        ({"EnableParameter": "true", "Parameters": "{}"}, "Parameter.MissingValue"),
        ({"EnableParameter": "true", "Parameters": "[1]"}, "InvalidParameter.Parameters"),
        ({"EnableParameter": "true", "Parameters": '{"a": 1}'}, "ParameterType.NotSupported"),
    ]
    for extra, code in cases:
        assert _refused(cluster, "RunCommand", **base, **extra).code == code
