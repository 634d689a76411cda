"""Fan-out between server nodes: hints that wake the node holding an agent's connection.

Messages on the bus are hints, never the truth (the store is): losing one delays work until the
agent's next poll, it never loses work. ``MemoryBus`` serves the single-process default;
``PostgresBus`` several nodes on one PostgreSQL database.
"""

import logging

from openassist.server.bus.base import Bus, Handler
from openassist.server.bus.memory import MemoryBus

__all__ = ["Bus", "Handler", "MemoryBus", "open_bus"]

log = logging.getLogger(__name__)


async def open_bus(postgres_url: str) -> Bus:
    """LISTEN/NOTIFY on the shared PostgreSQL database at ``postgres_url``, so kicks reach the
    node holding an agent's connection; in-process when it is empty (SQLite: one node)."""
    if not postgres_url:
        return MemoryBus()
    from openassist.server.bus.postgres import CHANNEL, PostgresBus  # the postgres extra

    bus = PostgresBus(postgres_url)
    await bus.start()
    log.info("bus: PostgreSQL LISTEN/NOTIFY on channel %s", CHANNEL)
    return bus
