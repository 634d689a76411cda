"""Agent self-upgrade: an older agent finds a newer package on the server, tells the server it
is upgrading (new tasks get ClientIsUpgrading), lets its running task finish, installs the
package and comes back as the new version; the upgrade policy can hold it back."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from openassist import __version__
from openassist.agent import upgrade
from openassist.cli.agent_package import build_package
from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Agent, Cluster, wait_until

OLD = "0.1.0"


def _version_of(cluster: Cluster, agent: Agent) -> str:
    answer = cluster.call("DescribeManagedInstances", **{"InstanceId.1": agent.instance_id})
    return str(answer["Instances"][0]["AgentVersion"])


def _old_agent(cluster: Cluster, tmp_path: Path) -> Agent:
    """An agent that runs as version 0.1.0: its own installer puts that package in place."""
    agent = cluster.register_agent("old")
    package = build_package(tmp_path / "old-package", OLD)
    data = package.read_bytes()
    upgrade.install(agent.state_dir, package.name, data, hashlib.sha256(data).hexdigest())
    cluster.start_agent(agent)
    wait_until(lambda: _version_of(cluster, agent) == f"openassist-{OLD}", 30, what="0.1.0")
    return agent


def _run(cluster: Cluster, agent: Agent, script: str) -> dict[str, Any]:
    [result] = cluster.results(cluster.run(script, agent.instance_id))
    return result


@pytest.fixture
def upgrading_cluster(tmp_path: Path) -> Any:
    env = {"OPENASSIST_AGENT_UPDATE_CHECK_S": "1"}
    with Cluster.start(tmp_path / "cluster", env=env) as cluster:
        yield cluster


def test_agent_upgrades_after_its_running_task(upgrading_cluster: Cluster, tmp_path: Path) -> None:
    cluster = upgrading_cluster
    agent = _old_agent(cluster, tmp_path)
    release = tmp_path / "release"
    busy = cluster.run(
        f"while [ ! -e {release} ]; do sleep 0.05; done; echo finished", agent.instance_id
    )
    wait_until(lambda: cluster.results(busy)[0]["InvocationStatus"] == "Running", 30)

    build_package(cluster.root / "data" / "agent-packages")  # this installation's version

    def refused_while_upgrading() -> dict[str, Any] | None:
        result = _run(cluster, agent, "true")
        return result if result["ErrorCode"] == "ClientIsUpgrading" else None

    refused = wait_until(refused_while_upgrading, 30, what="the agent to announce its upgrade")
    assert refused["InvocationStatus"] == "Aborted"
    assert "newer version" in refused["ErrorInfo"]

    release.touch()  # the running task ends first; then the agent replaces itself
    [finished] = cluster.wait_final(busy)
    assert (finished["InvocationStatus"], finished["Output"]) == ("Success", "finished\n")
    wait_until(
        lambda: _version_of(cluster, agent) == f"openassist-{__version__}",
        60,
        what="the agent to come back as the new version",
    )
    [after] = cluster.wait_final(cluster.run("echo upgraded", agent.instance_id))
    assert (after["InvocationStatus"], after["Output"]) == ("Success", "upgraded\n")
    assert (agent.state_dir / "versions" / "current").read_text().strip() == __version__
    assert agent.process is not None and agent.process.poll() is None  # same process, re-executed


def test_upgrade_policy_holds_agents_back(upgrading_cluster: Cluster, tmp_path: Path) -> None:
    cluster = upgrading_cluster
    cluster.call(
        "ModifyCloudAssistantSettings",
        SettingType="AgentUpgradeConfig",
        AgentUpgradeConfig=json.dumps({"DisableUpgrade": True}),
    )
    described = cluster.call(
        "DescribeCloudAssistantSettings", **{"SettingType.1": "AgentUpgradeConfig"}
    )
    assert described["AgentUpgradeConfig"]["DisableUpgrade"] is True
    agent = _old_agent(cluster, tmp_path)
    build_package(cluster.root / "data" / "agent-packages")
    # Several update checks (one a second) pass: the agent stays where it is and takes tasks.
    for _ in range(3):
        [result] = cluster.wait_final(cluster.run("echo still", agent.instance_id))
        assert result["InvocationStatus"] == "Success"
    assert _version_of(cluster, agent) == f"openassist-{OLD}"
    # What 0.1.0 cannot do is refused for it, with the version that can.
    too_old = cluster.results(cluster.run("true", agent.instance_id, ContainerName="web"))[0]
    assert (too_old["InvocationStatus"], too_old["ErrorCode"]) == ("Invalid", "ClientNeedUpgrade")
    assert (
        f"openassist-{__version__}" in too_old["ErrorInfo"] and "container" in too_old["ErrorInfo"]
    )


def test_settings_refusals(upgrading_cluster: Cluster) -> None:
    cluster = upgrading_cluster
    for params, code in (
        (
            {"SettingType": "InvocationDelivery", "AgentUpgradeConfig": "{}"},
            "InvalidSettingType.NotSupported",
        ),
        (
            {
                "SettingType": "AgentUpgradeConfig",
                "AgentUpgradeConfig": '{"AllowedUpgradeWindow": ["2:00-3:00"]}',
            },
            "InvalidParameter.AgentUpgradeConfig",
        ),
        (
            {
                "SettingType": "AgentUpgradeConfig",
                "AgentUpgradeConfig": '{"TimeZone": "Mars/Olympus"}',
            },
            "InvalidParameter.AgentUpgradeConfig",
        ),
    ):
        with pytest.raises(ApiCallError) as refused:
            cluster.call("ModifyCloudAssistantSettings", **params)
        assert (refused.value.status, refused.value.code) == (400, code)
