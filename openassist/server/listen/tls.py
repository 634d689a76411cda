"""TLS on a guarded listener: the handshake counts toward the connection limit and must end
within ``head_timeout_s`` (the event loop's own handshake takes up to 60 s and counts nowhere).

uvicorn hands TLS to the event loop, where neither is possible; here the protocol factory wraps
the HTTP protocol in asyncio's server-side TLS protocol itself, counted while it shakes hands.

Memory per connection (issue 20): asyncio gives each TLS connection a 256 KiB receive buffer,
zero-filled, so resident: 2.5 GB for 10,000 idle agents before anything else. The loop fills
that buffer and hands it on (into the connection's ``MemoryBIO``) in one synchronous step
(``get_buffer``, ``recv_into``, ``buffer_updated``), so every connection of a thread can share
one buffer; and reads stop at 64 KiB (a TLS record carries at most 16 KiB).

Pacing (issue 20, ``pacing.py``): where the listener has a ``gate``, a connection's first bytes
(its ClientHello) wait for a place before any TLS work, with reading paused meanwhile.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from asyncio import sslproto
from collections.abc import Callable
from typing import Any, cast

from openassist.server.listen.pacing import HandshakeGate

READ_SIZE = 64 * 1024


class _Buffers(threading.local):
    """The receive buffer every TLS connection of one thread (one event loop) shares."""

    def __init__(self) -> None:
        self.buffer = bytearray(READ_SIZE)
        self.view = memoryview(self.buffer)


_SHARED = _Buffers()


class CountedTls(sslproto.SSLProtocol):
    """asyncio's server-side TLS protocol, counted in ``app.handshaking`` until the handshake
    ends (``GuardedProtocol.connection_made`` takes it out)."""

    max_size = READ_SIZE

    def __init__(self, app: Any, context: ssl.SSLContext) -> None:
        super().__init__(
            asyncio.get_running_loop(),
            app,
            context,
            None,  # type: ignore[arg-type]  # no one waits for the handshake: the app is told
            server_side=True,
            ssl_handshake_timeout=app.head_timeout(),
        )
        # The shared buffer (see the module's docstring) in place of one of its own.
        self._ssl_buffer, self._ssl_buffer_view = _SHARED.buffer, _SHARED.view
        self._app = app
        app.tls_layer = self
        self._gate: HandshakeGate | None = app.gate
        self._entered = self._gate is None  # asked the gate for a place (or there is none)
        self._raw: asyncio.Transport | None = None
        # asyncio's SSLProtocol internals (the same from 3.11 to 3.13), which typeshed omits.
        self._inner: Any = self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._raw = cast(asyncio.Transport, transport)
        super().connection_made(transport)
        self._app.handshaking.add(self)
        if self._app.over_limit():
            self._app.handshake_refused()
            cast(asyncio.Transport, transport).abort()  # nothing can be said before it

    def buffer_updated(self, nbytes: int) -> None:
        if self._entered or self._gate is None:
            super().buffer_updated(nbytes)
            return
        self._entered = True
        if self._gate.enter(self):
            super().buffer_updated(nbytes)
            return
        # Kept for later, unread: the ClientHello in the TLS layer's input, the rest in the
        # kernel. The handshake's deadline starts again when its turn comes.
        inner = self._inner
        inner._incoming.write(self._ssl_buffer_view[:nbytes])
        assert self._raw is not None
        self._raw.pause_reading()
        if inner._handshake_timeout_handle is not None:
            inner._handshake_timeout_handle.cancel()
            inner._handshake_timeout_handle = None

    # Told by the gate (``pacing.Paced``).
    def begin(self) -> None:
        inner = self._inner
        inner._handshake_timeout_handle = asyncio.get_running_loop().call_later(
            inner._ssl_handshake_timeout, inner._check_handshake_timeout
        )
        assert self._raw is not None
        self._raw.resume_reading()
        inner._do_handshake()

    def refuse(self) -> None:
        self._app.handshake_refused("no handshake place in time")
        if self._raw is not None:
            self._raw.abort()

    def gone(self) -> bool:
        return self._raw is None or self._raw.is_closing()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._app.handshaking.discard(self)
        if self._gate is not None:
            self._gate.leave(self)
        super().connection_lost(exc)


def tls_factory(
    protocol_class: Callable[..., Any], context: ssl.SSLContext
) -> Callable[..., asyncio.BaseProtocol]:
    """A protocol factory for uvicorn's ``Config(http=...)``: each connection gets the HTTP
    protocol inside a counted TLS layer."""

    def make(**kwargs: Any) -> asyncio.BaseProtocol:
        return CountedTls(protocol_class(**kwargs), context)

    return make
