"""A kept-alive HTTP/1.1 connection that POSTs a form and reads the answer: all the API client
needs. The standard library's http.client would do, but importing it loads the email package;
the socket module itself converts its constants into enums at import, and its address lookup
of a host name as text loads the IDNA codec (with stringprep and unicodedata): together more
than a short command's own work (callgrind). This takes the C module _socket under it only
(ssl, which needs socket, for https)."""

from __future__ import annotations

import _socket
from collections.abc import Callable

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from typing import Any

MAX_HEAD = 64 * 1024  # status line and headers together
_RECEIVE = 64 * 1024
Wrap = Callable[[_socket.socket, str], "Any"]  # TLS: (plain socket, host name) -> TLS socket


class ConnectionClosed(ConnectionError):
    """The server closed the connection before answering (an idle kept-alive one, say)."""


class BadResponse(OSError):
    """The server's answer is not HTTP/1.x as we read it."""


def connect(host: str, port: int, timeout_s: float) -> _socket.socket:
    """A TCP connection to the first address of ``host`` that accepts one, as
    socket.create_connection makes it; raises the last address's OSError."""
    # An ASCII name travels as bytes: the same lookup, without the IDNA codec a str takes.
    name: str | bytes = host.encode("ascii") if host.isascii() else host
    last: OSError = OSError(f"no address for {host}")
    for family, kind, proto, _canonical, address in _socket.getaddrinfo(
        name, port, 0, _socket.SOCK_STREAM
    ):
        plain = _socket.socket(family, kind, proto)
        try:
            plain.settimeout(timeout_s)
            plain.connect(address)
        except OSError as error:
            plain.close()
            last = error
            continue
        plain.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        return plain
    raise last


class _Reader:
    """Buffered reads of lines and sized parts from a socket (plain or TLS)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._buffer = bytearray()

    def _fill(self) -> bool:
        """Receive more; False at the end of the stream."""
        chunk = self._stream.recv(_RECEIVE)
        self._buffer += chunk
        return bool(chunk)

    def _take(self, size: int) -> bytes:
        taken = bytes(self._buffer[:size])
        del self._buffer[:size]
        return taken

    def readline(self, limit: int) -> bytes:
        """A line with its end, at most ``limit`` bytes of it, or what is left at the end."""
        searched = 0
        while (end := self._buffer.find(b"\n", searched, limit)) < 0:
            if len(self._buffer) >= limit:
                return self._take(limit)
            searched = len(self._buffer)
            if not self._fill():
                return self._take(len(self._buffer))
        return self._take(end + 1)

    def read(self, size: int) -> bytes:
        """``size`` bytes, or fewer when the stream ends first."""
        while len(self._buffer) < size and self._fill():
            pass
        return self._take(size)

    def read_all(self) -> bytes:
        while self._fill():
            pass
        return self._take(len(self._buffer))


class Connection:
    def __init__(self, host: str, port: int, timeout_s: float, wrap: Wrap | None = None) -> None:
        self.host, self.port, self._timeout, self._wrap = host, port, timeout_s, wrap
        self._socket: Any = None
        self._reader: _Reader | None = None

    @property
    def open(self) -> bool:
        return self._socket is not None

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = self._reader = None

    def _connect(self) -> _Reader:
        if self._reader is None:
            plain = connect(self.host, self.port, self._timeout)
            self._socket = self._wrap(plain, self.host) if self._wrap else plain
            self._reader = _Reader(self._socket)
        return self._reader

    def post(self, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        """Send the request and read the whole answer: (status, body). On any error (Ctrl-C
        included) the connection is closed: it is left mid-exchange, never to be reused."""
        try:
            return self._exchange(path, body, content_type)
        except BaseException:
            self.close()
            raise

    def _exchange(self, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        reader = self._connect()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Accept: application/json\r\n\r\n"
        )
        self._socket.sendall(head.encode("ascii") + body)
        status, headers = _read_head(reader)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = _read_chunked(reader)
        elif "content-length" in headers:
            data = _read_exactly(reader, int(headers["content-length"]))
        else:
            data, headers["connection"] = reader.read_all(), "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, data


def _line(reader: _Reader) -> bytes:
    line = reader.readline(MAX_HEAD + 1)
    if len(line) > MAX_HEAD:
        raise BadResponse("response header line too long")
    return line


def _read_head(reader: _Reader) -> tuple[int, dict[str, str]]:
    first = _line(reader)
    if not first:
        raise ConnectionClosed("the server closed the connection without answering")
    parts = first.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise BadResponse(f"not an HTTP response: {first[:40]!r}")
    headers: dict[str, str] = {}
    size = len(first)
    while (line := _line(reader)) not in (b"\r\n", b"\n", b""):
        size += len(line)
        if size > MAX_HEAD:
            raise BadResponse("response headers too long")
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def _read_exactly(reader: _Reader, size: int) -> bytes:
    data = reader.read(size)
    if len(data) != size:
        raise ConnectionClosed(f"the answer ended after {len(data)} of {size} bytes")
    return data


def _read_chunked(reader: _Reader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int(_line(reader).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while _line(reader) not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        chunks.append(_read_exactly(reader, size))
        _line(reader)  # the CRLF after each chunk
