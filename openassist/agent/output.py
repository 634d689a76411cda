"""A true tail of a run's output: the last ``quota`` bytes, and how many came before them."""

from __future__ import annotations


class OutputTail:
    def __init__(self, quota: int) -> None:
        self._quota = quota
        self._buffer = bytearray()
        self.dropped = 0
        self._pending = bytearray()  # bytes not yet handed out as partial output

    def add(self, chunk: bytes) -> None:
        self._buffer += chunk
        excess = len(self._buffer) - self._quota
        if excess > 0:
            del self._buffer[:excess]
            self.dropped += excess
        self._pending += chunk
        if len(self._pending) > self._quota:  # partial output is bounded by the quota too
            del self._pending[: len(self._pending) - self._quota]

    def take_new(self) -> bytes:
        """The bytes added since the last call (at most ``quota`` of them)."""
        new, self._pending = bytes(self._pending), bytearray()
        return new

    @property
    def data(self) -> bytes:
        return bytes(self._buffer)
