"""In-process bus: one node, handlers called directly."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from openassist.server.bus.base import Handler

log = logging.getLogger(__name__)


class MemoryBus:
    def __init__(self) -> None:
        self._handlers: defaultdict[str, list[Handler]] = defaultdict(list)

    async def publish(self, topic: str, payload: str) -> None:
        for handler in tuple(self._handlers.get(topic, ())):
            try:
                await handler(topic, payload)
            except Exception:
                # A failing subscriber must not break the publisher: bus messages are hints.
                log.exception("bus handler for %s failed", topic)

    async def peers(self) -> int:
        return 0

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        self._handlers[topic].append(handler)

        def unsubscribe() -> None:
            handlers = self._handlers.get(topic)
            if handlers and handler in handlers:
                handlers.remove(handler)
                if not handlers:
                    del self._handlers[topic]

        return unsubscribe

    def topics(self) -> list[str]:
        """The topics with a subscriber now."""
        return list(self._handlers)

    async def close(self) -> None:
        self._handlers.clear()
