"""How many TLS handshakes a listener works on at once (issue 20: the reconnect storm).

After a restart every agent reconnects within its backoff, two TLS connections each. Served as
they came, thousands of handshakes were in progress together: the event loop shared itself
among all of them, each finished only when nearly all did, later than the agents' deadline
(ours 30 s, the official agent's 45 s), and the agents gave up, came back after their backoff
and were paid for twice. At 2,000 agents a third of the server's CPU in the storm went to
handshakes whose clients had already left.

The gate works on ``limit`` handshakes at once, counted from the client's first TLS bytes (a
connection that sends nothing costs nothing and takes no place). The others wait their turn,
first come first served, with their reading paused and no TLS work done; one that waited more
than ``wait_s`` is closed unanswered (its client has given up or soon will: a close costs no
handshake, and the agent's backoff spaces its return). A place is held until the handshake
ends, or at most ``HOLD_MAX_S``: a client slow to finish (a slow network, or one holding places
on purpose) then goes on outside the count rather than blocking the others.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

HOLD_MAX_S = 2.0  # a place is given back after this long even if the handshake goes on


class Paced(Protocol):
    """A TLS connection as the gate sees it."""

    def begin(self) -> None: ...  # do the TLS work it was stopped before
    def refuse(self) -> None: ...  # close it unanswered
    def gone(self) -> bool: ...  # closed meanwhile


class HandshakeGate:
    def __init__(self, limit: int, wait_s: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.wait_s, self._clock = limit, wait_s, clock
        self._working: dict[Paced, float] = {}  # -> when its place was given
        self._waiting: deque[tuple[float, Paced]] = deque()
        self.waited = 0  # handshakes that waited for a place, then were done
        self.refused = 0  # connections closed after waiting ``wait_s``

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def enter(self, connection: Paced) -> bool:
        """Whether ``connection`` may do its TLS work now; else it waits to be told ``begin``."""
        self._expire()
        if len(self._working) < self.limit and not self._waiting:
            self._working[connection] = self._clock()
            return True
        self._waiting.append((self._clock(), connection))
        return False

    def leave(self, connection: object) -> None:
        """The handshake ended (done, failed or cut): its place goes to the next in line."""
        if connection in self._working:
            del self._working[connection]
            self._admit()

    def _expire(self) -> None:
        """Places held past ``HOLD_MAX_S`` given back."""
        if len(self._working) < self.limit:
            return
        now = self._clock()
        late = [c for c, since in self._working.items() if now - since > HOLD_MAX_S]
        for connection in late:
            del self._working[connection]
        if late:
            self._admit()

    def _admit(self) -> None:
        while self._waiting and len(self._working) < self.limit:
            since, connection = self._waiting.popleft()
            if connection.gone():
                continue
            now = self._clock()
            if now - since > self.wait_s:
                self.refused += 1
                connection.refuse()
                continue
            self._working[connection] = now
            self.waited += 1
            connection.begin()
