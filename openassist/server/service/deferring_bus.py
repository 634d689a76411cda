"""The bus as services see it: inside a unit of work, a message waits for the commit.

Kicks send an agent to fetch what a transaction wrote; sent before that transaction commits,
the agent would find nothing and wait for its next poll.
"""

from __future__ import annotations

from collections.abc import Callable

from openassist.server.bus import Bus
from openassist.server.bus.base import Handler
from openassist.server.store.db import current_unit


class DeferringBus:
    def __init__(self, bus: Bus) -> None:
        self._bus = bus

    async def publish(self, topic: str, payload: str) -> None:
        unit = current_unit()
        if unit is not None and not unit.closed:
            unit.after_commit(lambda: self._bus.publish(topic, payload))
            return
        await self._bus.publish(topic, payload)

    async def peers(self) -> int:
        return await self._bus.peers()

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        return self._bus.subscribe(topic, handler)

    async def close(self) -> None:
        await self._bus.close()
