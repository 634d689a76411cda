"""The agent port's TLS handshakes, paced (issue 20, listen/pacing.py): after a restart every agent
reconnects at once; worked on all together, every handshake finished late, past the agents'
deadline, and was paid for again when they came back. Beyond ``agent_handshakes_at_once`` a
connection's ClientHello waits, with no TLS work done for it, until a place frees; one that waited
longer than ``agent_handshake_wait_s`` is closed unanswered, and its agent's next attempt is served.

Real TLS clients on loopback, driven step by step (a memory BIO) so that the test decides when
each handshake sends its ClientHello and its Finished; the server's gate read from /metrics.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from pathlib import Path

import httpx

from openassist.protocol.agent import CONNECTION_DETECT
from tests.support.cluster import Cluster, wait_until

AT_ONCE = 4


class SteppedTls:
    """A TLS client whose handshake moves only when told: ``hello`` sends the ClientHello,
    ``finish`` completes the handshake with what the server sent."""

    def __init__(self, port: int, context: ssl.SSLContext) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=30)
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out, server_hostname="127.0.0.1")

    def hello(self) -> None:
        self._step()

    def answered(self) -> bool:
        """Whether the server has sent anything yet (now, without waiting)."""
        return bool(select.select([self.socket], [], [], 0)[0])

    def _step(self) -> bool:
        """One handshake step; True when it is done."""
        try:
            self._tls.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        self.socket.sendall(self._out.read())
        return done

    def finish(self) -> None:
        while not self._step():
            data = self.socket.recv(65536)
            if not data:
                raise ConnectionResetError("closed by the server during the handshake")
            self._in.write(data)

    def request(self) -> bytes:
        self._tls.write(f"GET {CONNECTION_DETECT} HTTP/1.1\r\nHost: agents\r\n\r\n".encode())
        self.socket.sendall(self._out.read())
        answer = b""
        while not answer.endswith(b"\r\n\r\nok"):
            data = self.socket.recv(65536)
            if not data:
                break
            self._in.write(data)
            try:
                while chunk := self._tls.read(65536):  # every record that is complete
                    answer += chunk
            except ssl.SSLWantReadError:
                continue
        return answer

    def closed_unanswered(self) -> bool:
        """The server closed the connection without sending a byte."""
        try:
            return self.socket.recv(65536) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.socket.close()


def _gate(cluster: Cluster) -> dict[str, float]:
    text = httpx.get(f"http://{cluster.endpoint}/metrics", timeout=30).text
    values = {}
    for name in ("waiting", "waited_total", "refused_total"):
        prefix = f"openassist_agent_handshakes_{name} "
        values[name] = next(
            (float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix)),
            -1.0,
        )
    return values


def test_handshakes_beyond_the_cap_wait_with_no_tls_work_then_are_served(tmp_path: Path) -> None:
    env = {
        "OPENASSIST_AGENT_HANDSHAKES_AT_ONCE": str(AT_ONCE),
        "OPENASSIST_AGENT_HANDSHAKE_WAIT_S": "120",
        "OPENASSIST_HEAD_TIMEOUT_S": "120",
    }
    with Cluster.start(tmp_path / "cluster", env=env) as cluster:
        context = ssl.create_default_context(cafile=str(cluster.ca_file))
        clients = [SteppedTls(cluster.agent_port, context) for _ in range(3 * AT_ONCE)]
        try:
            for client in clients:  # every ClientHello at once
                client.hello()
            excess = len(clients) - AT_ONCE
            wait_until(lambda: _gate(cluster)["waiting"] == excess, 30, 0.1, "the excess waiting")
            # The first ones answered (their ServerHello); the rest got nothing: the server
            # holds them unread, with no TLS work done, and says so.
            wait_until(lambda: all(c.answered() for c in clients[:AT_ONCE]), 30)
            assert [c.answered() for c in clients[AT_ONCE:]] == [False] * excess
            # Each handshake that ends gives its place to the next in line.
            for client in clients:
                client.finish()
                assert client.request().startswith(b"HTTP/1.1 200")
            assert _gate(cluster) == {"waiting": 0, "waited_total": excess, "refused_total": 0}
        finally:
            for client in clients:
                client.close()


def test_a_connection_that_waits_too_long_is_closed_unanswered_and_served_later(
    tmp_path: Path,
) -> None:
    wait_s = 1
    env = {
        "OPENASSIST_AGENT_HANDSHAKES_AT_ONCE": str(AT_ONCE),
        "OPENASSIST_AGENT_HANDSHAKE_WAIT_S": str(wait_s),
        "OPENASSIST_HEAD_TIMEOUT_S": "120",
    }
    with Cluster.start(tmp_path / "cluster", env=env) as cluster:
        context = ssl.create_default_context(cafile=str(cluster.ca_file))
        stalled = [SteppedTls(cluster.agent_port, context) for _ in range(AT_ONCE)]
        late = SteppedTls(cluster.agent_port, context)
        clients = [*stalled, late]
        try:
            for client in clients:
                client.hello()
            wait_until(lambda: _gate(cluster)["waiting"] == 1, 30, 0.1, "one waiting")
            time.sleep(wait_s + 0.5)  # at least its wait allowance has passed (a lower bound)
            stalled[0].close()  # a place frees: the one waiting is past its allowance
            assert late.closed_unanswered()  # closed before any TLS work
            assert _gate(cluster)["refused_total"] == 1
            # Its agent's next attempt finds a place.
            again = SteppedTls(cluster.agent_port, context)
            clients.append(again)
            again.hello()
            again.finish()
            assert again.request().startswith(b"HTTP/1.1 200")
        finally:
            for client in clients:
                client.close()
