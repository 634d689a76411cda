"""The official Cloud Assistant agent (aliyun_assist_client, built unmodified outside this
repository) installed privately for a test: ``OFFICIAL_AGENT_BINARY`` names the built
``aliyun-service`` binary (docs/agent-protocol.md §10 says how to build it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.cluster import Cluster, wait_until

BINARY = os.environ.get("OFFICIAL_AGENT_BINARY", "")
VERSION = "2.2.3.578"


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


def online(cluster: Cluster, instance_id: str) -> bool:
    answer = cluster.call("DescribeCloudAssistantStatus", **{"InstanceId.1": instance_id})
    [status] = answer["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"]
    return bool(status["CloudAssistantStatus"] == "true")


@contextmanager
def official_agent(cluster: Cluster, home: Path, server_host: str = "") -> Iterator[OfficialAgent]:
    """Register the official agent with ``cluster`` through ``server_host`` (default: the
    cluster's gateway), start it in the foreground and wait until it is online; kill it after."""
    install = home / "aliyun-assist"
    (install / VERSION).mkdir(parents=True)
    shutil.copy2(BINARY, install / VERSION / "aliyun-service")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ALIYUN_ASSIST_SERVER_HOST": server_host or f"127.0.0.1:{cluster.agent_port}",
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
    try:
        wait_until(lambda: online(cluster, agent.instance_id), 60, what="the official agent online")
        yield agent
    finally:
        if agent.process is not None and agent.process.poll() is None:
            os.killpg(agent.process.pid, signal.SIGKILL)
            agent.process.wait(10)
