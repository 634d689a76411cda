"""Renewing the agent certificate while the server runs: a server that is never restarted must
not serve a certificate past its end. Every ``every_s`` the certificate is looked at (see
``gateway.tls``); when a new one is issued, the listeners' live TLS contexts load it, so new
connections get it at once and open ones keep theirs until they close.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable

from openassist.server.gateway.tls import TlsFiles, renew_if_due
from openassist.server.service.clock import Clock, SystemClock, utc_now

log = logging.getLogger(__name__)


async def keep_certificate(
    files: TlsFiles,
    hostnames: tuple[str, ...],
    every_s: float,
    contexts: Callable[[], list[ssl.SSLContext]],
    clock: Clock | None = None,
) -> None:
    """Run until cancelled; ``contexts`` gives the TLS contexts that serve ``files``; whether
    the certificate is due is judged by ``clock`` (the server's injected one)."""
    clock = clock or SystemClock()
    while True:
        await asyncio.sleep(every_s)
        now = utc_now(clock)
        try:
            why = await asyncio.to_thread(renew_if_due, files, hostnames, now)
            if why:
                for context in contexts():
                    context.load_cert_chain(str(files.server_cert), str(files.server_key))
        except (OSError, ValueError, ssl.SSLError) as error:
            log.warning("agent TLS certificate %s not renewed: %s", files.server_cert, error)
