"""ContainerId / ContainerName: scripts run inside containers of a real Docker engine (Debian's
dockerd on a private socket, an image imported from a static busybox), with output, exit code,
timeout and stop as on the host, and every container code caused for real.

Skips, with the reason, where the engine cannot start (no docker.io, no busybox, not root).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openassist.agent.containers import find_container
from openassist.agent.tasks import Unrunnable
from openassist.cli.api_client import ApiCallError
from openassist.protocol import agent as wire
from openassist.protocol.reports import ReportKind
from tests.support.cluster import Agent, Cluster, wait_until
from tests.support.docker_engine import IMAGE, DockerEngine, EngineUnavailable

SOCKET_ENV = "OPENASSIST_AGENT_DOCKER_SOCKET"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    with contextlib.ExitStack() as stack:
        try:
            running = stack.enter_context(DockerEngine.start(tmp_path_factory.mktemp("dk")))
        except EngineUnavailable as reason:
            pytest.skip(f"no Docker engine for the container tests: {reason}")
        running.run_container("web", "--label", "io.kubernetes.container.name=app")
        running.docker("create", "--network", "none", "--name", "halted", IMAGE, "true")
        for pod in ("pod-a", "pod-b"):  # two pods, each with a container named "sidecar"
            running.run_container(pod, "--label", "io.kubernetes.container.name=sidecar")
        yield running


@pytest.fixture(scope="module")
def agent(cluster: Cluster, engine: DockerEngine) -> Agent:
    return cluster.new_agent("docker-host", env={SOCKET_ENV: str(engine.socket)})


def _id(engine: DockerEngine, name: str) -> str:
    return str(engine.inspect(name)["Id"])


def _in_container(engine: DockerEngine, name: str, marker: str) -> bool:
    """Whether a process whose command line holds ``marker`` lives in the container."""
    return marker in engine.docker("exec", name, "ps", "-o", "pid,args")


def _kill_on_host(cmdline: bytes) -> None:
    """SIGKILL the host processes (a container's among them) with exactly this command line."""
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "cmdline").read_bytes() == cmdline:
                os.kill(int(entry.name), signal.SIGKILL)


def _run(cluster: Cluster, agent: Agent, script: str, **params: str) -> dict[str, Any]:
    invoke_id = cluster.run(script, agent.instance_id, **params)
    [result] = cluster.wait_final(invoke_id, timeout_s=60)
    return result


def test_script_runs_inside_the_container_with_its_output(
    cluster: Cluster, agent: Agent, engine: DockerEngine
) -> None:
    script = "echo out; echo err >&2; cat /etc/hostname; ls /bin/busybox"
    result = _run(cluster, agent, script, ContainerName="web")
    assert (result["InvocationStatus"], result["ExitCode"], result["ErrorCode"]) == (
        "Success",
        0,
        "",
    )
    hostname = _id(engine, "web")[:12]  # a container's hostname is its short id
    assert result["Output"] == f"out\nerr\n{hostname}\n/bin/busybox\n"
    assert (result["ContainerName"], result["Dropped"]) == ("web", 0)


def test_nonzero_exit_in_the_container_is_failed(cluster: Cluster, agent: Agent) -> None:
    result = _run(cluster, agent, "echo partial; exit 7", ContainerName="web")
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Failed", "ExitCodeNonzero")
    assert (result["ExitCode"], result["Output"]) == (7, "partial\n")


def test_output_past_the_quota_is_dropped_as_on_the_host(cluster: Cluster, agent: Agent) -> None:
    script = "i=0; while [ $i -lt 4000 ]; do printf '%09d\\n' $i; i=$((i+1)); done"
    result = _run(cluster, agent, script, ContainerName="web")
    expected = "".join(f"{i:09d}\n" for i in range(4000))
    assert result["Dropped"] == len(expected) - 24576
    assert result["Output"] == expected[-24576:]


def test_timeout_kills_the_processes_in_the_container(
    cluster: Cluster, agent: Agent, engine: DockerEngine
) -> None:
    script = "sleep 1001 & echo started; sleep 1001"
    result = _run(cluster, agent, script, ContainerName="web", Timeout="2")
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Timeout", "ExecutionTimeout")
    assert result["Output"] == "started\n"
    assert not _in_container(engine, "web", "sleep 1001")  # the background child too


def test_termination_mode_process_spares_background_children_in_the_container(
    cluster: Cluster, agent: Agent, engine: DockerEngine
) -> None:
    # The script's own process becomes ``sleep 1006`` (the shell runs the script as a file's
    # shell would: it does not replace itself with the last command unless told to).
    script = "sleep 1005 & exec sleep 1006"
    params = {"ContainerName": "web", "Timeout": "2", "TerminationMode": "Process"}
    result = _run(cluster, agent, script, **params)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Timeout", "ExecutionTimeout")
    try:
        assert not _in_container(engine, "web", "sleep 1006")
        assert _in_container(engine, "web", "sleep 1005")  # only the script's own process ended
    finally:
        _kill_on_host(b"sleep\x001005\x00")


def test_stop_ends_the_script_in_the_container(
    cluster: Cluster, agent: Agent, engine: DockerEngine
) -> None:
    invoke_id = cluster.run("echo started; sleep 1002", agent.instance_id, ContainerName="web")
    wait_until(lambda: _in_container(engine, "web", "sleep 1002"), 30, what="the script to start")
    wait_until(lambda: cluster.results(invoke_id)[0]["InvocationStatus"] == "Running", 30)
    cluster.call("StopInvocation", InvokeId=invoke_id, **{"InstanceId.1": agent.instance_id})
    [result] = cluster.wait_final(invoke_id, timeout_s=30)
    assert result["InvocationStatus"] == "Terminated"
    assert not _in_container(engine, "web", "sleep 1002")


def test_kubernetes_container_name_and_full_id_both_find_it(
    cluster: Cluster, agent: Agent, engine: DockerEngine
) -> None:
    web = _id(engine, "web")
    by_label = _run(cluster, agent, "cat /etc/hostname", ContainerName="app")
    assert (by_label["InvocationStatus"], by_label["Output"]) == ("Success", f"{web[:12]}\n")
    both = _run(cluster, agent, "echo ok", ContainerId=f"docker://{web}", ContainerName="web")
    assert (both["InvocationStatus"], both["Output"]) == ("Success", "ok\n")
    task = cluster.call("DescribeInvocations", InvokeId=both["InvokeId"])["Invocations"]
    assert task["Invocation"][0]["ContainerId"] == f"docker://{web}"


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ({"ContainerName": "nosuch"}, "ContainerNotFound"),
        ({"ContainerId": "f" * 64}, "ContainerNotFound"),
        ({"ContainerName": "halted"}, "ContainerStateAbnormal"),
        ({"ContainerName": "sidecar"}, "ContainerNameDuplicated"),
        ({"ContainerId": "<web>", "ContainerName": "halted"}, "ContainerNameAndIdNotMatch"),
        ({"ContainerId": "rkt://<web>"}, "UnsupportedContainerRuntime"),
    ],
)
def test_a_container_that_cannot_be_used_is_invalid_with_its_code(
    cluster: Cluster, agent: Agent, engine: DockerEngine, target: dict[str, str], code: str
) -> None:
    web = _id(engine, "web")
    params = {key: value.replace("<web>", web) for key, value in target.items()}
    result = _run(cluster, agent, "echo never", **params)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Invalid", code)
    assert result["Output"] == ""
    assert result["ErrorInfo"].startswith(f"{code}: ")


@pytest.mark.parametrize("refusing", [False, True], ids=["socket-missing", "socket-refusing"])
def test_an_unreachable_engine_is_container_connect_failed(
    cluster: Cluster, engine: DockerEngine, tmp_path: Path, refusing: bool
) -> None:
    path = tmp_path / "docker.sock"
    with contextlib.closing(socket.socket(socket.AF_UNIX)) as bound:
        if refusing:
            bound.bind(str(path))  # bound, never listening: connections are refused
        lonely = cluster.new_agent("no-docker", env={SOCKET_ENV: str(path)})
        result = _run(cluster, lonely, "echo never", ContainerName="web")
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "ContainerConnectFailed")
    assert str(path) in result["ErrorInfo"]
    assert ("did not answer" in result["ErrorInfo"]) is refusing


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"ContainerId": "docker://abc"}, "InvalidContainerId.Malformed"),
        ({"ContainerId": "g" * 64}, "InvalidContainerId.Malformed"),
        ({"ContainerName": "-web"}, "InvalidContainerName.Malformed"),
        ({"ContainerName": "a" * 256}, "InvalidContainerName.Malformed"),
        ({"ContainerName": "web;id"}, "InvalidContainerName.Malformed"),
    ],
)
def test_malformed_container_parameters_are_refused_at_the_api(
    cluster: Cluster, agent: Agent, params: dict[str, str], code: str
) -> None:
    with pytest.raises(ApiCallError) as refused:
        cluster.run("echo never", agent.instance_id, **params)
    assert (refused.value.code, refused.value.status) == (code, 400)


@pytest.mark.parametrize(
    ("container_id", "name", "code"),
    [
        ("docker://", "", "InvalidContainerId"),
        ("docker://xyz", "", "InvalidContainerId"),
        ("", "-web", "InvalidContainerName"),
        ("", "web/../x", "InvalidContainerName"),
    ],
)
def test_the_agent_checks_ids_and_names_the_server_did_not(
    engine: DockerEngine,
    monkeypatch: pytest.MonkeyPatch,
    container_id: str,
    name: str,
    code: str,
) -> None:
    """A task straight from the protocol (the server's own check left out): the agent refuses a
    malformed id or name itself, before it asks the engine anything."""
    monkeypatch.setenv(SOCKET_ENV, str(engine.socket))
    task = wire.TaskInfo(
        taskID=f"t-{secrets.token_hex(4)}", containerId=container_id, containerName=name
    )
    with pytest.raises(Unrunnable) as refused:
        asyncio.run(find_container(task))
    assert (refused.value.kind, refused.value.code) == (ReportKind.INVALID, code)


def test_cli_run_takes_a_container(cluster: Cluster, agent: Agent, engine: DockerEngine) -> None:
    args = ["run", "cat /etc/hostname", "-i", agent.instance_id, "--container-name", "web"]
    done = cluster.cli(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"\n{_id(engine, 'web')[:12]}\n" in done.stdout
    refused = cluster.cli("run", "true", "-i", agent.instance_id, "--container-id", "abc")
    assert refused.returncode == 1
    assert "InvalidContainerId.Malformed" in refused.stderr


def test_agent_killed_mid_run_ends_the_script_in_the_container_at_restart(
    cluster: Cluster, engine: DockerEngine
) -> None:
    env = {SOCKET_ENV: str(engine.socket)}
    crashy = cluster.new_agent("crashy-docker-host", env=env)
    invoke_id = cluster.run("sleep 1003 & sleep 1004", crashy.instance_id, ContainerName="web")
    wait_until(lambda: _in_container(engine, "web", "sleep 1004"), 30, what="the script to start")
    wait_until(lambda: crashy.journalled_process(invoke_id), 30, what="the exec's pid journalled")
    crashy.kill()
    assert _in_container(engine, "web", "sleep 1003")  # outlives the crashed agent...
    cluster.start_agent(crashy, env=env)
    [result] = cluster.wait_final(invoke_id)
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Error", "ClientRestarted")
    for marker in ("sleep 1003", "sleep 1004"):  # ...and ends when it comes back
        assert not _in_container(engine, "web", marker)


def test_invoke_command_runs_a_saved_command_in_the_container(
    cluster: Cluster, agent: Agent, engine: DockerEngine
) -> None:
    created = cluster.call(
        "CreateCommand",
        Name="hostname-in-container",
        Type="RunShellScript",
        CommandContent="cat /etc/hostname",
        ContentEncoding="PlainText",
    )
    invoke_id = cluster.call(
        "InvokeCommand",
        CommandId=created["CommandId"],
        ContainerName="web",
        **{"InstanceId.1": agent.instance_id},
    )["InvokeId"]
    [result] = cluster.wait_final(invoke_id)
    assert (result["InvocationStatus"], result["Output"]) == (
        "Success",
        f"{_id(engine, 'web')[:12]}\n",
    )
    assert result["ContainerName"] == "web"
