"""TLS on a guarded listener: the handshake counts toward the connection limit and must end
within ``head_timeout_s`` (the event loop's own handshake takes up to 60 s and counts nowhere).

uvicorn hands TLS to the event loop, where neither is possible; here the protocol factory wraps
the HTTP protocol in asyncio's server-side TLS protocol itself, counted while it shakes hands.
"""

from __future__ import annotations

import asyncio
import ssl
from asyncio import sslproto
from collections.abc import Callable
from typing import Any, cast


class CountedTls(sslproto.SSLProtocol):
    """asyncio's server-side TLS protocol, counted in ``app.handshaking`` until the handshake
    ends (``GuardedProtocol.connection_made`` takes it out)."""

    def __init__(self, app: Any, context: ssl.SSLContext) -> None:
        super().__init__(
            asyncio.get_running_loop(),
            app,
            context,
            None,  # type: ignore[arg-type]  # no one waits for the handshake: the app is told
            server_side=True,
            ssl_handshake_timeout=app.head_timeout(),
        )
        self._app = app
        app.tls_layer = self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._app.handshaking.add(self)
        if self._app.open_connections() > self._app.limits.max_connections:
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
