"""The bus interface."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

Handler = Callable[[str, str], Awaitable[None]]
"""Called with (topic, payload)."""


class Bus(Protocol):
    async def publish(self, topic: str, payload: str) -> None:
        """Deliver ``payload`` to every subscriber of ``topic`` on any node (best effort)."""

    async def peers(self) -> int:
        """How many other nodes listen on the bus now (0 for a bus inside one process)."""

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        """Register ``handler`` for ``topic``; returns a function that unsubscribes it."""

    async def close(self) -> None:
        """Release connections."""
