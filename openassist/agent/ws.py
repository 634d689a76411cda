"""A minimal WebSocket client (RFC 6455) for the kick channel: the server only sends short text
messages, the client answers pings. Standard library only, to keep the agent small."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import ssl
import struct
import time

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_MESSAGE = 1 << 20
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WebSocketClosed(Exception):
    """The connection ended (close frame, EOF, or a protocol violation)."""


class WebSocketUnreachable(WebSocketClosed):
    """The server could not be reached at all (no connection, or no answer to the upgrade)."""


class WebSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self.last_heard = time.monotonic()  # when the last frame arrived (pongs included)
        self._heard = asyncio.Event()

    async def receive(self) -> str:
        """The next text (or binary, decoded) message; answers pings on the way."""
        message = bytearray()
        while True:
            opcode, fin, payload = await self._frame()
            if opcode == OP_PING:
                await self._send(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                await self.close()
                raise WebSocketClosed("closed by the server")
            elif opcode in (OP_TEXT, OP_BINARY, OP_CONT):
                message += payload
                if len(message) > _MAX_MESSAGE:
                    raise WebSocketClosed("message too large")
                if fin:
                    return message.decode("utf-8", "replace")

    async def _frame(self) -> tuple[int, bool, bytes]:
        try:
            first, second = await self._reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self._reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self._reader.readexactly(8))
            if length > _MAX_MESSAGE:
                raise WebSocketClosed("frame too large")
            mask = await self._reader.readexactly(4) if second & 0x80 else b""
            payload = await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, OSError) as error:
            raise WebSocketClosed(str(error)) from error
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.last_heard = time.monotonic()
        self._heard.set()
        return first & 0x0F, bool(first & 0x80), payload

    async def _send(self, opcode: int, payload: bytes) -> None:
        # Client frames must be masked (RFC 6455 5.3).
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        try:
            self._writer.write(header + mask + masked)
            await self._writer.drain()
        except OSError as error:
            raise WebSocketClosed(str(error)) from error

    async def send_text(self, text: str) -> None:
        await self._send(OP_TEXT, text.encode())

    async def watch(self, interval_s: float, timeout_s: float) -> None:
        """Ping when nothing arrived for ``interval_s``; when nothing at all comes back within
        ``timeout_s``, the peer is gone (a cut network keeps a TCP connection open and silent):
        abort the connection, so that ``receive`` raises WebSocketClosed. Returns then."""
        while True:
            await asyncio.sleep(interval_s)
            if time.monotonic() - self.last_heard < interval_s:
                continue  # heard from recently: alive
            self._heard.clear()
            with contextlib.suppress(WebSocketClosed, TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._send(OP_PING, b"alive?")
            try:
                async with asyncio.timeout(timeout_s):  # wait_for may lose a cancel (3.11)
                    await self._heard.wait()
            except TimeoutError:
                self._writer.transport.abort()
                return

    async def close(self) -> None:
        if not self._writer.is_closing():
            with contextlib.suppress(WebSocketClosed):
                await self._send(OP_CLOSE, struct.pack("!H", 1000))
            self._writer.close()


async def connect(
    host: str,
    port: int,
    path: str,
    context: ssl.SSLContext,
    headers: dict[str, str],
    connect_timeout_s: float = 10,
    answer_timeout_s: float = 30,
) -> WebSocket:
    """Open ``wss://host:port/path``; raises WebSocketClosed when the upgrade is refused.

    Two deadlines: the TCP connection (a server that cannot be reached is given up soon, for the
    next one), then the TLS handshake and the upgrade's answer. A server that took the
    connection but is busy (a reconnect storm keeps connections in the kernel's accept queue,
    where it does not see them) is waited on longer: an agent that gave up there came back
    after its backoff and cost the server a second handshake for the first one abandoned.
    """
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), connect_timeout_s
        )
    except (OSError, TimeoutError) as error:
        raise WebSocketUnreachable(f"cannot open the kick channel: {error!r}") from error
    try:
        async with asyncio.timeout(answer_timeout_s):
            await writer.start_tls(context, server_hostname=host)
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as error:
        writer.close()
        raise WebSocketUnreachable(f"cannot open the kick channel: {error!r}") from error
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    expected = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()  # noqa: S324
    accepted = any(
        line.lower().startswith("sec-websocket-accept:")
        and line.split(":", 1)[1].strip() == expected
        for line in header_lines
    )
    if " 101 " not in status_line + " " or not accepted:
        writer.close()
        raise WebSocketClosed(f"upgrade refused: {status_line}")
    return WebSocket(reader, writer)
