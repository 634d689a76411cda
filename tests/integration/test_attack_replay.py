"""Attack: a signed request seen once (on the wire, in a proxy's log) is sent again after the
server restarted (issue 13.6).

The nonces of API requests and the request ids of agent requests used to be remembered in the
server's memory only, so a restart forgot them and a captured request was accepted again for as
long as its timestamp was (15 minutes): a captured RunCommand ran its script once more. The
requests here are the official SDK's own (v3 and v1 signatures), captured by a recording relay,
and a real agent identity's signed request; the server is killed and started again between.
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi import utils_models as open_api_models

from openassist.agent import identity
from openassist.agent.signing import RequestSigner
from openassist.protocol import agent as wire
from tests.support.cluster import Agent, Cluster, _start_server, _stop, free_port
from tests.support.recorder import Recorder, recording, replay


@pytest.fixture(autouse=True)
def without_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def relay(cluster: Cluster) -> Iterator[Recorder]:
    with recording(cluster.api_port) as recorder:
        yield recorder


def _sdk(cluster: Cluster, port: int, algorithm: str | None) -> Client:
    return Client(
        open_api_models.Config(
            access_key_id=cluster.credentials.access_key_id,
            access_key_secret=cluster.credentials.access_key_secret,
            endpoint=f"127.0.0.1:{port}",
            protocol="http",
            region_id="local",
            signature_algorithm=algorithm,
            connect_timeout=5000,
            read_timeout=15000,
        )
    )


def _restart(cluster: Cluster) -> None:
    cluster.kill_server()
    cluster.restart_server()


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["acs3-v3", "hmac-sha1-v1"])
def test_a_captured_api_request_is_refused_after_a_restart(
    cluster: Cluster, relay: Recorder, algorithm: str | None
) -> None:
    target = cluster.register_agent(f"replayed-{algorithm or 'v3'}")
    request = ecs.RunCommandRequest(
        region_id="local",
        type="RunShellScript",
        command_content="echo replayed",
        instance_id=[target.instance_id],
    )
    invoke_id = _sdk(cluster, relay.port, algorithm).run_command(request).body.invoke_id
    captured = bytes(relay.sent[-1])
    assert b"RunCommand" in captured

    _restart(cluster)
    status, answer = replay(cluster.api_port, captured)

    assert (status, answer.get("Code")) == (400, "SignatureNonceUsed"), answer
    tasks = cluster.call("DescribeInvocations", InstanceId=target.instance_id)
    assert [task["InvokeId"] for task in tasks["Invocations"]["Invocation"]] == [invoke_id]


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["acs3-v3", "hmac-sha1-v1"])
def test_a_captured_read_is_refused_although_it_runs_beside_its_mark(
    cluster: Cluster, relay: Recorder, algorithm: str | None
) -> None:
    """A read is looked up while its nonce is being marked (issue 20); a replay, then and
    after a restart, is still refused as such, with no answer of the read in it."""
    target = cluster.register_agent(f"read-replayed-{algorithm or 'v3'}")
    request = ecs.DescribeInvocationsRequest(region_id="local", instance_id=target.instance_id)
    _sdk(cluster, relay.port, algorithm).describe_invocations(request)
    captured = bytes(relay.sent[-1])
    assert b"DescribeInvocations" in captured

    for restart in (False, True):
        if restart:
            _restart(cluster)
        status, answer = replay(cluster.api_port, captured)
        assert (status, answer.get("Code")) == (400, "SignatureNonceUsed"), answer
        assert "Invocations" not in answer


def _agent_call(cluster: Cluster, headers: dict[str, str]) -> tuple[int, str]:
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    request = urllib.request.Request(
        f"https://127.0.0.1:{cluster.agent_port}{wire.HEARTBEAT}", headers=headers
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_captured_agent_request_is_refused_after_a_restart(cluster: Cluster) -> None:
    agent: Agent = cluster.register_agent("replayed-agent")
    headers = RequestSigner(identity.load(agent.state_dir)).headers()
    assert _agent_call(cluster, headers)[0] == 200

    _restart(cluster)
    status, answer = _agent_call(cluster, headers)

    assert status == 401, answer
    assert "already used" in answer
    fresh = RequestSigner(identity.load(agent.state_dir)).headers()
    assert _agent_call(cluster, fresh)[0] == 200


@pytest.fixture
def node_b(cluster: Cluster, tmp_path: Path) -> Iterator[Cluster]:
    """A second server on the same PostgreSQL database (its own data directory, ports and TLS;
    the first node's key file, so it opens the same sealed access-key secrets)."""
    if not cluster.database_url:
        pytest.skip("several nodes share a PostgreSQL database")
    env = {"OPENASSIST_PARAMETER_KEY_FILE": str(cluster.root / "data" / "parameter-store.key")}
    api_port, agent_port = free_port(), free_port()
    process = _start_server(tmp_path, api_port, agent_port, cluster.database_url, env)
    node = Cluster(tmp_path, api_port, agent_port, process, cluster.credentials)
    try:
        yield node
    finally:
        _stop(process)


def test_a_request_accepted_by_one_node_is_refused_by_another(
    cluster: Cluster, relay: Recorder, node_b: Cluster
) -> None:
    target = cluster.register_agent("replayed-across-nodes")
    request = ecs.RunCommandRequest(
        region_id="local",
        type="RunShellScript",
        command_content="echo once",
        instance_id=[target.instance_id],
    )
    _sdk(cluster, relay.port, None).run_command(request)
    status, answer = replay(node_b.api_port, bytes(relay.sent[-1]))
    assert (status, answer.get("Code")) == (400, "SignatureNonceUsed"), answer

    headers = RequestSigner(identity.load(target.state_dir)).headers()
    assert _agent_call(cluster, headers)[0] == 200
    status, text = _agent_call(node_b, headers)
    assert status == 401 and "already used" in text, text
