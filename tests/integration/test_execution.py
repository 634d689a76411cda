"""What the agent does with a task before and around running it: built-in parameters, the
Launcher, users."""

from __future__ import annotations

import shutil

import pytest

from tests.support.cluster import Agent, Cluster


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("executor")


def test_built_in_parameters_are_resolved(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run(
        "echo {{ACS::InstanceId}} {{ ACS::InvokeId }} {{ACS::RegionId}} {{ACS::InstanceName}}",
        agent.instance_id,
        EnableParameter="true",
    )
    [result] = cluster.wait_final(invoke_id)
    assert result["Output"] == f"{agent.instance_id} {invoke_id} local executor\n"


def test_built_ins_stay_verbatim_without_enable_parameter(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run("echo '{{ACS::InstanceId}}'", agent.instance_id)
    [result] = cluster.wait_final(invoke_id)
    assert result["Output"] == "{{ACS::InstanceId}}\n"


def test_unknown_built_in_is_invalid(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run("echo {{ACS::NoSuchThing}}", agent.instance_id, EnableParameter="true")
    [result] = cluster.wait_final(invoke_id)
    assert result["InvocationStatus"] == "Invalid"
    assert result["ErrorCode"] == "InvalidSystemBuiltInParameter"
    assert "NoSuchThing" in result["ErrorInfo"]


def test_launcher_runs_the_script_file_with_its_extension(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run(
        "import sys\nprint(6 * 7, sys.argv[0].endswith('.py'))",
        agent.instance_id,
        Launcher='python3 -u {{ACS::ScriptFileName|Ext(".py")}}',
    )
    [result] = cluster.wait_final(invoke_id)
    assert result["Output"] == "42 True\n"
    assert result["Launcher"] == 'python3 -u {{ACS::ScriptFileName|Ext(".py")}}'


def test_missing_user_is_reported(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run("id", agent.instance_id, Username="no-such-user-here")
    [result] = cluster.wait_final(invoke_id)
    assert result["ErrorCode"] == "AccountNotExists"
    assert "no-such-user-here" in result["ErrorInfo"]


def test_runs_as_another_user(cluster: Cluster, agent: Agent) -> None:
    invoke_id = cluster.run("id -un; pwd", agent.instance_id, Username="nobody", WorkingDir="/tmp")
    [result] = cluster.wait_final(invoke_id)
    assert result["InvocationStatus"] == "Success", result
    assert result["Output"] == "nobody\n/tmp\n"


def test_unusable_home_directory_is_reported(cluster: Cluster, agent: Agent) -> None:
    # nobody's home is /nonexistent: with no WorkingDir there is nowhere to start.
    invoke_id = cluster.run("pwd", agent.instance_id, Username="nobody")
    [result] = cluster.wait_final(invoke_id)
    assert result["ErrorCode"] == "DefaultWorkingDirectoryNotAvailable"
    assert "/nonexistent" in result["ErrorInfo"]


@pytest.mark.parametrize("command_type", ["RunBatScript", "RunPowerShellScript"])
def test_windows_command_types_are_not_applicable_on_linux(
    cluster: Cluster, agent: Agent, command_type: str
) -> None:
    invoke_id = cluster.run("echo hi", agent.instance_id, Type=command_type)
    [result] = cluster.wait_final(invoke_id)
    if command_type == "RunPowerShellScript" and shutil.which("pwsh"):
        assert result["InvocationStatus"] == "Success"  # PowerShell is there: it runs
        return
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Invalid", "CommandNotApplicable")
    assert command_type in result["ErrorInfo"]
