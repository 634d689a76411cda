"""The production layout for real: two nodes on one PostgreSQL behind HAProxy, configured by the
repository's own ``deploy/haproxy/openassist.cfg`` (only its addresses rewritten to loopback).

Our agent and the official one, each knowing one address (the balancer's), and API clients
that know one endpoint keep working while either node is killed (-9): the balancer's health check
takes the dead node out, the agent reconnects through the balancer to the other, and every script
runs exactly once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from openassist.cli.api_client import ApiCallError, ApiClient, ApiUnreachable
from tests.support.cluster import (
    Cluster,
    free_port,
    postgres_admin_url,
    temporary_postgres_database,
    wait_until,
)
from tests.support.official_agent import BINARY as OFFICIAL_BINARY
from tests.support.official_agent import official_agent

SHIPPED = Path(__file__).parents[2] / "deploy" / "haproxy" / "openassist.cfg"

pytestmark = [
    pytest.mark.skipif(not postgres_admin_url(), reason="several nodes share a PostgreSQL"),
    pytest.mark.skipif(
        not shutil.which("haproxy"), reason="needs haproxy (scripts/system-packages)"
    ),
]


def balancer_config(nodes: list[Cluster], api_port: int, agent_port: int) -> str:
    """The shipped configuration with its binds on loopback and its server lines naming the
    test's nodes. The nodes' API is plain HTTP on loopback, so the checks drop ``check-ssl
    verify none`` as the shipped file's comment says to when ``api_tls = "off"``."""
    text = SHIPPED.read_text()
    text = text.replace("bind :8643", f"bind 127.0.0.1:{agent_port}")
    text = text.replace("bind :8640", f"bind 127.0.0.1:{api_port}")
    text = text.replace("maxconn 40000", "maxconn 1000")  # within the test process's file limit

    def servers(match: re.Match[str]) -> str:
        indent, backend_port, options = match.group(1), match.group(2), match.group(3)
        if match.group(0).lstrip().startswith("server node1"):
            lines = []
            for index, node in enumerate(nodes, start=1):
                port = node.agent_port if backend_port == "8643" else node.api_port
                checked = options.replace(" check-ssl verify none", "")
                checked = checked.replace("port 8640", f"port {node.api_port}")
                lines.append(f"{indent}server node{index} 127.0.0.1:{port}{checked}")
            return "\n".join(lines)
        return ""  # node2, node3 of the shipped file: replaced by the lines above

    pattern = re.compile(r"^(\s+)server node\d 10\.0\.0\.\d+:(\d+)(.*)$", re.MULTILINE)
    text = pattern.sub(servers, text)
    return re.sub(r"\n{3,}", "\n\n", text)


@pytest.fixture
def layout(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Cluster, Cluster, int, int, Path]]:
    with (
        temporary_postgres_database() as url,
        Cluster.start(tmp_path_factory.mktemp("balanced-a"), url) as node_a,
        node_a.another_node(tmp_path_factory.mktemp("balanced-b"), same_tls=True) as node_b,
    ):
        api_port, agent_port = free_port(), free_port()
        config = tmp_path_factory.mktemp("haproxy") / "openassist.cfg"
        config.write_text(balancer_config([node_a, node_b], api_port, agent_port))
        checked = subprocess.run(
            ["haproxy", "-c", "-f", str(config)], capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        log = (config.parent / "haproxy.log").open("wb")
        balancer = subprocess.Popen(
            ["haproxy", "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield node_a, node_b, api_port, agent_port, config.parent / "haproxy.log"
        finally:
            balancer.terminate()
            balancer.wait(10)
            log.close()


def _through(node: Cluster, api_port: int) -> ApiClient:
    return ApiClient(node.credentials._replace(endpoint=f"127.0.0.1:{api_port}"))


def _run_once(api: ApiClient, script: str, instance_id: str) -> dict[str, object]:
    """RunCommand through the balancer and wait for the final row (a node that just died may
    refuse the connection: the call is made again with the same ClientToken, so a call that did
    land is not made twice)."""
    token = uuid.uuid4().hex

    def started() -> str | None:
        try:
            answer = api.call(
                "RunCommand",
                {
                    "Type": "RunShellScript",
                    "CommandContent": script,
                    "InstanceId.1": instance_id,
                    "ClientToken": token,
                },
            )
        except (ApiCallError, ApiUnreachable, OSError):
            return None
        return str(answer["InvokeId"])

    invoke_id = wait_until(started, 60, what="RunCommand through the balancer")

    def final() -> dict[str, object] | None:
        try:
            answer = api.call(
                "DescribeInvocationResults",
                {"InvokeId": invoke_id, "ContentEncoding": "PlainText"},
            )
        except (ApiCallError, ApiUnreachable, OSError):
            return None
        [row] = answer["Invocation"]["InvocationResults"]["InvocationResult"]
        return row if row["InvocationStatus"] in ("Success", "Failed", "Error") else None

    return dict(wait_until(final, 120, what=f"{invoke_id} to finish through the balancer"))


def _kill_each_node_in_turn(
    layout: tuple[Cluster, Cluster, int, int, Path], instance_id: str, marks: Path
) -> None:
    """A run before, after node A is killed, and after node B is killed (A back): whichever
    node holds the agent's connection, one of the kills moves it."""
    node_a, node_b, api_port, _agent_port, balancer_log = layout
    api = _through(node_a, api_port)
    row = _run_once(api, f"echo first >> {marks}; echo ok", instance_id)
    assert (row["InvocationStatus"], row["Output"]) == ("Success", "ok\n"), row

    node_a.kill_server()
    row = _run_once(api, f"echo second >> {marks}", instance_id)
    assert row["InvocationStatus"] == "Success", row

    node_a.restart_server()
    wait_until(lambda: node_a.online(instance_id), 60, what="node A back")
    node_b.kill_server()
    row = _run_once(api, f"echo third >> {marks}", instance_id)
    assert row["InvocationStatus"] == "Success", row

    assert marks.read_text() == "first\nsecond\nthird\n"  # each script ran exactly once
    # The balancer's own health check (the shipped /readyz check) took each node out and back.
    seen = balancer_log.read_text()
    assert "openassist_agents/node1 is DOWN" in seen, seen
    assert "openassist_agents/node1 is UP, reason: Layer7 check passed, code: 200" in seen, seen
    assert "openassist_api/node2 is DOWN" in seen, seen


def test_our_agent_and_the_api_through_the_shipped_config_survive_the_loss_of_either_node(
    layout: tuple[Cluster, Cluster, int, int, Path], tmp_path: Path
) -> None:
    node_a, agent_port = layout[0], layout[3]
    agent = node_a.register_agent("balanced", server=f"127.0.0.1:{agent_port}")
    node_a.start_agent(agent)
    _kill_each_node_in_turn(layout, agent.instance_id, tmp_path / "runs.log")


@pytest.mark.skipif(
    not OFFICIAL_BINARY or os.geteuid() != 0, reason="needs OFFICIAL_AGENT_BINARY and root"
)
def test_the_official_agent_knowing_one_host_survives_the_loss_of_either_node(
    layout: tuple[Cluster, Cluster, int, int, Path], tmp_path: Path
) -> None:
    node_a, agent_port = layout[0], layout[3]
    with official_agent(node_a, tmp_path, server_host=f"127.0.0.1:{agent_port}") as agent:
        _kill_each_node_in_turn(layout, agent.instance_id, tmp_path / "runs.log")
