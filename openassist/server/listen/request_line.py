"""Raw non-ASCII bytes in a request line, as the official agent sends file, owner and group
names unescaped in its report queries (issue 14.2).

HTTP parsers refuse them (RFC 9112 allows only visible ASCII in the request target); the bytes
are percent-encoded before the parser sees them, which is exactly what a client should have
sent: the application then decodes them as UTF-8 like any escaped query.
"""

from __future__ import annotations

_ESCAPED = [b"%%%02X" % byte if byte >= 0x80 else bytes([byte]) for byte in range(256)]


def escape_request_line(data: bytes) -> tuple[bytes, bool]:
    """``data`` (the start of a request, or more of its first line) with every byte >= 0x80
    before the first line feed percent-encoded; and whether that line feed was in ``data``."""
    end = data.find(b"\n")
    line = data if end < 0 else data[:end]
    if line.isascii():
        return data, end >= 0
    escaped = b"".join(_ESCAPED[byte] for byte in line)
    return (escaped if end < 0 else escaped + data[end:]), end >= 0
