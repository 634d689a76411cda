"""The kick channel's two deadlines: a server that took the TCP connection but is slow to
handshake (busy: a reconnect storm keeps connections in its accept queue) is waited on past the
connect deadline, instead of being given up and costing it a second handshake later."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openassist.agent import ws
from openassist.server.gateway.tls import ensure_tls

BUSY_S = 0.5  # connections wait this long in the accept queue: past the connect deadline below


@contextlib.asynccontextmanager
async def _busy_server(tls_dir: Path) -> AsyncIterator[int]:
    """A kick-channel endpoint that leaves connections in the kernel's accept queue (the TCP
    handshake done, nothing read) for BUSY_S before it serves them; yields its port."""
    files = ensure_tls(tls_dir)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.server_cert, files.server_key)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        [key] = [
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("sec-websocket-key:")
        ]
        accept = base64.b64encode(hashlib.sha1((key + ws._GUID.decode()).encode()).digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()
        await reader.read()  # until the client goes

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)

        async def accept_later() -> None:
            await asyncio.sleep(BUSY_S)
            server = await asyncio.start_server(serve, sock=listener, ssl=context)
            async with server:
                await server.serve_forever()

        accepting = asyncio.create_task(accept_later())
        try:
            yield listener.getsockname()[1]
        finally:
            accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await accepting


def test_a_busy_server_is_waited_on_past_the_connect_deadline(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with _busy_server(tmp_path / "tls") as port:
            client = ssl.create_default_context(cafile=str(tmp_path / "tls" / "ca.pem"))
            channel = await ws.connect(
                "127.0.0.1", port, "/kicks", client, {}, connect_timeout_s=0.1
            )
            await channel.close()

    asyncio.run(scenario())


def test_the_answer_deadline_still_ends_a_silent_server(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with _busy_server(tmp_path / "tls") as port:
            client = ssl.create_default_context(cafile=str(tmp_path / "tls" / "ca.pem"))
            with pytest.raises(ws.WebSocketUnreachable):
                await ws.connect("127.0.0.1", port, "/kicks", client, {}, answer_timeout_s=0.05)

    asyncio.run(scenario())
