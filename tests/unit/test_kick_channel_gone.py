"""An agent that goes away while its kick channel is being opened (a reconnect storm: it gave up
waiting and closed) leaves nothing behind in the hub: no socket counted as connected, no bus
subscription kicking a dead socket. The socket here stands in for Starlette's, whose accept and
send raise RuntimeError once the client is gone (seen 30 times in a 10,000-agent run)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from openassist.server.bus.memory import MemoryBus
from openassist.server.gateway.kicks import KickHub
from openassist.server.service.context import kick_topic


class GoneSocket:
    """A WebSocket whose client left: ``fail_at`` is the step that notices ("accept" or
    "send")."""

    client = None

    def __init__(self, fail_at: str) -> None:
        self.fail_at = fail_at
        self.closed = False

    async def accept(self) -> None:
        if self.fail_at == "accept":
            raise RuntimeError("Expected ASGI message 'websocket.connect', got disconnect")

    async def send_text(self, _text: str) -> None:
        raise RuntimeError("Unexpected ASGI message 'websocket.send', after sending close")

    async def receive_text(self) -> str:
        raise AssertionError("a gone socket is never read")

    async def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("fail_at", ["accept", "send"])
def test_a_channel_whose_agent_left_during_the_opening_leaves_nothing(fail_at: str) -> None:
    bus = MemoryBus()
    hub = KickHub(bus, forget=lambda _id: None)
    socket: Any = GoneSocket(fail_at)

    asyncio.run(hub.hold("i-gone", socket))

    assert not hub.connected("i-gone")
    assert kick_topic("i-gone") not in bus.topics()
