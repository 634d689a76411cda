"""A run's output as the protocol needs it.

Two views of one stream: the true tail (the last ``quota`` bytes, and how many came before them)
for the run's own outcome, and the bytes not yet sent to the server. Running reports send the
unsent bytes; the final report sends what is left, and the server appends and keeps the tail.
Unsent bytes are bounded by the quota too: when more piles up between two reports, the oldest
are dropped and counted, so the server's tail is still the true tail.
"""

from __future__ import annotations


class OutputTail:
    def __init__(self, quota: int) -> None:
        self._quota = quota
        self._buffer = bytearray()
        self.dropped = 0
        self._unsent = bytearray()
        self.unsent_dropped = 0  # bytes that left the unsent buffer without being sent

    def add(self, chunk: bytes) -> None:
        self._buffer += chunk
        excess = len(self._buffer) - self._quota
        if excess > 0:
            del self._buffer[:excess]
            self.dropped += excess
        self._unsent += chunk
        excess = len(self._unsent) - self._quota
        if excess > 0:
            del self._unsent[:excess]
            self.unsent_dropped += excess

    def take_new(self) -> bytes:
        """The bytes added since the last call (at most ``quota`` of them)."""
        new, self._unsent = bytes(self._unsent), bytearray()
        return new

    @property
    def data(self) -> bytes:
        return bytes(self._buffer)
