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
from collections.abc import Callable

BACKLOG_BYTES = 256 * 1024  # unsent output that asks for a report before the interval
PAUSE_BYTES = 1024 * 1024  # unsent output to be sent in full: stop reading the script until sent


class OutputTail:
    """``send_cap`` > 0 (the server keeps full output up to that many bytes): every byte up to
    the cap is handed out for sending, none dropped; past it, and without a cap, the unsent
    buffer keeps only the last ``quota`` bytes. ``on_backlog`` is called when the unsent buffer
    passes BACKLOG_BYTES, so a fast writer is flushed before the interval ends."""

    def __init__(
        self, quota: int, send_cap: int = 0, on_backlog: Callable[[], None] | None = None
    ) -> None:
        self._quota = quota
        self._send_cap = send_cap
        self._on_backlog = on_backlog
        self._buffer = bytearray()
        self.dropped = 0
        self._unsent = bytearray()
        self._handed_out = 0
        self.unsent_dropped = 0  # bytes that left the unsent buffer without being sent
        self.on_drained: Callable[[], None] | None = None  # after take_new empties the buffer

    def add(self, chunk: bytes) -> None:
        self._buffer += chunk
        excess = len(self._buffer) - self._quota
        if excess > 0:
            del self._buffer[:excess]
            self.dropped += excess
        self._unsent += chunk
        limit = max(self._quota, self._send_cap - self._handed_out)
        excess = len(self._unsent) - limit
        if excess > 0:
            del self._unsent[:excess]
            self.unsent_dropped += excess
        if self._on_backlog is not None and len(self._unsent) >= BACKLOG_BYTES:
            self._on_backlog()

    def take_new(self) -> bytes:
        """The bytes added since the last call (bounded as the class says)."""
        new, self._unsent = bytes(self._unsent), bytearray()
        self._handed_out += len(new)
        if self.on_drained is not None:
            self.on_drained()
        return new

    @property
    def must_wait(self) -> bool:
        """Output still to be sent in full has piled up: the writer should wait for a report
        (back-pressure keeps the agent's memory flat however fast the script writes)."""
        return len(self._unsent) >= PAUSE_BYTES and self._handed_out < self._send_cap

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
        self._paused: asyncio.ReadTransport | None = None
        tail.on_drained = self._resume
        self.returncode: int | None = None
        self.exited = asyncio.Event()
        self.closed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self._transport = transport

    def pipe_data_received(self, fd: int, data: bytes | bytearray) -> None:
        self._tail.add(bytes(data))
        if self._tail.must_wait and self._paused is None and self._transport is not None:
            pipe = self._transport.get_pipe_transport(fd)
            if isinstance(pipe, asyncio.ReadTransport):
                pipe.pause_reading()  # the script blocks on its next write until we catch up
                self._paused = pipe

    def _resume(self) -> None:
        paused, self._paused = self._paused, None
        if paused is not None and not paused.is_closing():
            paused.resume_reading()

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self.closed.set()

    def process_exited(self) -> None:
        assert self._transport is not None
        self.returncode = self._transport.get_returncode()
        self.exited.set()
