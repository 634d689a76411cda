"""The kick channel: one WebSocket per connected agent; a kick tells it to fetch its task list.

Kicks are hints: a lost kick only delays a task until the agent's next poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from openassist.protocol.agent import KICK_DEREGISTER, KICK_MESSAGE
from openassist.server.bus import Bus
from openassist.server.service.context import DEREGISTERED, kick_topic

log = logging.getLogger(__name__)


class KickHub:
    def __init__(self, bus: Bus, forget: Callable[[str], object]) -> None:
        self._bus = bus
        self._forget = forget  # drops what the gateway cached about an instance
        self._sockets: dict[str, WebSocket] = {}

    def connected(self, instance_id: str) -> bool:
        return instance_id in self._sockets

    async def hold(self, instance_id: str, socket: WebSocket) -> None:
        """Serve one agent's kick channel until it disconnects."""
        try:
            await socket.accept()
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The agent gave up while it waited (a reconnect storm): nothing to serve.
            log.debug("agent left before its kick channel opened")
            return
        peer = socket.client.host if socket.client else "?"
        log.info("agent connected from %s (kick channel open)", peer)
        previous = self._sockets.get(instance_id)
        self._sockets[instance_id] = socket
        if previous is not None:  # the agent reconnected: the old socket is dead or stale
            await _close_quietly(previous)

        async def kick(_topic: str, payload: str) -> None:
            if payload == DEREGISTERED:
                # The official agent removes its registration on this message; ours, too.
                self._forget(instance_id)
                await socket.send_text(KICK_DEREGISTER)
                await _close_quietly(socket)
                return
            await socket.send_text(KICK_MESSAGE)

        unsubscribe: Callable[[], None] = self._bus.subscribe(kick_topic(instance_id), kick)
        try:
            # The official agent fetches only when kicked: whatever was queued while its
            # channel was down is fetched now. (Inside the try: an agent gone already must not
            # stay counted as connected, nor subscribed.)
            await socket.send_text(KICK_MESSAGE)
            while True:
                await socket.receive_text()  # the agent has nothing to say; wait for the close
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            unsubscribe()
            if self._sockets.get(instance_id) is socket:
                del self._sockets[instance_id]
            log.info("agent disconnected (kick channel closed)")

    async def close(self) -> None:
        sockets, self._sockets = list(self._sockets.values()), {}
        await asyncio.gather(*(_close_quietly(s) for s in sockets))


async def _close_quietly(socket: WebSocket) -> None:
    try:
        await socket.close()
    except (RuntimeError, OSError):
        log.debug("kick socket already closed")
