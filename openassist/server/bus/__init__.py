"""Fan-out between server nodes: hints that wake the node holding an agent's connection.

Messages on the bus are hints, never the truth (the store is): losing one delays work until the
agent's next poll, it never loses work. ``MemoryBus`` serves the single-process default.
"""

from openassist.server.bus.base import Bus, Handler
from openassist.server.bus.memory import MemoryBus

__all__ = ["Bus", "Handler", "MemoryBus"]
