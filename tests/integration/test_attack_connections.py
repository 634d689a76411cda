"""Attack: anonymous clients hold connections open until the server runs out of descriptors
(issue 13.5).

1,100 connections that never finished their request heads blocked both listeners at a 1024
file-descriptor limit: nothing ever closed them. Now each listener refuses connections above
its limit at once, and closes a connection whose head (or body) does not arrive in time. The
clients here are real sockets on loopback; limits are lowered so that the test stays small.
"""

from __future__ import annotations

import os
import socket
import ssl
import time
from collections.abc import Iterator

import pytest

from openassist.server.settings import load_server_settings
from tests.support.cluster import Cluster, wait_until

LIMIT = 40
HEAD_TIMEOUT_S = 2
ENV = {
    "OPENASSIST_API_MAX_CONNECTIONS": str(LIMIT),
    "OPENASSIST_AGENT_MAX_CONNECTIONS": str(LIMIT),
    "OPENASSIST_HEAD_TIMEOUT_S": str(HEAD_TIMEOUT_S),
    "OPENASSIST_READ_TIMEOUT_S": "2",
    "OPENASSIST_MAX_HEAD_BYTES": "8192",
}
WAIT_S = 30  # far beyond every timeout above: a connection still open then is kept for ever


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with Cluster.start(tmp_path_factory.mktemp("guarded"), env=ENV) as running:
        yield running


def _server_sockets(cluster: Cluster) -> int:
    fds = f"/proc/{cluster.process.pid}/fd"
    return sum(os.readlink(f"{fds}/{fd}").startswith("socket:") for fd in os.listdir(fds))


def _answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (at most WAIT_S)."""
    connection.settimeout(WAIT_S)
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except TimeoutError:
        raise AssertionError(f"the server kept the connection open for {WAIT_S} s") from None
    except ConnectionResetError:
        pass
    return received


def _tls(cluster: Cluster, plain: socket.socket) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    return context.wrap_socket(plain, server_hostname="127.0.0.1")


def test_half_open_connections_are_bounded_and_closed(guarded: Cluster) -> None:
    before = _server_sockets(guarded)
    api = [socket.create_connection(("127.0.0.1", guarded.api_port)) for _ in range(LIMIT + 20)]
    # On the TLS port, connections that never even start their handshake.
    agents = [
        socket.create_connection(("127.0.0.1", guarded.agent_port)) for _ in range(LIMIT + 20)
    ]
    for half_open in api:
        half_open.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends its head
    try:
        # Above the limit: refused at once; within it: closed when the head is late.
        answers = [_answer(connection) for connection in api]
        assert sum(b" 503 " in answer.split(b"\r\n")[0] for answer in answers) >= 20
        assert sum(b" 408 " in answer.split(b"\r\n")[0] for answer in answers) >= LIMIT
        # Nothing can be said before a handshake: closed, at once or when the handshake is late.
        assert [_answer(connection) for connection in agents] == [b""] * len(agents)
    finally:
        for connection in api + agents:
            connection.close()
    wait_until(lambda: _server_sockets(guarded) <= before + 4, WAIT_S, what="sockets released")
    # Both listeners still serve.
    assert guarded.call("DescribeInvocations")["TotalCount"] >= 0
    with _tls(guarded, socket.create_connection(("127.0.0.1", guarded.agent_port))) as probe:
        probe.sendall(b"GET /luban/api/connection_detect HTTP/1.1\r\nHost: x\r\n\r\n")
        assert probe.recv(65536).startswith(b"HTTP/1.1 200")


def test_a_head_sent_a_byte_at_a_time_is_cut_off(guarded: Cluster) -> None:
    with socket.create_connection(("127.0.0.1", guarded.api_port)) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\n")
        deadline = time.monotonic() + WAIT_S
        try:
            while time.monotonic() < deadline:
                slow.sendall(b"X")  # a header that never ends, one byte every 0.2 s
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        else:
            raise AssertionError(f"the server still read the head after {WAIT_S} s")


def test_an_oversized_head_is_refused(guarded: Cluster) -> None:
    with socket.create_connection(("127.0.0.1", guarded.api_port)) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 100_000 + b"\r\n")
        assert _answer(client).startswith(b"HTTP/1.1 431 ")


def test_a_stalled_body_is_cut_off(guarded: Cluster) -> None:
    with socket.create_connection(("127.0.0.1", guarded.api_port)) as client:
        client.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 100000\r\n\r\nAction=Describe"
        )
        _answer(client)  # closed, whatever was said
    assert "Traceback" not in guarded.server_log.read_text()


def test_the_agent_gateway_listens_on_loopback_by_default() -> None:
    assert load_server_settings({}).agent_host == "127.0.0.1"
