"""uvicorn's httptools protocol with the limits a public listener needs (issue 13.5, 14.2).

uvicorn keeps a connection that never finishes its request head for ever, puts no bound on the
head's size, and its parser refuses the raw UTF-8 the official agent sends in request targets.
This subclass, one per listener (``guarded_protocol``):

- refuses connections above ``max_connections`` at once, with 503; on a TLS port (``tls.py``)
  connections count from the accept, and the handshake must end within ``head_timeout_s``;
  but first closes the connection kept alive idle the longest, if there is one (issue 20: an
  agent holds its kick channel and, between heartbeats, an idle HTTP connection; at 10,000
  agents the second one is what a listener at its limit can give back, as nginx does);
- wants each request head within ``head_timeout_s`` of the connection or of the request's first
  byte (408 otherwise), and no larger than ``max_head_bytes`` (431);
- closes a connection whose request body stops arriving for ``read_timeout_s`` (the handler
  reading it sees a disconnect);
- percent-encodes raw non-ASCII bytes of each request line before the parser sees it.

Everything after the head is uvicorn's, unchanged: the hot path gains two timer operations.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from asyncio import TimerHandle
from typing import Any, ClassVar, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from openassist.server.listen.limits import ListenerLimits
from openassist.server.listen.pacing import HandshakeGate
from openassist.server.listen.request_line import escape_request_line
from openassist.server.listen.tls import tls_factory

log = logging.getLogger("openassist.server.listen")

REFUSAL_LOG_INTERVAL_S = 60.0  # refusals are logged at most once a minute per listener, counted


def guarded_protocol(
    name: str,
    limits: ListenerLimits,
    tls: ssl.SSLContext | None = None,
    gate: HandshakeGate | None = None,
) -> type[asyncio.Protocol]:
    """The protocol factory for one listener (uvicorn's ``Config(http=...)``), serving TLS
    itself when ``tls`` is given (uvicorn is then given no certificate), its handshakes paced by
    ``gate`` when given."""
    attributes: dict[str, Any] = {
        "gate": gate if tls is not None else None,
        "listener": name,
        "limits": limits,
        "refusals": {},
        "handshaking": set(),
        "idle": {},
        "evicted": set(),
    }
    protocol = type("GuardedProtocol", (GuardedProtocol,), attributes)
    factory = protocol if tls is None else tls_factory(protocol, tls)
    return cast(type[asyncio.Protocol], factory)


class GuardedProtocol(HttpToolsProtocol):
    listener: ClassVar[str]
    limits: ClassVar[ListenerLimits]
    refusals: ClassVar[dict[str, Any]]  # reason -> [count since logged, last logged]
    handshaking: ClassVar[set[asyncio.BaseProtocol]]  # TLS layers still shaking hands
    # Connections kept alive between requests, the longest idle first (a dict keeps order).
    idle: ClassVar[dict[GuardedProtocol, None]]
    evicted: ClassVar[set[GuardedProtocol]]  # closed to make room, not yet gone
    gate: ClassVar[HandshakeGate | None]  # paces TLS handshakes (pacing.py)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: TimerHandle | None = None
        self._body_timer: TimerHandle | None = None
        self._awaiting_line = True  # the next bytes start a request line
        self._in_head = True  # between the end of a request and the end of the next head
        self._head_bytes = 0
        self.tls_layer: asyncio.BaseProtocol | None = None  # set by tls.CountedTls

    def open_connections(self) -> int:
        return len(self.connections) + len(self.handshaking) - len(self.evicted)

    def over_limit(self) -> bool:
        """Above the limit even after closing the longest idle kept-alive connection."""
        if self.open_connections() <= self.limits.max_connections:
            return False
        if not self.idle:
            return True
        oldest = next(iter(self.idle))
        del self.idle[oldest]
        self.evicted.add(oldest)
        # At once (no TLS goodbye to wait for): the descriptor is what is short. Its client
        # sent nothing since the last answer; it sees the connection closed and opens another.
        oldest.transport.abort()
        return self.open_connections() > self.limits.max_connections

    def head_timeout(self) -> float:
        return self.limits.head_timeout_s

    def handshake_refused(self, reason: str = "connection limit reached") -> None:
        self._note(reason)

    # Connection: counted and timed; on TLS the handshake was counted and timed before.
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.tls_layer is not None:
            self.handshaking.discard(self.tls_layer)
            if self.gate is not None:
                self.gate.leave(self.tls_layer)
        super().connection_made(cast(asyncio.Transport, transport))
        if self.over_limit():
            self._note("connection limit reached")
            self._refuse(503, "Too many connections; try again later.")
            return
        self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        self.idle.pop(self, None)
        self.evicted.discard(self)
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # kept alive, waiting for a request
            self.idle[self] = None

    # Head: escaped, sized and timed before uvicorn's parser.
    def data_received(self, data: bytes) -> None:
        self.idle.pop(self, None)
        if self._awaiting_line:
            data, line_ended = escape_request_line(data)
            self._awaiting_line = not line_ended
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if (
            self._in_head
            and self._head_bytes > self.limits.max_head_bytes
            and not self.transport.is_closing()
        ):
            self._note("request head too large")
            self._refuse(431, "The request line and headers are too large.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_late)

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()
        if not self.parser.should_upgrade():
            self._body_timer = self.loop.call_later(self.limits.read_timeout_s, self._body_late)

    def on_body(self, body: bytes) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = self.loop.call_later(self.limits.read_timeout_s, self._body_late)
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._awaiting_line = self._in_head = True
        self._head_bytes = 0
        super().on_message_complete()

    def _head_late(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._note("request head not received in time")
            self._refuse(408, "The request head did not arrive in time.")

    def _body_late(self) -> None:
        if self.flow.read_paused:  # we are slow to read, not the client to send
            self._body_timer = self.loop.call_later(self.limits.read_timeout_s, self._body_late)
            return
        self._body_timer = None
        self._note("request body stalled")
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

    def _refuse(self, status: int, message: str) -> None:
        """Answer (unless a response is under way) and close."""
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_response(status, message))
        self.transport.close()

    def _note(self, reason: str) -> None:
        """Log refusals, at most once a minute per reason, with how many there were."""
        entry = self.refusals.setdefault(reason, [0, 0.0])
        entry[0] += 1
        now = time.monotonic()
        if now - entry[1] >= REFUSAL_LOG_INTERVAL_S:
            log.warning("%s listener: %s (%d since last said)", self.listener, reason, entry[0])
            entry[0], entry[1] = 0, now


def _response(status: int, message: str) -> bytes:
    body = message.encode()
    return (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


_REASONS = {
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}
