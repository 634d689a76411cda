"""The server's listeners: uvicorn servers whose connections go through the guarded protocol,
their TLS contexts and the open-file limit they need."""

from __future__ import annotations

import logging
import resource
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette

from openassist.server.api_tls import api_certificate
from openassist.server.gateway.tls import TlsFiles
from openassist.server.listen.limits import ListenerLimits
from openassist.server.listen.pacing import HandshakeGate
from openassist.server.listen.protocol import guarded_protocol
from openassist.server.settings import ServerSettings

log = logging.getLogger("openassist.server")

# The kick channels' keep-alive is the agents' (ours pings a quiet channel every 60 s, the
# official agent every 60 s): uvicorn's own ping every 20 s tripled that traffic, a TLS record
# each way per ping, at 10,000 agents 500 a second (issue 20). The server still pings, rarely,
# so that a channel whose agent vanished without a word (a powered-off machine) is closed.
WS_PING_INTERVAL_S = 300.0
WS_PING_TIMEOUT_S = 30.0


class QuietServer(uvicorn.Server):
    """Two servers share one process: signals are handled once, by ``serve``."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def http_server(
    name: str,
    app: Starlette,
    address: tuple[str, int],
    tls: ssl.SSLContext | None,
    settings: ServerSettings,
    max_connections: int,
    gate: HandshakeGate | None = None,
) -> uvicorn.Server:
    limits = ListenerLimits(
        max_connections=max_connections,
        head_timeout_s=settings.head_timeout_s,
        max_head_bytes=settings.max_head_bytes,
        read_timeout_s=settings.read_timeout_s,
    )
    trusted = list(settings.trusted_proxies)
    config = uvicorn.Config(
        app,
        host=address[0],
        port=address[1],
        log_level=settings.log_level,
        # Forwarded headers only from the configured proxies: uvicorn would otherwise believe
        # any loopback client (or FORWARDED_ALLOW_IPS) about who the client is.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
        access_log=False,
        log_config=None,  # uvicorn's lines go through our handler, in our format
        lifespan="off",
        # TLS is served by the protocol, so that handshakes count and are timed.
        http=guarded_protocol(name, limits, tls, gate),
        # Connections the kernel completed and the server has not yet taken: beyond this the
        # kernel drops new ones, which clients retry after 1, 3, 7 s (the kernel caps it at
        # net.core.somaxconn, 4096 by default). The server takes them as fast as its event loop
        # turns; the gate, not the kernel, then says when each one's TLS work is done.
        backlog=max(2048, min(max_connections, 65535)),
        ws="websockets-sansio",
        ws_ping_interval=WS_PING_INTERVAL_S,
        ws_ping_timeout=WS_PING_TIMEOUT_S,
        timeout_keep_alive=120,
    )
    return QuietServer(config)


def tls_contexts(
    settings: ServerSettings, agent_files: TlsFiles
) -> tuple[ssl.SSLContext, ssl.SSLContext | None]:
    """The agent port's TLS context and the API port's (None: plain HTTP); one and the same
    where both serve the CA's certificate, so that a renewal reaches both."""
    agent = _tls_context(agent_files)
    api_files = api_certificate(settings, agent_files)
    if api_files is None:
        return agent, None
    return agent, agent if api_files is agent_files else _tls_context(api_files)


def _tls_context(tls: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls.server_cert), str(tls.server_key))
    return context


def raise_open_file_limit(settings: ServerSettings) -> None:
    """Room for every connection both ports allow, plus the database and files."""
    needed = settings.api_max_connections + settings.agent_max_connections + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        log.warning(
            "the open-file limit is %d; the connection limits need %d: lower "
            "agent_max_connections or raise the limit (LimitNOFILE=)",
            target,
            needed,
        )
