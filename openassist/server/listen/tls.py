"""TLS on a guarded listener: the handshake counts toward the connection limit and must end
within ``head_timeout_s`` (the event loop's own handshake takes up to 60 s and counts nowhere).

uvicorn hands TLS to the event loop, where neither is possible; here the protocol factory wraps
the HTTP protocol in asyncio's server-side TLS protocol itself, counted while it shakes hands.

Memory per connection (issue 20): asyncio gives each TLS connection a 256 KiB receive buffer,
zero-filled, so resident: 2.5 GB for 10,000 idle agents before anything else. The loop fills
that buffer and hands it on (into the connection's ``MemoryBIO``) in one synchronous step
(``get_buffer``, ``recv_into``, ``buffer_updated``), so every connection of a thread can share
one buffer; and reads stop at 64 KiB (a TLS record carries at most 16 KiB).
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from asyncio import sslproto
from collections.abc import Callable
from typing import Any, cast

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

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._app.handshaking.add(self)
        if self._app.over_limit():
            self._app.handshake_refused()
            cast(asyncio.Transport, transport).abort()  # nothing can be said before it

    def connection_lost(self, exc: BaseException | None) -> None:
        self._app.handshaking.discard(self)
        super().connection_lost(exc)


def tls_factory(
    protocol_class: Callable[..., Any], context: ssl.SSLContext
) -> Callable[..., asyncio.BaseProtocol]:
    """A protocol factory for uvicorn's ``Config(http=...)``: each connection gets the HTTP
    protocol inside a counted TLS layer."""

    def make(**kwargs: Any) -> asyncio.BaseProtocol:
        return CountedTls(protocol_class(**kwargs), context)

    return make
