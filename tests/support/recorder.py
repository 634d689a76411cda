"""A recording TCP relay: what an attacker who sees a client's plain HTTP traffic keeps.

Every connection through the relay is forwarded to the target unchanged; the bytes the client
sent are kept, per connection, to be replayed later with ``replay``.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any


class Recorder:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sent: list[bytearray] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            record = bytearray()
            self.sent.append(record)
            threading.Thread(target=_pump, args=(client, upstream, record), daemon=True).start()
            threading.Thread(target=_pump, args=(upstream, client, None), daemon=True).start()

    def close(self) -> None:
        self._listener.close()


def _pump(source: socket.socket, sink: socket.socket, record: bytearray | None) -> None:
    try:
        while data := source.recv(65536):
            if record is not None:
                record.extend(data)
            sink.sendall(data)
    except OSError:
        pass
    finally:
        # Shutting down wakes the other direction's thread; closing here (twice is harmless)
        # leaves no socket for the garbage collector to warn about in a later test.
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


@contextmanager
def recording(target_port: int) -> Iterator[Recorder]:
    recorder = Recorder(target_port)
    try:
        yield recorder
    finally:
        recorder.close()


def replay(port: int, request: bytes) -> tuple[int, dict[str, Any]]:
    """Send recorded request bytes as they were; the HTTP status and the JSON answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        response = http.client.HTTPResponse(connection)
        response.begin()
        return response.status, json.loads(response.read())
