"""A change to users, access keys, policies or attachments, told to every node.

The node that made the change drops its cached keys and principals, publishes the change on the
bus and answers only once every other node listening on it has confirmed that it dropped its own
(or ``CONFIRM_WAIT_S`` ran out): a disabled key, a deleted user or a detached policy is refused
on the next request on any node. Messages are hints: a node that missed one (its listening
connection was down, or it did not confirm in time) acts on what it cached for at most
``access_cache_s``, and drops everything when its listening connection comes back.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from contextlib import suppress

from openassist.server.bus import Bus

log = logging.getLogger(__name__)

CHANGED_TOPIC = "access-changed"  # payload: the change's id ("" after a reconnect: forget all)
FORGOTTEN_TOPIC = "access-forgotten"  # payload: the id of the change a node has forgotten
CONFIRM_WAIT_S = 2.0


class _Waiting:
    def __init__(self, expected: int) -> None:
        self.expected, self.confirmed = expected, 0
        self.done = asyncio.Event()

    def confirm(self) -> None:
        self.confirmed += 1
        if self.confirmed >= self.expected:
            self.done.set()


class AccessChanges:
    def __init__(self, bus: Bus, forget: Callable[[], None]) -> None:
        """``forget``: drops this node's cached access keys and principals."""
        self._bus, self._forget = bus, forget
        self._waiting: dict[str, _Waiting] = {}  # this node's changes, by id

    def listen(self) -> Callable[[], None]:
        """Forget (and confirm) whenever another node changes access; returns a function that
        stops listening."""
        stops = [
            self._bus.subscribe(CHANGED_TOPIC, self._heard),
            self._bus.subscribe(FORGOTTEN_TOPIC, self._confirmed),
        ]

        def stop() -> None:
            for unsubscribe in stops:
                unsubscribe()

        return stop

    async def changed(self) -> None:
        """After a committed change: forget here, tell the other nodes and wait (bounded) until
        each has forgotten too."""
        self._forget()
        change = secrets.token_hex(8)
        waiting = self._waiting[change] = _Waiting(await self._bus.peers())
        try:
            await self._bus.publish(CHANGED_TOPIC, change)
            if waiting.expected:
                with suppress(TimeoutError):
                    await asyncio.wait_for(waiting.done.wait(), CONFIRM_WAIT_S)
        finally:
            del self._waiting[change]
        if waiting.confirmed < waiting.expected:
            log.warning(
                "access change: %d of %d other node(s) did not confirm within %.0f s; they act "
                "on what they cached for at most access_cache_s",
                waiting.expected - waiting.confirmed,
                waiting.expected,
                CONFIRM_WAIT_S,
            )

    async def _heard(self, _topic: str, change: str) -> None:
        if change in self._waiting:  # this node's own message, delivered here too
            return
        self._forget()
        log.debug("access changed on another node: cached keys and principals dropped")
        if change:
            await self._bus.publish(FORGOTTEN_TOPIC, change)

    async def _confirmed(self, _topic: str, change: str) -> None:
        waiting = self._waiting.get(change)
        if waiting is not None:
            waiting.confirm()
