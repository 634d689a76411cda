"""The agent's duties are supervised: a server answering garbage, or a journal on a full disk,
leaves the agent alive, says what is wrong, and the agent works again once the cause is gone.

The garbage comes from a TLS relay in front of the real gateway (it presents the server's own
certificate, so the agent connects to it as to the server): while broken it answers every
request with a malformed response, then it relays bytes both ways untouched. The full disk is a
1 MiB tmpfs holding the agent's state directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backend_fixture import module_cluster
from tests.support.cluster import Agent, Cluster, wait_until
from tests.support.console import signed_in, text_of
from tests.support.garbage_relay import GARBAGE

QUICK = {
    "OPENASSIST_DELIVERY_TIMEOUT_S": "20",
    "OPENASSIST_REDELIVER_AFTER_S": "1",
    "OPENASSIST_SWEEP_INTERVAL_S": "1",
}


cluster = module_cluster("supervised", QUICK)


@contextlib.contextmanager
def _garbage_relay(cluster: Cluster, state: Path) -> Iterator[int]:
    """The relay (tests/support/garbage_relay.py) in its own process, broken; yields its port."""
    tls = cluster.root / "data" / "tls"
    state.mkdir()
    (state / "broken").touch()
    relay = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.garbage_relay",
            str(state),
            str(cluster.agent_port),
            str(tls / "server.pem"),
            str(tls / "server.key"),
            str(cluster.ca_file),
        ]
    )
    try:
        wait_until((state / "port").exists, 30, what="the relay to listen")
        yield int((state / "port").read_text())
    finally:
        relay.terminate()
        relay.wait(10)


def _served(state: Path) -> dict[str, int]:
    kinds = (state / "served").read_text().split() if (state / "served").exists() else []
    return {kind: kinds.count(kind) for kind in GARBAGE}


def _point_at(agent: Agent, port: int) -> None:
    path = agent.state_dir / "identity.json"
    identity = json.loads(path.read_text())
    identity["serverPort"] = port
    path.write_text(json.dumps(identity))


def _online(cluster: Cluster, instance_id: str) -> bool:
    answer = cluster.call("DescribeCloudAssistantStatus", **{"InstanceId.1": instance_id})
    [status] = answer["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"]
    return bool(status["CloudAssistantStatus"] == "true")


def test_garbage_from_the_server_is_survived(cluster: Cluster, tmp_path: Path) -> None:
    agent = cluster.register_agent("garbled")
    state = tmp_path / "relay"
    with _garbage_relay(cluster, state) as port:
        _point_at(agent, port)
        cluster.start_agent(agent, wait_online=False, args=["--heartbeat", "1"])
        wait_until(
            lambda: min(_served(state).values()) >= 2, 60, what="every kind of garbage twice"
        )
        assert agent.process is not None and agent.process.poll() is None
        assert not _online(cluster, agent.instance_id)
        (state / "broken").unlink()  # the cause goes away
        wait_until(lambda: _online(cluster, agent.instance_id), 60, what="the agent back online")
        invoke_id = cluster.run("echo back", agent.instance_id)
        [result] = cluster.wait_final(invoke_id, timeout_s=60)
        assert (result["InvocationStatus"], result["Output"]) == ("Success", "back\n")
        agent.stop()


@contextlib.contextmanager
def _small_tmpfs(path: Path) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(directory: Path) -> Path:
    """Fill the file system up to the last byte."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_under_the_journal_is_the_agents_own_fault(
    cluster: Cluster, tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    registered = cluster.register_agent("cramped")
    with _small_tmpfs(tmp_path / "state") as state:
        shutil.copytree(registered.state_dir, state, dirs_exist_ok=True)
        agent = Agent(registered.instance_id, state, None, tmp_path / "agent.log")
        cluster.start_agent(agent, args=["--heartbeat", "1"])
        filler = _fill(state)  # the disk is full: no journal line can be written

        refused = cluster.run("echo never", agent.instance_id)
        [result] = cluster.wait_final(refused, timeout_s=60)
        # Not run unjournalled (it could run twice); the heartbeats said why.
        assert (result["InvocationStatus"], result["ErrorCode"]) == ("Aborted", "DeliveryTimeout")
        [diagnosis] = cluster.call("DiagnoseInvocation", InvokeId=refused)["Diagnoses"]["Diagnosis"]
        assert "No space left on device" in diagnosis["AgentFaults"]
        assert diagnosis["RecommendedSolution"].startswith("The agent reports a fault of its own")
        with signed_in(cluster) as console:  # the console's instance page says so too
            page = text_of(console.get(f"/console/instances/{agent.instance_id}").text)
        assert "Agent's own faults" in page and "No space left on device" in page
        assert agent.process is not None and agent.process.poll() is None

        filler.unlink()  # the cause goes away
        invoke_id = cluster.run("echo roomy", agent.instance_id)
        [result] = cluster.wait_final(invoke_id, timeout_s=60)
        assert (result["InvocationStatus"], result["Output"]) == ("Success", "roomy\n")
        agent.stop()
