"""The kick channel as the agent holds it: open it, answer kicks, notice a dead peer, reconnect.

A cut network leaves the TCP connection open and silent on both ends, so the channel is pinged
and given up when nothing comes back. Reconnects wait an exponential backoff with jitter (also
after a channel that closed soon after opening), so a fleet returning at once does not stampede.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from openassist.agent import clock, ws
from openassist.agent.channel import Channel, ChannelError
from openassist.agent.settings import AgentSettings, backoff, pause_either, poll_period
from openassist.protocol import agent as wire

log = logging.getLogger("openassist.agent")


class KickChannel:
    """Sets ``kicked`` when the task list should be fetched, ``connected`` on every
    connection, ``reconnected`` on every one after the first, and ``deregistered`` when the
    server removed this instance (``run`` then returns). The server kicks every channel as it
    opens (what was queued meanwhile), so a reconnection fetches once, on that kick."""

    def __init__(self, channel: Channel, settings: AgentSettings) -> None:
        self._channel = channel
        self._settings = settings
        self.kicked = asyncio.Event()
        self.connected = asyncio.Event()
        self.reconnected = asyncio.Event()
        self.connections = 0
        self.deregistered = asyncio.Event()
        self.opened_at_ms = 0  # Unix ms of the last (re)connection
        self.on_open: Callable[[], None] = lambda: None  # told each time a channel opens
        self.up = False  # a channel is open now
        self._changed = asyncio.Event()  # set when ``up`` changes

    def _set_up(self, up: bool) -> None:
        self.up = up
        self._changed.set()

    async def until_fetch(self, since: float, retry_s: float | None = None) -> None:
        """Return when the task list is to be fetched: at a kick, or when the poll falls due,
        its period after ``since`` (``time.monotonic()`` of the last fetch), or ``retry_s``
        after it when given (a failed fetch). The period is longer while the channel is up
        (``poll_period``), so the channel going down brings the poll forward."""
        while not self.kicked.is_set():
            period = poll_period(self._settings, self.up) if retry_s is None else retry_s
            left = since + period - time.monotonic()
            if left <= 0:
                return
            self._changed.clear()
            await pause_either(self.kicked, self._changed, left)

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                socket = await self._channel.open_kicks()
            except ChannelError as error:
                log.warning("kick channel unavailable: %s", error)
                await asyncio.sleep(backoff(attempt, self._settings))
                attempt += 1
                continue
            opened = time.monotonic()
            self.opened_at_ms = clock.now_ms()
            self.connections += 1
            self.connected.set()
            self._set_up(True)
            self.on_open()
            if self.connections > 1:
                self.reconnected.set()
            try:
                if await self._serve(socket):
                    return
            finally:
                self._set_up(False)
                await socket.close()
            stable = time.monotonic() - opened >= self._settings.kick_stable_s
            attempt = 0 if stable else attempt + 1
            await asyncio.sleep(backoff(attempt, self._settings))

    async def _serve(self, socket: ws.WebSocket) -> bool:
        """Answer kicks until the channel ends; True when the server deregistered us."""
        settings = self._settings
        watcher = asyncio.create_task(socket.watch(settings.kick_ping_s, settings.kick_pong_s))
        try:
            while True:
                message = await socket.receive()
                if message.startswith(wire.KICK_DEREGISTER):
                    log.warning("the server deregistered this instance; stopping")
                    self.deregistered.set()
                    return True
                if message.startswith(wire.KICK_MESSAGE):
                    self.kicked.set()  # "kick_vm", or "kick_vm task run t-...": fetch
                    await socket.send_text(f"accept:{message}")
        except ws.WebSocketClosed as error:
            if watcher.done() and not watcher.cancelled():
                # Silent peer: the server has been out of reach since we last heard from it.
                silent_s = time.monotonic() - socket.last_heard
                self._channel.lost_since(
                    clock.now_ms() - int(silent_s * 1000),
                    f"the kick channel had no answer for {silent_s:.0f} s",
                )
            else:
                log.info("kick channel closed: %s", error)
            return False
        finally:
            watcher.cancel()
