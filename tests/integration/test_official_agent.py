"""The official Cloud Assistant agent itself (aliyun_assist_client, built unmodified outside
this repository) against OpenAssist: the cases of issue 14 end to end.

Set ``OFFICIAL_AGENT_BINARY`` to the built ``aliyun-service`` binary (docs/agent-protocol.md
§10 says how to build it; it never enters the repository); without it these tests are skipped.
The agent runs as root in the foreground (``--common``) from a private install directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKENDS
from tests.support.cluster import Cluster, backend_cluster, wait_until

BINARY = os.environ.get("OFFICIAL_AGENT_BINARY", "")
VERSION = "2.2.3.578"

pytestmark = pytest.mark.skipif(
    not BINARY or os.geteuid() != 0, reason="needs OFFICIAL_AGENT_BINARY and root"
)


@pytest.fixture(scope="module", params=BACKENDS)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    fast = {"OPENASSIST_MIN_CRON_INTERVAL_S": "1", "OPENASSIST_MIN_RATE_INTERVAL_S": "1"}
    with backend_cluster(request.param, tmp_path_factory.mktemp("official"), fast) as running:
        yield running


@dataclass
class OfficialAgent:
    install: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def binary(self) -> Path:
        return self.install / VERSION / "aliyun-service"

    @property
    def instance_id(self) -> str:
        return (self.install / "hybrid" / "instance-id").read_text()

    def start(self) -> None:
        log = (self.install / "agent.out").open("ab")
        self.process = subprocess.Popen(
            [str(self.binary), "--common"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        log.close()

    def kill(self) -> None:
        """SIGKILL the agent alone (its scripts live on, as after a crash)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)


def _online(cluster: Cluster, instance_id: str) -> bool:
    answer = cluster.call("DescribeCloudAssistantStatus", **{"InstanceId.1": instance_id})
    [status] = answer["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"]
    return bool(status["CloudAssistantStatus"] == "true")


@pytest.fixture
def official(cluster: Cluster, tmp_path: Path) -> Iterator[OfficialAgent]:
    install = tmp_path / "aliyun-assist"
    (install / VERSION).mkdir(parents=True)
    shutil.copy2(BINARY, install / VERSION / "aliyun-service")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ALIYUN_ASSIST_SERVER_HOST": f"127.0.0.1:{cluster.agent_port}",
        "ALIYUN_ASSIST_CERT_PATH": str(cluster.ca_file),
    }
    agent = OfficialAgent(install, env)
    activation = cluster.call("CreateActivation", InstanceCount="1")
    registered = subprocess.run(
        [
            str(agent.binary),
            "--register",
            "--RegionId",
            "local",
            "--ActivationCode",
            activation["ActivationCode"],
            "--ActivationId",
            activation["ActivationId"],
        ],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert (install / "hybrid" / "instance-id").exists(), registered.stdout + registered.stderr
    agent.start()
    wait_until(lambda: _online(cluster, agent.instance_id), 60, what="the official agent online")
    yield agent
    if agent.process is not None and agent.process.poll() is None:
        os.killpg(agent.process.pid, signal.SIGKILL)
        agent.process.wait(10)


def _history(cluster: Cluster, invoke_id: str) -> list[dict[str, Any]]:
    answer = cluster.call(
        "DescribeInvocationResults",
        InvokeId=invoke_id,
        IncludeHistory="true",
        ContentEncoding="PlainText",
        MaxResults="50",
    )
    return list(answer["Invocation"]["InvocationResults"]["InvocationResult"])


def test_a_missing_user_is_account_not_exists(cluster: Cluster, official: OfficialAgent) -> None:
    invoke_id = cluster.run("id", official.instance_id, Username="no-such-user-4242")
    [result] = cluster.wait_final(invoke_id, timeout_s=60)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Invalid", "AccountNotExists")
    assert "UserInvalid_no-such-user-4242" in result["ErrorInfo"]


def test_a_restart_ends_the_running_task_at_once(
    cluster: Cluster, official: OfficialAgent, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    invoke_id = cluster.run(f"touch {marker}; sleep 300", official.instance_id, Timeout="600")
    wait_until(marker.exists, 60, what="the script to start")
    wait_until(lambda: cluster.results(invoke_id)[0]["InvocationStatus"] == "Running", 30)
    official.kill()
    official.start()  # its first fetch says reason=startup
    [result] = cluster.wait_final(invoke_id, timeout_s=60)  # not Timeout + 60 s
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "ClientRestarted")


def test_stopping_a_periodic_task_keeps_repeats_equal_to_the_history(
    cluster: Cluster, official: OfficialAgent
) -> None:
    invoke_id = cluster.run(
        "echo tick",
        official.instance_id,
        RepeatMode="Period",
        Frequency="0/2 * * * * ?",
        Timeout="1",
    )
    wait_until(lambda: len(_history(cluster, invoke_id)) >= 3, 60, what="three runs")
    cluster.call("StopInvocation", InvokeId=invoke_id)
    [result] = cluster.wait_final(invoke_id, timeout_s=60)
    assert result["Repeats"] == len(_history(cluster, invoke_id))
