"""A run's output as the protocol needs it.

Two views of one stream: the true tail (the last ``quota`` bytes, and how many came before them)
for the run's own outcome, and the bytes not yet sent to the server. Running reports send the
unsent bytes; the final report sends what is left, and the server appends and keeps the tail.
Unsent bytes are bounded by the quota too: when more piles up between two reports, the oldest
are dropped and counted, so the server's tail is still the true tail. ``OutputPipe`` is where
the bytes come in from the script's process.
"""

from __future__ import annotations

import asyncio


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


class OutputPipe(asyncio.SubprocessProtocol):
    """A script process's side of the event loop: feeds its combined output into the tail as
    it arrives (bounded memory, no reader task) and marks its exit and the pipe's end apart.

    Not ``create_subprocess_exec``: its ``wait()`` returns only once every holder of the pipe
    has closed it, so a background child would hold the run until the timeout."""

    def __init__(self, tail: OutputTail) -> None:
        self._tail = tail
        self._transport: asyncio.SubprocessTransport | None = None
        self.returncode: int | None = None
        self.exited = asyncio.Event()
        self.closed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self._transport = transport

    def pipe_data_received(self, fd: int, data: bytes | bytearray) -> None:
        self._tail.add(bytes(data))

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self.closed.set()

    def process_exited(self) -> None:
        assert self._transport is not None
        self.returncode = self._transport.get_returncode()
        self.exited.set()
