"""A TLS endpoint in front of the agent gateway that answers garbage while a flag file exists
and relays bytes both ways untouched once it is removed (run as its own process by the tests:
``python -m tests.support.garbage_relay STATE_DIR UPSTREAM_PORT CERT KEY CA``).

It writes its port to ``STATE_DIR/port`` and appends the kind of each garbage answer it gives
to ``STATE_DIR/served``; ``STATE_DIR/broken`` present means broken.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from pathlib import Path

# Malformed answers, each a whole response; the agent's HTTP client met each of them as a
# ValueError or LimitOverrunError, which ended its heartbeat or fetch loop for good.
GARBAGE = {
    "content-length": b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n{}",
    "negative-length": b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n{}",
    "chunk-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "huge-headers": b"HTTP/1.1 200 OK\r\nX-Filler: " + b"a" * 200_000 + b"\r\n\r\n",
}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def main(state: Path, upstream: int, cert: str, key: str, ca: str) -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=ca)
    served = {kind: 0 for kind in GARBAGE}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            if (state / "broken").exists():
                await reader.readuntil(b"\r\n\r\n")
                kind = min(served, key=lambda k: served[k])  # each kind in turn
                served[kind] += 1
                writer.write(GARBAGE[kind])
                await writer.drain()
                with (state / "served").open("a") as log:
                    log.write(kind + "\n")
            else:
                up_reader, up_writer = await asyncio.open_connection(
                    "127.0.0.1", upstream, ssl=client_tls, server_hostname="127.0.0.1"
                )
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_tls)
    (state / "port").write_text(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    directory, port, cert_file, key_file, ca_file = sys.argv[1:6]
    asyncio.run(main(Path(directory), int(port), cert_file, key_file, ca_file))
