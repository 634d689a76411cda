"""Reconnecting: jittered capped backoff, the kick channel's dead-peer check over real sockets,
and the outage the channel remembers while the server cannot be reached."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from openassist.agent import ws
from openassist.agent.channel import Channel, ChannelError
from openassist.agent.identity import KEY_FILE, Identity, write_private
from openassist.agent.keys import new_key, private_pem
from openassist.agent.settings import AgentSettings, backoff
from openassist.server.gateway.tls import ensure_tls

SETTINGS = AgentSettings(backoff_min_s=0.5, backoff_max_s=30.0)


def test_backoff_grows_exponentially_up_to_its_cap_with_jitter() -> None:
    for attempt in range(12):
        ceiling = min(30.0, 0.5 * 2**attempt)
        delays = [backoff(attempt, SETTINGS) for _ in range(200)]
        assert all(0.25 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # spread out, not one value for all
    assert max(backoff(10_000, SETTINGS) for _ in range(50)) <= 30.0  # no overflow either


async def _socket_pair(
    answer_pings: bool, pings: list[bytes]
) -> tuple[ws.WebSocket, asyncio.Server]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(1024):
                pings.append(data)
                if answer_pings:
                    writer.write(bytes([0x8A, 0x00]))  # an unmasked pong, as a server sends it
                    await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return ws.WebSocket(reader, writer), server


async def _silent_peer_is_given_up() -> None:
    pings: list[bytes] = []
    sock, server = await _socket_pair(False, pings)
    await asyncio.wait_for(sock.watch(0.05, 0.2), 10)  # returns: it gave up
    with pytest.raises(ws.WebSocketClosed):
        await asyncio.wait_for(sock.receive(), 10)
    assert pings  # it did ask before giving up
    await _close(server)


async def _close(server: asyncio.Server) -> None:
    server.close()
    await asyncio.wait_for(server.wait_closed(), 10)
    await asyncio.sleep(0)  # let the handlers' closing writers finish


def test_a_silent_peer_is_given_up_and_receive_ends() -> None:
    asyncio.run(_silent_peer_is_given_up())


async def _answering_peer_is_kept() -> None:
    pings: list[bytes] = []
    sock, server = await _socket_pair(True, pings)
    watcher = asyncio.create_task(sock.watch(0.05, 5.0))
    receiving = asyncio.create_task(sock.receive())  # reads the pongs, as the agent's loop does
    for _ in range(400):
        if len(pings) >= 4 or watcher.done():
            break
        await asyncio.sleep(0.05)
    assert len(pings) >= 4 and not watcher.done() and not receiving.done()
    watcher.cancel()
    receiving.cancel()
    await sock.close()
    await _close(server)


def test_a_peer_that_answers_pings_is_kept() -> None:
    asyncio.run(_answering_peer_is_kept())


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _outage_is_remembered(state: Path) -> None:
    tls = ensure_tls(state / "tls")
    write_private(state / KEY_FILE, private_pem(new_key()))
    (state / "ca.pem").write_bytes(tls.ca_cert.read_bytes())
    identity = Identity("mi-test", "machine", "127.0.0.1", _closed_port(), "", state)
    channel = Channel(identity, timeout_s=5)
    assert channel.unreachable_since is None
    with pytest.raises(ChannelError):
        await channel.heartbeat()
    first = channel.unreachable_since
    assert first is not None
    with pytest.raises(ChannelError):
        await channel.task_list("kickoff")
    assert channel.unreachable_since == first  # the outage began at the first failure
    channel.lost_since(first - 5000)  # the kick channel knew of silence earlier
    assert channel.unreachable_since == first - 5000
    await channel.close()


def test_the_channel_remembers_since_when_the_server_is_unreachable(tmp_path: Path) -> None:
    asyncio.run(_outage_is_remembered(tmp_path))
