"""A small HTTP/1.1 client over one kept-alive TLS connection (standard library only).

The agent talks to one server; a full client library would cost memory at idle for nothing.
Requests on one connection are serialised by a lock; the connection is re-opened on failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from urllib.parse import urlencode

_MAX_HEADER_BYTES = 64 * 1024
# Larger than any answer the server gives (a task list of 100 tasks of 24 KB is 3 MB); a
# Content-Length or chunk size past it is a broken or hostile peer, not something to buffer.
_MAX_BODY_BYTES = 64 * 1024 * 1024


class HttpError(Exception):
    """The exchange failed (connection, protocol, or timeout); the request may be retried."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class HttpConnection:
    def __init__(
        self, host: str, port: int, context: ssl.SSLContext, timeout_s: float = 30
    ) -> None:
        self._host, self._port, self._context = host, port, context
        self._timeout = timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> HttpResponse:
        target = path + ("?" + urlencode(query) if query else "")
        head = [
            f"{method} {target} HTTP/1.1",
            f"Host: {self._host}:{self._port}",
            f"Content-Length: {len(body)}",
        ]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        async with self._lock:
            for attempt in (1, 2):  # a kept-alive connection may have been closed by the server
                try:
                    return await asyncio.wait_for(self._exchange(payload), self._timeout)
                except (OSError, asyncio.IncompleteReadError, HttpError, TimeoutError) as error:
                    await self._drop()
                    if attempt == 2 or isinstance(error, TimeoutError):
                        raise HttpError(f"{method} {path}: {error!r}") from error
                except BaseException:
                    # Cancelled mid-exchange: the connection may hold half a response.
                    self._abort()
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, payload: bytes) -> HttpResponse:
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(
                self._host, self._port, ssl=self._context, server_hostname=self._host
            )
        assert self._reader is not None and self._writer is not None
        self._writer.write(payload)
        await self._writer.drain()
        return await _read_response(self._reader)

    def _abort(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.transport.abort()

    async def _drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
                await asyncio.wait_for(writer.wait_closed(), 1)

    async def close(self) -> None:
        async with self._lock:
            await self._drop()


async def _read_response(reader: asyncio.StreamReader) -> HttpResponse:
    """One response; anything malformed (head past the limit, a Content-Length or chunk size
    that is not a size) is an HttpError like a dropped connection, never another exception that
    would escape the caller's retry loop."""
    try:
        return await _parse_response(reader)
    except (ValueError, asyncio.LimitOverrunError, UnicodeError) as error:
        raise HttpError(f"malformed response: {error}") from error


def _size(text: str | bytes, base: int = 10) -> int:
    size = int(text, base)
    if not 0 <= size <= _MAX_BODY_BYTES:
        raise HttpError(f"body size {size} out of range")
    return size


async def _parse_response(reader: asyncio.StreamReader) -> HttpResponse:
    raw = await reader.readuntil(b"\r\n\r\n")
    if len(raw) > _MAX_HEADER_BYTES:
        raise HttpError("response header too large")
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise HttpError(f"bad status line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        body = await reader.readexactly(_size(headers.get("content-length", "0")))
    return HttpResponse(int(parts[1]), headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = _size((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return bytes(body)
        body += await reader.readexactly(size)
        _size(str(len(body)))  # the chunks together stay within the limit too
        await reader.readexactly(2)
