"""Agent self-upgrade: an older agent finds a newer package on the server, tells the server it
is upgrading (new tasks get ClientIsUpgrading), lets its running task finish, installs the
package and comes back as the new version; the upgrade policy can hold it back."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from openassist import __version__
from openassist.agent import start_guard, upgrade
from openassist.cli.agent_package import build_package, sign_package
from openassist.cli.api_client import ApiCallError
from openassist.server.gateway.tls import ensure_tls
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


def _other_key(tmp_path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "attacker.key"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _alter(package: Path) -> None:
    """Add a module to a signed package, leaving its signature as it was."""
    altered = package.with_suffix(".altered")
    with zipfile.ZipFile(package) as original, zipfile.ZipFile(altered, "w") as copy:
        for item in original.infolist():
            copy.writestr(item, original.read(item))
        copy.writestr("openassist/planted.py", "import os\nos.system('id > /tmp/owned')\n")
    altered.replace(package)


@pytest.mark.parametrize("forgery", ["unsigned", "another key", "altered after signing"])
def test_agent_refuses_a_package_the_servers_key_did_not_sign(
    upgrading_cluster: Cluster, tmp_path: Path, forgery: str
) -> None:
    """Whoever can write the server's package directory (but not read its CA key) cannot make
    agents run their code: the agent checks the signature with the CA it already trusts."""
    cluster = upgrading_cluster
    agent = _old_agent(cluster, tmp_path)
    packages = cluster.root / "data" / "agent-packages"
    if forgery == "unsigned":
        package = build_package(packages, key_file=tmp_path / "no-such.key")
        assert not package.with_name(package.name + ".sig").exists()
    elif forgery == "another key":
        package = build_package(packages, key_file=_other_key(tmp_path))
    else:
        package = build_package(packages)  # signed with the server's key
        _alter(package)
    expected = "is not signed" if forgery == "unsigned" else "signature is not the server's"
    wait_until(
        lambda: expected in agent.log.read_text(),
        60,
        interval_s=0.2,
        what="the agent to refuse the package",
    )
    [result] = cluster.wait_final(cluster.run("echo still-old", agent.instance_id))
    assert (result["InvocationStatus"], result["Output"]) == ("Success", "still-old\n")
    assert _version_of(cluster, agent) == f"openassist-{OLD}"
    assert (agent.state_dir / "versions" / "current").read_text().strip() == OLD
    assert not (agent.state_dir / "versions" / __version__).exists()


def test_the_package_command_signs_and_refuses_to_make_unsigned_packages(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ensure_tls(data_dir / "tls")
    out = data_dir / "agent-packages"
    command = [sys.executable, "-m", "openassist.cli.main", "agent", "package"]
    made = subprocess.run(
        [*command, "--out", str(out)], capture_output=True, text=True, timeout=120, check=False
    )
    assert made.returncode == 0, made.stderr
    package = Path(made.stdout.strip())
    signature = package.with_name(package.name + ".sig").read_text().strip()
    upgrade.verify_signature(
        data_dir / "tls" / "ca.pem", package.name, package.read_bytes(), signature
    )
    refused = subprocess.run(
        [*command, "--out", str(tmp_path / "elsewhere")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1 and "no signing key" in refused.stderr
    assert not (tmp_path / "elsewhere").exists()


def _broken_signed_package(packages: Path, version: str, key: Path, build: Path) -> None:
    """A package the server signs whose agent exits at once, as a bad release would."""
    package = build_package(build, version)  # no key there: signed below, once broken
    broken = package.with_suffix(".broken")
    with zipfile.ZipFile(package) as original, zipfile.ZipFile(broken, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "openassist/cli/main.py":
                data = b"raise SystemExit('this release cannot start')\n"
            copy.writestr(item, data)
    broken.replace(package)
    signature = sign_package(package, package.name, key)
    packages.mkdir(exist_ok=True)
    signature.replace(packages / signature.name)  # the signature first, then the package
    package.replace(packages / package.name)


def test_a_version_that_cannot_start_is_given_up_and_reported(
    upgrading_cluster: Cluster, tmp_path: Path
) -> None:
    cluster = upgrading_cluster
    agent = _old_agent(cluster, tmp_path)
    data = cluster.root / "data"
    _broken_signed_package(
        data / "agent-packages", "9.9.9", data / "tls" / "ca.key", tmp_path / "b"
    )
    restarts = 0

    def supervise() -> bool:
        """Restart the agent when it exits, as systemd's Restart=on-failure does."""
        nonlocal restarts
        assert agent.process is not None
        if agent.process.poll() is not None:
            assert agent.process.returncode != 0
            restarts += 1
            cluster.start_agent(agent, wait_online=False)
        return "agent upgrade given up" in cluster.server_log.read_text()

    wait_until(supervise, 120, interval_s=0.2, what="the agent to give the version up")
    assert restarts == start_guard.START_ATTEMPTS  # each start of 9.9.9 failed
    log = cluster.server_log.read_text()
    assert "agent 9.9.9 failed to start 3 times within 600 s; back to 0.1.0" in log
    assert start_guard.is_bad(agent.state_dir, "9.9.9")
    wait_until(lambda: _version_of(cluster, agent) == f"openassist-{OLD}", 30, what="0.1.0")
    pid = agent.process.pid if agent.process else 0
    # Update checks go on (one a second) and still offer 9.9.9: the agent never takes it again.
    for _ in range(3):
        [result] = cluster.wait_final(cluster.run("echo back", agent.instance_id))
        assert (result["InvocationStatus"], result["Output"]) == ("Success", "back\n")
    assert agent.process is not None and agent.process.poll() is None and agent.process.pid == pid
    assert (agent.state_dir / "versions" / "current").read_text().strip() == OLD
    assert log.count("agent upgrade given up") == 1  # reported once, then cleared
